"""Court bookings: upsert, delete, read and list, with rules B1-B28 (checked in the order of A4)."""

from collections.abc import Mapping
from typing import Any

from mock_server.clock import Clock
from mock_server.instants import instant
from mock_server.violations import RuleViolation
from mock_server.wingfield.models import Booking, BookingKey, BookingQuery, Participant, Tombstone
from mock_server.wingfield.rules.access import accessible_court, require_user_access
from mock_server.wingfield.store.base import Store


def read_participants(raw: list[Mapping[str, str]]) -> tuple[Participant, ...]:
    """B9, B10, B11: exactly one of userId/email, no repeats after lowercasing, e-mails lowercased."""
    participants = []
    for index, entry in enumerate(raw):
        user_id, email = entry.get("userId"), entry.get("email")
        if (user_id is None) == (email is None):
            raise RuleViolation(
                "mutually_exclusive_fields_violation",
                f"participants[{index}] must have exactly one of userId and email",
            )
        participants.append(Participant(user_id=user_id) if user_id is not None else Participant(email=email.lower()))
    if len(set(participants)) != len(participants):
        raise RuleViolation(
            "duplicate_entries_provided", "participants repeat a userId or an e-mail (compared lowercased)"
        )
    return tuple(participants)


class CourtBookings:
    def __init__(self, store: Store, clock: Clock) -> None:
        self.store = store
        self.clock = clock

    def upsert(self, service_id: str, external_id: str, body: Mapping[str, Any]) -> Booking:
        # Request shape (A4: 400 before 404/403, before 409).
        participants = read_participants(body["participants"])
        start = instant(body["startDate"], ["body", "startDate"])
        end = instant(body["endDate"], ["body", "endDate"])
        version = instant(body["externalUpdatedAt"], ["body", "externalUpdatedAt"])
        if not start < end:
            raise RuleViolation("invalid_time_range", "startDate must be strictly before endDate")
        # Resources (B15, B16).
        court = accessible_court(self.store, service_id, body["courtId"])
        for participant in participants:
            if participant.user_id:
                require_user_access(self.store, service_id, participant.user_id)
        # Versions (B2-B5, B21).
        key: BookingKey = (service_id, external_id)
        stored = self.store.booking_record(key)
        if isinstance(stored, Tombstone) and version <= stored.external_updated_at:
            raise RuleViolation("stale_write", "the booking was deleted at this or a later externalUpdatedAt")
        if isinstance(stored, Booking):
            if version < stored.external_updated_at:
                raise RuleViolation("stale_write", "externalUpdatedAt is older than the stored one")
            if version == stored.external_updated_at:
                if stored.has_payload(court.id, start, end, participants):
                    return stored  # B3: idempotent repeat, nothing changes
                raise RuleViolation("version_conflict", "same externalUpdatedAt as stored, but a different payload")
            # B5: replaced; createdAt and the internal id stay, updatedAt always moves forward.
            created_at, updated_at, seq = stored.created_at, self.clock.now_after(stored.updated_at), stored.seq
        else:
            created_at = updated_at = self.clock.now()
            seq = self.store.next_booking_seq()
        # Overlap (B13, B14): half-open, any service, never with itself; the error reveals nothing.
        if self.store.find_overlap(court.id, start, end, exclude=key) is not None:
            raise RuleViolation("court_booking_overlap", "the court is already booked for part of this time")
        booking = Booking(
            service_id, external_id, court.id, start, end, version, participants, created_at, updated_at, seq
        )
        self.store.put_booking(booking)
        return booking

    def delete(self, service_id: str, external_id: str, external_updated_at: str) -> None:
        version = instant(external_updated_at, ["query", "externalUpdatedAt"])
        key: BookingKey = (service_id, external_id)
        stored = self.store.booking_record(key)
        if isinstance(stored, Booking) and version < stored.external_updated_at:
            raise RuleViolation(
                "stale_write", "externalUpdatedAt is older than the stored one; the booking stays"
            )  # B18
        if isinstance(stored, Tombstone) and version <= stored.external_updated_at:
            return  # B19: a repeat; the tombstone keeps the newest delete
        self.store.put_tombstone(Tombstone(service_id, external_id, version))  # B17, B19, B21

    def get(self, service_id: str, external_id: str) -> Booking:
        stored = self.store.booking_record((service_id, external_id))
        if not isinstance(stored, Booking):
            raise RuleViolation("court_booking_not_found", f"no booking with external id {external_id!r}")  # B20
        return stored

    def list(self, service_id: str, params: Mapping[str, Any]) -> tuple[list[Booking], int]:
        query = self.query(params)
        return self.store.query_bookings(service_id, query)

    @staticmethod
    def query(params: Mapping[str, Any]) -> BookingQuery:
        """B24-B26: the paging is already validated by the spec; the bounds are checked here."""
        bounds = {
            name: instant(params[name], ["query", name])
            for name in ("from", "to", "updatedFrom", "updatedTo")
            if params.get(name) is not None
        }
        if "from" in bounds and "to" in bounds and bounds["from"] > bounds["to"]:
            raise RuleViolation("invalid_filter_time_range", "'from' must not be after 'to'")
        if "updatedFrom" in bounds and "updatedTo" in bounds and bounds["updatedFrom"] > bounds["updatedTo"]:
            raise RuleViolation("invalid_updated_filter_time_range", "'updatedFrom' must not be after 'updatedTo'")
        participants = []
        if params.get("participantUserId") is not None:
            participants.append(Participant(user_id=params["participantUserId"]))
        if params.get("participantEmail") is not None:
            participants.append(Participant(email=params["participantEmail"].lower()))
        return BookingQuery(
            offset=params.get("offset", 0),
            limit=params.get("limit", 50),
            court_id=params.get("courtId"),
            external_id=params.get("externalCourtBookingId"),
            participants=tuple(participants),
            overlaps_from=bounds.get("from"),
            overlaps_to=bounds.get("to"),
            updated_from=bounds.get("updatedFrom"),
            updated_to=bounds.get("updatedTo"),
        )
