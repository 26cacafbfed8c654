"""The rules of decisions.md at domain level: no HTTP, a store built from the default world, a clock we control."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bookingkit.files import DEFAULT_WORLD
from mock_server.clock import Clock
from mock_server.timestamps import WORLD_INSTANT, parse_instant
from mock_server.violations import RuleViolation
from mock_server.wingfield.models import (
    ApiToken,
    Booking,
    Court,
    CourtMapping,
    ExternalService,
    Facility,
    Organization,
    OrganizationRelation,
    Participant,
    Tombstone,
)
from mock_server.wingfield.rules.access import (
    accessible_court,
    authenticate,
    require_own_service,
    require_scope,
    require_user_access,
)
from mock_server.wingfield.rules.bookings import CourtBookings, read_participants
from mock_server.wingfield.rules.courts import CourtMappings, Courts
from mock_server.wingfield.store.memory import MemoryStore
from mock_server.world import load_world

from .conftest import COURT, COURT_2, COURT_NOT_GRANTED, OTHER_SERVICE, SERVICE, TOKENS, USERS

# Ids of fixtures/default.yaml that the target profile does not name.
COURT_3 = "1a2b3c4d-5e6f-4a1b-8c2d-3e4f5a6b7c8d"
FACILITY = "5f9c1d7e-2b4a-4c1e-9d3f-8a6b7c5d4e3f"
FACILITY_NOT_GRANTED = "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d"
USER_PENDING = "6d7e8f90-1a2b-4c3d-9e4f-5a6b7c8d9e0f"
USER_REJECTED = "8f9a0b1c-2d3e-4f5a-8b6c-7d8e9f0a1b2c"
UNKNOWN_ID = "00000000-0000-4000-8000-000000000000"
T0 = datetime(2030, 6, 1, 12, 0, tzinfo=UTC)
TICK = timedelta(microseconds=1)


class FakeClock(Clock):
    """A clock that moves only when told to (whatever else `Clock` offers is inherited)."""

    def __init__(self, start: datetime = T0) -> None:
        self.current = start

    def now(self) -> datetime:
        return self.current

    def advance(self, **delta: float) -> None:
        self.current += timedelta(**delta)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def store(clock: FakeClock) -> MemoryStore:
    return load_world(DEFAULT_WORLD).wingfield


@pytest.fixture
def bookings(store: MemoryStore, clock: FakeClock) -> CourtBookings:
    return CourtBookings(store, clock)


@pytest.fixture
def mappings(store: MemoryStore, clock: FakeClock) -> CourtMappings:
    return CourtMappings(store, clock)


def body(**fields: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "courtId": COURT,
        "startDate": "2031-05-01T10:00:00Z",
        "endDate": "2031-05-01T11:00:00Z",
        "externalUpdatedAt": "2031-01-01T00:00:00Z",
        "participants": [{"userId": USERS["related"]}, {"email": "Guest@Example.com"}],
    }
    data.update(fields)
    return data


def violation(call: Any, *args: Any) -> RuleViolation:
    with pytest.raises(RuleViolation) as caught:
        call(*args)
    return caught.value


def kind_of(call: Any, *args: Any) -> str:
    return violation(call, *args).kind


def ids(found: list[Booking]) -> list[str]:
    return [b.external_id for b in found]


# -- B2-B7: versions -------------------------------------------------------------------------------


def test_B1_upsert_creates_booking_with_created_equal_updated(bookings, store, clock):
    booking = bookings.upsert(SERVICE, "b1", body())
    assert booking.key == (SERVICE, "b1") and booking.court_id == COURT
    assert booking.created_at == booking.updated_at == clock.now()
    assert booking.start == parse_instant("2031-05-01T10:00:00Z")
    assert store.booking_record((SERVICE, "b1")) == booking
    assert bookings.get(SERVICE, "b1") == booking


def test_B2_older_upsert_is_stale_write_and_changes_nothing(bookings, store, clock):
    stored = bookings.upsert(SERVICE, "b2", body(externalUpdatedAt="2031-01-02T00:00:00Z"))
    clock.advance(minutes=1)
    older = body(externalUpdatedAt="2031-01-01T23:59:59.999999Z", endDate="2031-05-01T12:00:00Z")
    assert kind_of(bookings.upsert, SERVICE, "b2", older) == "stale_write"
    assert store.booking_record((SERVICE, "b2")) == stored


def test_B2_stale_write_is_checked_before_overlap(bookings):
    bookings.upsert(SERVICE, "b2-a", body(externalUpdatedAt="2031-01-02T00:00:00Z"))
    bookings.upsert(SERVICE, "b2-b", body(startDate="2031-05-01T11:00:00Z", endDate="2031-05-01T12:00:00Z"))
    late = body(
        externalUpdatedAt="2031-01-01T00:00:00Z", startDate="2031-05-01T11:30:00Z", endDate="2031-05-01T13:00:00Z"
    )
    assert kind_of(bookings.upsert, SERVICE, "b2-a", late) == "stale_write"


def test_B3_equal_version_and_payload_is_idempotent(bookings, store, clock):
    first = bookings.upsert(SERVICE, "b3", body())
    clock.advance(hours=1)
    again = bookings.upsert(SERVICE, "b3", body())
    assert again == first
    assert again.updated_at == first.updated_at == T0
    assert store.booking_record((SERVICE, "b3")) == first


def test_B4_equal_version_with_other_court_is_version_conflict(bookings, store):
    stored = bookings.upsert(SERVICE, "b4", body())
    assert kind_of(bookings.upsert, SERVICE, "b4", body(courtId=COURT_2)) == "version_conflict"
    assert store.booking_record((SERVICE, "b4")) == stored


@pytest.mark.parametrize(
    "change",
    [
        {"startDate": "2031-05-01T09:59:59Z"},
        {"endDate": "2031-05-01T11:00:00.000001Z"},
        {"participants": [{"userId": USERS["related"]}]},
        {"participants": [{"userId": USERS["related"]}, {"email": "other@example.com"}]},
        {"participants": [{"userId": USERS["related"]}, {"email": "guest@example.com"}, {"email": "x@example.com"}]},
    ],
)
def test_B4_equal_version_with_changed_payload_is_version_conflict(bookings, store, change):
    stored = bookings.upsert(SERVICE, "b4", body())
    assert kind_of(bookings.upsert, SERVICE, "b4", body(**change)) == "version_conflict"
    assert store.booking_record((SERVICE, "b4")) == stored


def test_B5_newer_upsert_replaces_booking_keeping_createdAt(bookings, store, clock):
    first = bookings.upsert(SERVICE, "b5", body())
    clock.advance(minutes=5)
    second = bookings.upsert(
        SERVICE,
        "b5",
        body(externalUpdatedAt="2031-01-02T00:00:00Z", courtId=COURT_2, participants=[{"email": "New@Example.com"}]),
    )
    assert second.court_id == COURT_2 and second.participants == (Participant(email="new@example.com"),)
    assert second.external_updated_at == parse_instant("2031-01-02T00:00:00Z")
    assert second.created_at == first.created_at == T0
    assert second.updated_at == T0 + timedelta(minutes=5)
    assert second.seq == first.seq
    assert store.booking_record((SERVICE, "b5")) == second


def test_B5_updatedAt_moves_forward_when_the_clock_does_not(bookings):
    first = bookings.upsert(SERVICE, "b5", body())
    second = bookings.upsert(SERVICE, "b5", body(externalUpdatedAt="2031-01-02T00:00:00Z"))
    third = bookings.upsert(SERVICE, "b5", body(externalUpdatedAt="2031-01-03T00:00:00Z"))
    assert first.updated_at < second.updated_at < third.updated_at
    assert second.updated_at == first.updated_at + TICK and third.updated_at == first.updated_at + 2 * TICK
    assert third.created_at == first.created_at


def test_B5_updatedAt_moves_forward_when_the_clock_goes_back(bookings, clock):
    first = bookings.upsert(SERVICE, "b5", body())
    clock.advance(hours=-1)
    second = bookings.upsert(SERVICE, "b5", body(externalUpdatedAt="2031-01-02T00:00:00Z"))
    assert second.updated_at == first.updated_at + TICK
    assert second.created_at == first.created_at


@pytest.mark.parametrize(
    "same_instant",
    ["2031-01-01T00:00:00.000Z", "2031-01-01T01:00:00+01:00", "2030-12-31T19:00:00-05:00", "2031-01-01t00:00:00z"],
)
def test_B6_externalUpdatedAt_compares_as_instant(bookings, clock, same_instant):
    first = bookings.upsert(SERVICE, "b6", body())
    clock.advance(minutes=1)
    assert bookings.upsert(SERVICE, "b6", body(externalUpdatedAt=same_instant)) == first
    # One microsecond earlier, written with another offset, is older.
    older = "2031-01-01T00:59:59.999999+01:00"
    assert kind_of(bookings.upsert, SERVICE, "b6", body(externalUpdatedAt=older)) == "stale_write"


def test_B6_dates_compare_as_instants_in_payload(bookings):
    first = bookings.upsert(SERVICE, "b6", body())
    shifted = body(startDate="2031-05-01T12:00:00+02:00", endDate="2031-05-01T06:00:00.000-05:00")
    assert bookings.upsert(SERVICE, "b6", shifted) == first


def test_B7_participants_compare_as_a_set_after_lowercasing(bookings):
    first = bookings.upsert(SERVICE, "b7", body())
    reordered = body(participants=[{"email": "GUEST@example.COM"}, {"userId": USERS["related"]}])
    assert bookings.upsert(SERVICE, "b7", reordered) == first


# -- B9-B12: request shape -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "entry", [{"userId": USERS["related"], "email": "a@example.com"}, {}, {"userId": None, "email": None}]
)
def test_B9_participant_needs_exactly_one_of_userId_and_email(bookings, entry):
    participants = [{"email": "ok@example.com"}, entry]
    error = violation(bookings.upsert, SERVICE, "b9", body(participants=participants))
    assert error.kind == "mutually_exclusive_fields_violation"
    assert "participants[1]" in error.message


@pytest.mark.parametrize(
    "participants",
    [
        [{"userId": USERS["related"]}, {"userId": USERS["related"]}],
        [{"email": "dup@example.com"}, {"email": "DUP@Example.Com"}],
        [{"email": "a@example.com"}, {"email": "b@example.com"}, {"email": "a@example.com"}],
    ],
)
def test_B10_duplicate_participants(bookings, store, participants):
    assert kind_of(bookings.upsert, SERVICE, "b10", body(participants=participants)) == "duplicate_entries_provided"
    assert store.booking_record((SERVICE, "b10")) is None


def test_B10_same_text_as_userId_and_email_is_no_duplicate():
    assert read_participants([{"userId": "x@example.com"}, {"email": "x@example.com"}]) == (
        Participant(user_id="x@example.com"),
        Participant(email="x@example.com"),
    )


def test_B11_email_is_stored_lowercased(bookings, store):
    booking = bookings.upsert(SERVICE, "b11", body(participants=[{"email": "MiXeD.Case@Example.COM"}]))
    assert booking.participants == (Participant(email="mixed.case@example.com"),)
    assert store.booking_record((SERVICE, "b11")).participants == booking.participants


@pytest.mark.parametrize(
    ("start", "end"),
    [
        ("2031-05-01T10:00:00Z", "2031-05-01T10:00:00Z"),
        ("2031-05-01T11:00:00Z", "2031-05-01T10:00:00Z"),
        ("2031-05-01T12:00:00+02:00", "2031-05-01T10:00:00Z"),  # equal instants, different text
        ("2031-05-01T10:00:00.000001Z", "2031-05-01T10:00:00Z"),
    ],
)
def test_B12_start_must_be_strictly_before_end(bookings, store, start, end):
    assert kind_of(bookings.upsert, SERVICE, "b12", body(startDate=start, endDate=end)) == "invalid_time_range"
    assert store.booking_record((SERVICE, "b12")) is None


def test_B12_one_microsecond_is_a_valid_range(bookings):
    booking = bookings.upsert(SERVICE, "b12", body(endDate="2031-05-01T10:00:00.000001Z"))
    assert booking.end - booking.start == TICK


@pytest.mark.parametrize("field", ["startDate", "endDate", "externalUpdatedAt"])
def test_unrepresentable_instant_is_invalid_schema_naming_the_field(bookings, field):
    error = violation(bookings.upsert, SERVICE, "bad", body(**{field: "0001-01-01T00:00:00+01:00"}))
    assert error.kind == "invalid_schema"
    assert [issue["path"] for issue in error.issues] == [["body", field]]


def test_A4_request_shape_is_checked_before_court_and_versions(bookings):
    bookings.upsert(SERVICE, "a4", body(externalUpdatedAt="2031-01-02T00:00:00Z"))
    bad = body(courtId=UNKNOWN_ID, externalUpdatedAt="2031-01-01T00:00:00Z", endDate="2031-05-01T09:00:00Z")
    assert kind_of(bookings.upsert, SERVICE, "a4", bad) == "invalid_time_range"
    bad = body(courtId=UNKNOWN_ID, externalUpdatedAt="2031-01-01T00:00:00Z")
    assert kind_of(bookings.upsert, SERVICE, "a4", bad) == "court_not_found"


# -- B13, B14: overlap -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "end"),
    [
        ("10:00:00", "11:00:00"),  # the same slot
        ("09:00:00", "10:00:00.000001"),  # one microsecond into it
        ("10:59:59.999999", "12:00:00"),  # one microsecond before its end
        ("10:15:00", "10:45:00"),  # inside
        ("09:00:00", "12:00:00"),  # around
        ("09:30:00", "10:30:00"),
        ("10:30:00", "11:30:00"),
    ],
)
def test_B13_overlap_on_the_same_court_is_refused(bookings, store, start, end):
    bookings.upsert(SERVICE, "b13-a", body())
    new = body(startDate=f"2031-05-01T{start}Z", endDate=f"2031-05-01T{end}Z")
    assert kind_of(bookings.upsert, SERVICE, "b13-b", new) == "court_booking_overlap"
    assert store.booking_record((SERVICE, "b13-b")) is None


def test_B13_touching_bookings_are_accepted_on_both_sides(bookings):
    bookings.upsert(SERVICE, "mid", body())
    bookings.upsert(SERVICE, "before", body(startDate="2031-05-01T09:00:00Z", endDate="2031-05-01T10:00:00Z"))
    bookings.upsert(SERVICE, "after", body(startDate="2031-05-01T11:00:00+00:00", endDate="2031-05-01T13:00:00+01:00"))
    listed, total = bookings.list(SERVICE, {"courtId": COURT, "from": "2031-01-01T00:00:00Z"})
    assert sorted(ids(listed)) == ["after", "before", "mid"] and total == 3


def test_B13_overlap_on_another_court_is_no_conflict(bookings):
    bookings.upsert(SERVICE, "c1", body())
    assert bookings.upsert(SERVICE, "c2", body(courtId=COURT_2)).court_id == COURT_2


def test_B14_overlap_with_another_services_booking_reveals_nothing(bookings, store):
    # other-seed-1 of the other service holds COURT on 2020-03-02 11:00-12:00.
    new = body(startDate="2020-03-02T11:30:00Z", endDate="2020-03-02T12:30:00Z", participants=[{"email": "a@b.c"}])
    error = violation(bookings.upsert, SERVICE, "b14", new)
    assert error.kind == "court_booking_overlap"
    assert "other-seed-1" not in error.message and OTHER_SERVICE not in error.message and error.issues is None
    assert store.booking_record((SERVICE, "b14")) is None


def test_B14_a_booking_never_overlaps_itself(bookings):
    bookings.upsert(SERVICE, "b14", body())
    moved = bookings.upsert(
        SERVICE, "b14", body(externalUpdatedAt="2031-01-02T00:00:00Z", startDate="2031-05-01T10:30:00Z")
    )
    assert moved.start == parse_instant("2031-05-01T10:30:00Z")


def test_B14_a_deleted_booking_does_not_block_the_court(bookings):
    bookings.upsert(SERVICE, "gone", body())
    bookings.delete(SERVICE, "gone", "2031-01-02T00:00:00Z")
    assert bookings.upsert(SERVICE, "new", body()).external_id == "new"


def test_B14_moving_a_booking_to_another_court_frees_the_old_slot(bookings):
    bookings.upsert(SERVICE, "mover", body())
    bookings.upsert(SERVICE, "mover", body(externalUpdatedAt="2031-01-02T00:00:00Z", courtId=COURT_2))
    assert bookings.upsert(SERVICE, "taker", body()).court_id == COURT
    blocked = body(participants=[{"email": "x@example.com"}], courtId=COURT_2)
    assert kind_of(bookings.upsert, SERVICE, "blocked", blocked) == "court_booking_overlap"


def test_B14_refused_update_leaves_the_booking_where_it_was(bookings, store):
    stay = bookings.upsert(SERVICE, "stay", body())
    bookings.upsert(SERVICE, "other", body(startDate="2031-05-01T12:00:00Z", endDate="2031-05-01T13:00:00Z"))
    moved = body(externalUpdatedAt="2031-01-02T00:00:00Z", endDate="2031-05-01T12:30:00Z")
    assert kind_of(bookings.upsert, SERVICE, "stay", moved) == "court_booking_overlap"
    assert store.booking_record((SERVICE, "stay")) == stay
    # The slot it holds is still protected.
    assert kind_of(bookings.upsert, SERVICE, "third", body()) == "court_booking_overlap"


# -- B15, B16: access to courts and users ----------------------------------------------------------


def test_B15_accessible_court(store):
    court = accessible_court(store, SERVICE, COURT)
    assert isinstance(court, Court) and court.id == COURT
    assert kind_of(accessible_court, store, SERVICE, UNKNOWN_ID) == "court_not_found"
    assert kind_of(accessible_court, store, SERVICE, COURT_NOT_GRANTED) == "organization_access_denied"
    # The other service has a relation with that organization.
    assert accessible_court(store, OTHER_SERVICE, COURT_NOT_GRANTED).id == COURT_NOT_GRANTED


def test_B15_court_whose_facility_is_missing_is_access_denied():
    store = MemoryStore()
    store.add_court(Court("c", "no-such-facility", "Court", True))
    assert kind_of(accessible_court, store, SERVICE, "c") == "organization_access_denied"


@pytest.mark.parametrize(
    ("court", "kind"), [(UNKNOWN_ID, "court_not_found"), (COURT_NOT_GRANTED, "organization_access_denied")]
)
def test_B15_upsert_on_inaccessible_court(bookings, store, court, kind):
    assert kind_of(bookings.upsert, SERVICE, "b15", body(courtId=court)) == kind
    assert store.booking_record((SERVICE, "b15")) is None


@pytest.mark.parametrize("user", [USERS["related"], USERS["managed"]])
def test_B16_accepted_or_managed_user_may_take_part(bookings, store, user):
    require_user_access(store, SERVICE, user)
    booking = bookings.upsert(SERVICE, "b16", body(participants=[{"userId": user}]))
    assert booking.participants == (Participant(user_id=user),)


@pytest.mark.parametrize("user", [USER_PENDING, USER_REJECTED, USERS["unrelated"], UNKNOWN_ID])
def test_B16_user_without_accepted_relation_is_denied(bookings, store, user):
    assert kind_of(require_user_access, store, SERVICE, user) == "user_access_denied"
    participants = [{"email": "ok@example.com"}, {"userId": user}]
    assert kind_of(bookings.upsert, SERVICE, "b16", body(participants=participants)) == "user_access_denied"
    assert store.booking_record((SERVICE, "b16")) is None


def test_B16_relations_and_managed_users_belong_to_one_service(store):
    # Dev is ACCEPTED by the other service only; Eva was created by the demo service.
    require_user_access(store, OTHER_SERVICE, USERS["unrelated"])
    assert kind_of(require_user_access, store, OTHER_SERVICE, USERS["managed"]) == "user_access_denied"
    assert kind_of(require_user_access, store, OTHER_SERVICE, USERS["related"]) == "user_access_denied"


# -- B17-B21: delete and tombstones ----------------------------------------------------------------


def test_B17_delete_of_missing_booking_succeeds_and_leaves_tombstone(bookings, store):
    assert bookings.delete(SERVICE, "never", "2031-01-01T00:00:00Z") is None
    assert store.booking_record((SERVICE, "never")) == Tombstone(
        SERVICE, "never", parse_instant("2031-01-01T00:00:00Z")
    )


def test_B18_older_delete_is_stale_write_and_booking_stays(bookings, store):
    stored = bookings.upsert(SERVICE, "b18", body(externalUpdatedAt="2031-01-02T00:00:00Z"))
    assert kind_of(bookings.delete, SERVICE, "b18", "2031-01-01T23:59:59Z") == "stale_write"
    assert store.booking_record((SERVICE, "b18")) == stored
    assert bookings.get(SERVICE, "b18") == stored


@pytest.mark.parametrize("version", ["2031-01-01T00:00:00Z", "2031-01-01T01:00:00+01:00", "2031-01-05T00:00:00Z"])
def test_B19_delete_with_same_or_newer_version_and_repeat(bookings, store, version):
    bookings.upsert(SERVICE, "b19", body())
    assert bookings.delete(SERVICE, "b19", version) is None
    assert bookings.delete(SERVICE, "b19", version) is None
    assert store.booking_record((SERVICE, "b19")) == Tombstone(SERVICE, "b19", parse_instant(version))


def test_B19_tombstone_keeps_the_newest_delete(bookings, store):
    bookings.delete(SERVICE, "b19", "2031-01-05T00:00:00Z")
    bookings.delete(SERVICE, "b19", "2031-01-01T00:00:00Z")  # an older repeat: still 200
    assert store.booking_record((SERVICE, "b19")).external_updated_at == parse_instant("2031-01-05T00:00:00Z")
    bookings.delete(SERVICE, "b19", "2031-01-09T00:00:00Z")
    assert store.booking_record((SERVICE, "b19")).external_updated_at == parse_instant("2031-01-09T00:00:00Z")


def test_B20_deleted_booking_is_not_found_and_not_listed(bookings):
    bookings.upsert(SERVICE, "b20", body())
    bookings.delete(SERVICE, "b20", "2031-01-01T00:00:00Z")
    assert kind_of(bookings.get, SERVICE, "b20") == "court_booking_not_found"
    assert "b20" not in ids(bookings.list(SERVICE, {})[0])
    assert bookings.list(SERVICE, {"externalCourtBookingId": "b20"}) == ([], 0)
    assert bookings.list(SERVICE, {"participantUserId": USERS["related"], "from": "2031-01-01T00:00:00Z"}) == ([], 0)
    assert bookings.list(SERVICE, {"courtId": COURT, "from": "2031-01-01T00:00:00Z"}) == ([], 0)


def test_B20_get_of_unknown_booking_is_not_found(bookings):
    assert kind_of(bookings.get, SERVICE, "nope") == "court_booking_not_found"


@pytest.mark.parametrize(
    "version", ["2031-01-02T00:00:00Z", "2031-01-01T23:59:59.999999Z", "2031-01-02T01:00:00+01:00"]
)
def test_B21_tombstone_refuses_late_upsert(bookings, store, version):
    bookings.upsert(SERVICE, "b21", body())
    bookings.delete(SERVICE, "b21", "2031-01-02T00:00:00Z")
    assert kind_of(bookings.upsert, SERVICE, "b21", body(externalUpdatedAt=version)) == "stale_write"
    assert isinstance(store.booking_record((SERVICE, "b21")), Tombstone)


def test_B21_newer_upsert_after_delete_creates_booking_again(bookings, clock):
    first = bookings.upsert(SERVICE, "b21", body())
    bookings.delete(SERVICE, "b21", "2031-01-02T00:00:00Z")
    clock.advance(minutes=3)
    again = bookings.upsert(SERVICE, "b21", body(externalUpdatedAt="2031-01-02T00:00:00.000001Z"))
    assert again.created_at == again.updated_at == T0 + timedelta(minutes=3)
    assert again.seq > first.seq
    assert bookings.get(SERVICE, "b21") == again


def test_B21_delete_of_never_existing_booking_refuses_older_upsert(bookings):
    bookings.delete(SERVICE, "b21", "2031-01-02T00:00:00Z")
    assert kind_of(bookings.upsert, SERVICE, "b21", body()) == "stale_write"
    assert bookings.upsert(SERVICE, "b21", body(externalUpdatedAt="2031-01-03T00:00:00Z")).external_id == "b21"


def test_B21_tombstone_of_one_service_does_not_affect_another(bookings):
    bookings.delete(SERVICE, "shared-id", "2031-01-02T00:00:00Z")
    other = bookings.upsert(OTHER_SERVICE, "shared-id", body(courtId=COURT_2, participants=[{"email": "a@b.c"}]))
    assert other.key == (OTHER_SERVICE, "shared-id")


# -- B23-B26: list ---------------------------------------------------------------------------------


def test_B23_list_orders_by_updatedAt_desc_then_internal_id(bookings, clock):
    # Seeds were written at WORLD_INSTANT in file order: demo-seed-1, demo-seed-2 (other-seed-1 is the other
    # service's); x, y, z share T0, so seq breaks their ties.
    for name in ("x", "y", "z"):
        bookings.upsert(
            SERVICE,
            name,
            body(
                courtId=COURT_3,
                startDate=f"2031-05-0{'xyz'.index(name) + 1}T10:00:00Z",
                endDate=f"2031-05-0{'xyz'.index(name) + 1}T11:00:00Z",
            ),
        )
    clock.advance(seconds=1)
    bookings.upsert(
        SERVICE,
        "y",
        body(
            courtId=COURT_3,
            externalUpdatedAt="2031-01-02T00:00:00Z",
            startDate="2031-05-02T10:00:00Z",
            endDate="2031-05-02T11:00:00Z",
        ),
    )
    listed, total = bookings.list(SERVICE, {})
    assert ids(listed) == ["y", "x", "z", "demo-seed-1", "demo-seed-2"] and total == 5
    assert [b.updated_at for b in listed] == sorted((b.updated_at for b in listed), reverse=True)


def test_B23_B24_paging_and_totalCount(bookings, clock):
    for n in range(7):
        clock.advance(seconds=1)
        bookings.upsert(
            SERVICE, f"p{n}", body(startDate=f"2031-06-0{n + 1}T10:00:00Z", endDate=f"2031-06-0{n + 1}T11:00:00Z")
        )
    everything = ["p6", "p5", "p4", "p3", "p2", "p1", "p0", "demo-seed-1", "demo-seed-2"]
    assert ids(bookings.list(SERVICE, {})[0]) == everything
    page, total = bookings.list(SERVICE, {"offset": 2, "limit": 3})
    assert ids(page) == everything[2:5] and total == 9
    page, total = bookings.list(SERVICE, {"offset": 8, "limit": 100})
    assert ids(page) == everything[8:] and total == 9
    assert bookings.list(SERVICE, {"offset": 9}) == ([], 9)
    page, total = bookings.list(SERVICE, {"courtId": COURT, "offset": 1, "limit": 2})
    assert ids(page) == ["p5", "p4"] and total == 8


def test_B25_list_filters(bookings, clock):
    clock.advance(minutes=1)
    bookings.upsert(SERVICE, "f1", body(participants=[{"email": "Pat@Example.com"}, {"userId": USERS["managed"]}]))
    clock.advance(minutes=1)
    bookings.upsert(SERVICE, "f2", body(courtId=COURT_2, participants=[{"email": "pat@example.com"}]))
    clock.advance(minutes=1)
    bookings.upsert(OTHER_SERVICE, "f3", body(courtId=COURT_3, participants=[{"email": "pat@example.com"}]))

    def listed(**params: Any) -> list[str]:
        found, total = bookings.list(SERVICE, params)
        assert total == len(found)
        return ids(found)

    assert listed(courtId=COURT) == ["f1", "demo-seed-1"]
    assert listed(courtId=COURT_3) == []  # f3 is the other service's
    assert listed(externalCourtBookingId="f2") == ["f2"]
    assert listed(externalCourtBookingId="f3") == []
    assert listed(participantEmail="PAT@example.COM") == ["f2", "f1"]
    assert listed(participantUserId=USERS["managed"]) == ["f1", "demo-seed-2"]
    assert listed(participantUserId=USERS["managed"], participantEmail="pat@example.com") == ["f1"]
    assert listed(participantUserId=USERS["related"]) == ["demo-seed-1"]
    # from/to keep bookings overlapping [from, to): f1 and f2 are 2031-05-01 10:00-11:00.
    assert listed(**{"from": "2031-05-01T11:00:00Z"}) == []
    assert listed(**{"from": "2031-05-01T10:59:59.999999Z"}) == ["f2", "f1"]
    assert listed(to="2031-05-01T10:00:00Z") == ["demo-seed-1", "demo-seed-2"]
    assert listed(**{"from": "2020-03-02T11:00:00Z", "to": "2031-05-01T10:00:00.000001Z"}) == [
        "f2",
        "f1",
        "demo-seed-2",
    ]
    # updatedFrom/updatedTo are inclusive.
    minute = timedelta(minutes=1)
    stamp = (T0 + minute).isoformat()
    assert listed(updatedFrom=stamp) == ["f2", "f1"]
    assert listed(updatedTo=stamp) == ["f1", "demo-seed-1", "demo-seed-2"]
    assert listed(updatedFrom=stamp, updatedTo=stamp) == ["f1"]
    assert listed(updatedFrom=(T0 + 3 * minute).isoformat()) == []
    assert listed(updatedFrom=stamp, courtId=COURT_2) == ["f2"]


@pytest.mark.parametrize(
    ("params", "kind"),
    [
        ({"from": "2031-01-01T00:00:01Z", "to": "2031-01-01T00:00:00Z"}, "invalid_filter_time_range"),
        ({"from": "2031-01-01T01:00:00+00:00", "to": "2031-01-01T01:30:00+01:00"}, "invalid_filter_time_range"),
        (
            {"updatedFrom": "2031-01-01T00:00:01Z", "updatedTo": "2031-01-01T00:00:00Z"},
            "invalid_updated_filter_time_range",
        ),
        ({"from": "yesterday"}, "invalid_schema"),
        ({"updatedTo": "9999-12-31T23:59:59-01:00"}, "invalid_schema"),
    ],
)
def test_B26_inverted_or_bad_bounds_are_refused(bookings, params, kind):
    assert kind_of(bookings.list, SERVICE, params) == kind


def test_B26_equal_bounds_are_allowed(bookings):
    same = "2031-01-01T00:00:00Z"
    other_form = "2031-01-01T01:00:00+01:00"
    assert bookings.list(SERVICE, {"from": same, "to": other_form}) == ([], 0)
    assert bookings.list(SERVICE, {"updatedFrom": same, "updatedTo": other_form}) == ([], 0)


def test_B26_query_builds_instants_and_lowercases_email():
    query = CourtBookings.query({"participantEmail": "A@B.C", "from": "2031-01-01T01:00:00+01:00", "limit": 7})
    assert query.participants == (Participant(email="a@b.c"),)
    assert query.overlaps_from == datetime(2031, 1, 1, tzinfo=UTC) and query.overlaps_to is None
    assert (query.offset, query.limit) == (0, 7)


def test_B27_bookings_of_another_service_are_invisible(bookings):
    bookings.upsert(OTHER_SERVICE, "mine", body(participants=[{"email": "a@b.c"}]))
    assert kind_of(bookings.get, SERVICE, "mine") == "court_booking_not_found"
    assert "other-seed-1" not in ids(bookings.list(SERVICE, {})[0])
    assert ids(bookings.list(OTHER_SERVICE, {})[0]) == ["mine", "other-seed-1"]
    require_own_service(ApiToken("t", SERVICE, {}), SERVICE)
    assert kind_of(require_own_service, ApiToken("t", SERVICE, {}), OTHER_SERVICE) == "external_service_access_denied"


# -- A1, A2: tokens and scopes ---------------------------------------------------------------------


@pytest.mark.parametrize("value", [None, ""])
def test_A1_missing_token(store, value):
    assert kind_of(authenticate, store, value, T0) == "missing_api_token"


@pytest.mark.parametrize("value", ["tok_unknown", TOKENS["expired"], "tok_ext_v1_demo.revoked", TOKENS["write"] + " "])
def test_A1_unknown_revoked_or_expired_token(store, value):
    assert kind_of(authenticate, store, value, T0) == "invalid_api_token"


def test_A1_valid_token(store):
    token = authenticate(store, TOKENS["write"], T0)
    assert token.service_id == SERVICE and token.scopes["court-booking"] == "write"


def test_A1_token_expires_at_its_instant():
    store = MemoryStore()
    expires = datetime(2031, 1, 1, tzinfo=UTC)
    store.add_token(ApiToken("tok", SERVICE, {"court-booking": "read"}, expires_at=expires))
    assert authenticate(store, "tok", expires - TICK).value == "tok"
    assert kind_of(authenticate, store, "tok", expires) == "invalid_api_token"
    assert kind_of(authenticate, store, "tok", expires + TICK) == "invalid_api_token"


def test_A1_revoked_token_is_invalid_even_before_expiry():
    store = MemoryStore()
    store.add_token(ApiToken("tok", SERVICE, {}, expires_at=datetime(2099, 1, 1, tzinfo=UTC), revoked=True))
    assert kind_of(authenticate, store, "tok", T0) == "invalid_api_token"


@pytest.mark.parametrize(
    ("held", "required", "allowed"),
    [
        ("write", "read", True),
        ("write", "write", True),
        ("read", "read", True),
        ("read", "write", False),
        ("none", "read", False),
        ("none", "write", False),
        (None, "read", False),  # an area the token does not list is `none`
    ],
)
def test_A2_scopes_write_implies_read(held, required, allowed):
    scopes = {"user": "write"} if held is None else {"court-booking": held, "user": "none"}
    token = ApiToken("t", SERVICE, scopes)
    if allowed:
        require_scope(token, f"court-booking:{required}")
    else:
        error = violation(require_scope, token, f"court-booking:{required}")
        assert error.kind == "scope_permission_denied"
        assert f"court-booking:{required}" in error.message


def test_A2_scopes_are_per_area(store):
    token = store.token(TOKENS["no_scope"])
    require_scope(token, "user:write")
    require_scope(token, "organization:read")
    assert kind_of(require_scope, token, "court-booking:read") == "scope_permission_denied"
    read_only = store.token(TOKENS["read_only"])
    require_scope(read_only, "court-booking:read")
    assert kind_of(require_scope, read_only, "user:write") == "scope_permission_denied"


# -- courts and court mappings ---------------------------------------------------------------------


def test_courts_get_returns_facility_and_the_services_mapping(store, clock):
    courts = Courts(store, clock)
    court, facility, mapping = courts.get(SERVICE, COURT)
    assert court.id == COURT and facility.id == FACILITY
    assert mapping is not None and mapping.external_court_id == "RIV-1"
    assert courts.get(SERVICE, COURT_3)[2] is None
    assert courts.get(OTHER_SERVICE, COURT)[2] is None  # mappings belong to one service
    assert kind_of(courts.get, SERVICE, COURT_NOT_GRANTED) == "organization_access_denied"
    assert kind_of(courts.get, SERVICE, UNKNOWN_ID) == "court_not_found"


def test_courts_of_facility(store, clock):
    courts = Courts(store, clock)
    facility, listed = courts.of_facility(SERVICE, FACILITY)
    assert facility.id == FACILITY
    assert [(c.name, m.external_court_id if m else None) for c, m in listed] == [
        ("Court 1", "RIV-1"),
        ("Court 2", "RIV-2"),
        ("Court 3", None),
        ("Court 4", None),
    ]
    assert kind_of(courts.of_facility, SERVICE, FACILITY_NOT_GRANTED) == "organization_access_denied"
    assert kind_of(courts.of_facility, SERVICE, UNKNOWN_ID) == "facility_not_found"


def test_courts_of_facility_sorted_by_name_then_id():
    store = MemoryStore()
    store.add_organization(Organization("o", "Org"))
    store.add_facility(Facility("f", "o", "F"))
    store.add_organization_relation(OrganizationRelation("r", SERVICE, "o", "ext-o"))
    for court_id, name in (("c3", "B"), ("c2", "A"), ("c1", "B")):
        store.add_court(Court(court_id, "f", name, True))
    _, listed = Courts(store, FakeClock()).of_facility(SERVICE, "f")
    assert [c.id for c, _ in listed] == ["c2", "c1", "c3"]


def test_mapping_upsert_creates_and_identical_repeat_changes_nothing(mappings, store, clock):
    created = mappings.upsert(SERVICE, COURT_3, {"externalCourtId": "RIV-3", "externalCourtName": "Back Court"})
    assert created == CourtMapping(SERVICE, COURT_3, "RIV-3", "Back Court", T0, T0)
    clock.advance(minutes=1)
    again = mappings.upsert(SERVICE, COURT_3, {"externalCourtId": "RIV-3", "externalCourtName": "Back Court"})
    assert again == created and again.updated_at == T0
    assert mappings.get(SERVICE, COURT_3) == created
    assert store.mapping_by_external_id(SERVICE, "RIV-3") == created


def test_mapping_upsert_change_keeps_createdAt_and_moves_updatedAt(mappings, clock):
    created = mappings.upsert(SERVICE, COURT_3, {"externalCourtId": "RIV-3", "externalCourtName": "Back Court"})
    clock.advance(minutes=1)
    renamed = mappings.upsert(SERVICE, COURT_3, {"externalCourtId": "RIV-3"})  # the name is dropped
    assert renamed.external_court_name is None
    assert renamed.created_at == created.created_at and renamed.updated_at == T0 + timedelta(minutes=1)


def test_mapping_external_court_id_already_in_use(mappings, store):
    before = store.mapping(SERVICE, COURT_3)
    error = violation(mappings.upsert, SERVICE, COURT_3, {"externalCourtId": "RIV-1"})
    assert error.kind == "external_court_id_already_in_use"
    assert store.mapping(SERVICE, COURT_3) == before is None
    assert store.mapping_by_external_id(SERVICE, "RIV-1").court_id == COURT
    # Another service may use the same external id.
    assert mappings.upsert(OTHER_SERVICE, COURT_3, {"externalCourtId": "RIV-1"}).court_id == COURT_3


def test_mapping_changing_external_id_frees_the_old_one(mappings, store):
    mappings.upsert(SERVICE, COURT, {"externalCourtId": "RIV-1-new"})
    assert store.mapping_by_external_id(SERVICE, "RIV-1") is None
    assert mappings.upsert(SERVICE, COURT_3, {"externalCourtId": "RIV-1"}).court_id == COURT_3
    assert [m.external_court_id for m in mappings.list(SERVICE, None)] == ["RIV-1", "RIV-1-new", "RIV-2"]


def test_mapping_delete_is_idempotent(mappings, store):
    mappings.delete(SERVICE, COURT)
    assert store.mapping(SERVICE, COURT) is None and store.mapping_by_external_id(SERVICE, "RIV-1") is None
    assert kind_of(mappings.get, SERVICE, COURT) == "court_mapping_not_found"
    mappings.delete(SERVICE, COURT)  # again: no error
    mappings.delete(SERVICE, COURT_3)  # never mapped: no error
    assert [m.court_id for m in mappings.list(SERVICE, None)] == [COURT_2]
    assert mappings.upsert(SERVICE, COURT_3, {"externalCourtId": "RIV-1"}).court_id == COURT_3


@pytest.mark.parametrize(
    ("court", "kind"), [(UNKNOWN_ID, "court_not_found"), (COURT_NOT_GRANTED, "organization_access_denied")]
)
def test_mapping_operations_need_an_accessible_court(mappings, court, kind):
    assert kind_of(mappings.upsert, SERVICE, court, {"externalCourtId": "X"}) == kind
    assert kind_of(mappings.get, SERVICE, court) == kind
    assert kind_of(mappings.delete, SERVICE, court) == kind


def test_mapping_list_filters_and_sorts(mappings):
    assert [m.external_court_id for m in mappings.list(SERVICE, None)] == ["RIV-1", "RIV-2"]
    assert [m.court_id for m in mappings.list(SERVICE, "RIV-2")] == [COURT_2]
    assert mappings.list(SERVICE, "nope") == []
    assert mappings.list(OTHER_SERVICE, None) == []


def test_mapping_list_hides_courts_the_service_no_longer_sees():
    store = MemoryStore()
    store.add_service(ExternalService(SERVICE, "S"))
    store.add_organization(Organization("o", "Org"))
    store.add_facility(Facility("f", "o", "F"))
    store.add_court(Court("c", "f", "Court", True))
    store.put_mapping(CourtMapping(SERVICE, "c", "EXT", None, T0, T0))  # no relation with the organization
    store.put_mapping(CourtMapping(SERVICE, "gone", "GONE", None, T0, T0))  # a court that does not exist
    mappings = CourtMappings(store, FakeClock())
    assert mappings.list(SERVICE, None) == [] and mappings.list(SERVICE, "EXT") == []
    store.add_organization_relation(OrganizationRelation("r", SERVICE, "o", "ext-o"))
    assert [m.external_court_id for m in mappings.list(SERVICE, None)] == ["EXT"]


def test_world_seed_bookings_went_through_the_rules(store, clock):
    seed = store.booking_record((SERVICE, "demo-seed-1"))
    assert isinstance(seed, Booking) and seed.created_at == seed.updated_at == WORLD_INSTANT and seed.seq == 1
    assert replace(seed, seq=0).same_payload(seed)
    assert Participant(email="guest.one@example.com") in seed.participants
