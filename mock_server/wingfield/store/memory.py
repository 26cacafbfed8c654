"""In-memory store. One process holds it, so the mock runs with a single worker.

Indexes keep request cost independent of unrelated data and of how much a court holds: per court, active
bookings ordered by start (the overlap check is a bisection, B13); per service, per (service, court) and per
(service, participant), bookings in the order the list returns them (B23), so a filtered page is a slice and
its `totalCount` a length (B24, B25). An index that empties is dropped, so none outlives its last booking.
"""

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from itertools import islice
from typing import Any

from sortedcontainers import SortedKeyList

from mock_server.timestamps import to_micros
from mock_server.wingfield.models import (
    ApiToken,
    Booking,
    BookingKey,
    BookingQuery,
    Court,
    CourtMapping,
    ExternalService,
    Facility,
    Organization,
    OrganizationRelation,
    Tombstone,
    User,
    UserRelation,
)

ListKey = tuple[str, ...]  # (service,), (service, "court", court id) or (service, "participant", kind, value)
SEQ_BITS = 32  # an index key is an instant and the internal id in one integer: a third of a tuple's memory


def _key(micros: int, seq: int = 0) -> int:
    return (micros << SEQ_BITS) + seq


def _by_start(booking: Booking) -> int:
    return _key(booking.start_us, booking.seq)


def _list_order(booking: Booking) -> int:
    """B23: `updatedAt` descending, then the internal id ascending."""
    return _key(-booking.updated_us, booking.seq)


def _list_keys(booking: Booking) -> list[ListKey]:
    service = booking.service_id
    keys: list[ListKey] = [(service,), (service, "court", booking.court_id)]
    for participant in booking.participants:
        kind, value = participant.key
        keys.append((service, "participant", kind, value))
    return keys


class MemoryStore:
    def __init__(self) -> None:
        self._organizations: dict[str, Organization] = {}
        self._facilities: dict[str, Facility] = {}
        self._courts: dict[str, Court] = {}
        self._facility_courts: dict[str, list[Court]] = defaultdict(list)
        self._services: dict[str, ExternalService] = {}
        self._tokens: dict[str, ApiToken] = {}
        self._users: dict[str, User] = {}
        self._user_relations: dict[tuple[str, str], UserRelation] = {}
        self._organization_relations: dict[tuple[str, str], OrganizationRelation] = {}

        self._mappings: dict[str, dict[str, CourtMapping]] = defaultdict(dict)  # service -> court -> mapping
        self._mapping_by_external: dict[tuple[str, str], str] = {}

        self._records: dict[BookingKey, Booking | Tombstone] = {}
        self._court_starts: dict[str, SortedKeyList] = {}  # court -> its active bookings by start, any service
        self._lists: dict[ListKey, SortedKeyList] = {}  # in list order
        self._seq = 0

    # -- the world ---------------------------------------------------------------------------------

    def add_organization(self, organization: Organization) -> None:
        self._organizations[organization.id] = organization

    def add_facility(self, facility: Facility) -> None:
        self._facilities[facility.id] = facility

    def add_court(self, court: Court) -> None:
        self._courts[court.id] = court
        self._facility_courts[court.facility_id].append(court)

    def add_service(self, service: ExternalService) -> None:
        self._services[service.id] = service

    def add_token(self, token: ApiToken) -> None:
        self._tokens[token.value] = token

    def add_user(self, user: User) -> None:
        self._users[user.id] = user

    def add_user_relation(self, relation: UserRelation) -> None:
        self._user_relations[(relation.service_id, relation.user_id)] = relation

    def add_organization_relation(self, relation: OrganizationRelation) -> None:
        self._organization_relations[(relation.service_id, relation.organization_id)] = relation

    def organization(self, organization_id: str) -> Organization | None:
        return self._organizations.get(organization_id)

    def facility(self, facility_id: str) -> Facility | None:
        return self._facilities.get(facility_id)

    def court(self, court_id: str) -> Court | None:
        return self._courts.get(court_id)

    def courts_of_facility(self, facility_id: str) -> list[Court]:
        return self._facility_courts.get(facility_id, [])

    def service(self, service_id: str) -> ExternalService | None:
        return self._services.get(service_id)

    def token(self, value: str) -> ApiToken | None:
        return self._tokens.get(value)

    def tokens(self) -> Iterable[ApiToken]:
        return self._tokens.values()

    def user(self, user_id: str) -> User | None:
        return self._users.get(user_id)

    def user_relation(self, service_id: str, user_id: str) -> UserRelation | None:
        return self._user_relations.get((service_id, user_id))

    def has_organization_relation(self, service_id: str, organization_id: str) -> bool:
        return (service_id, organization_id) in self._organization_relations

    # -- snapshots (admin export and import) ---------------------------------------------------------

    def dump(self) -> dict[str, Any]:
        """Every record, enough to rebuild this store and all its indexes with `load`."""
        return {
            "organizations": list(self._organizations.values()),
            "facilities": list(self._facilities.values()),
            "courts": list(self._courts.values()),
            "services": list(self._services.values()),
            "tokens": list(self._tokens.values()),
            "users": list(self._users.values()),
            "user_relations": list(self._user_relations.values()),
            "organization_relations": list(self._organization_relations.values()),
            "mappings": [m for by_court in self._mappings.values() for m in by_court.values()],
            "records": list(self._records.values()),
            "seq": self._seq,
        }

    def adopt(self, other: "MemoryStore") -> None:
        """Take over another store's contents (reset, new world, import); objects holding this store see them."""
        self.__dict__.update(vars(other))

    @classmethod
    def load(cls, dump: dict[str, Any]) -> "MemoryStore":
        store = cls()
        for key, add in (
            ("organizations", store.add_organization),
            ("facilities", store.add_facility),
            ("courts", store.add_court),
            ("services", store.add_service),
            ("tokens", store.add_token),
            ("users", store.add_user),
            ("user_relations", store.add_user_relation),
            ("organization_relations", store.add_organization_relation),
            ("mappings", store.put_mapping),
        ):
            for record in dump[key]:
                add(record)
        for record in dump["records"]:
            (store.put_booking if isinstance(record, Booking) else store.put_tombstone)(record)
        store._seq = dump["seq"]
        return store

    # -- court mappings ----------------------------------------------------------------------------

    def mapping(self, service_id: str, court_id: str) -> CourtMapping | None:
        return self._mappings.get(service_id, {}).get(court_id)

    def mapping_by_external_id(self, service_id: str, external_court_id: str) -> CourtMapping | None:
        court_id = self._mapping_by_external.get((service_id, external_court_id))
        return None if court_id is None else self._mappings[service_id][court_id]

    def mappings(self, service_id: str) -> Iterable[CourtMapping]:
        return self._mappings.get(service_id, {}).values()

    def put_mapping(self, mapping: CourtMapping) -> None:
        self.delete_mapping(mapping.service_id, mapping.court_id)
        self._mappings[mapping.service_id][mapping.court_id] = mapping
        self._mapping_by_external[(mapping.service_id, mapping.external_court_id)] = mapping.court_id

    def delete_mapping(self, service_id: str, court_id: str) -> None:
        old = self._mappings.get(service_id, {}).pop(court_id, None)
        if old is not None:
            del self._mapping_by_external[(service_id, old.external_court_id)]

    # -- court bookings ----------------------------------------------------------------------------

    def booking_record(self, key: BookingKey) -> Booking | Tombstone | None:
        return self._records.get(key)

    def next_booking_seq(self) -> int:
        self._seq += 1
        assert self._seq < 1 << SEQ_BITS, "internal booking ids exhausted"
        return self._seq

    def put_booking(self, booking: Booking) -> None:
        self._unindex(booking.key)
        self._records[booking.key] = booking
        starts = self._court_starts.get(booking.court_id)
        if starts is None:
            starts = self._court_starts[booking.court_id] = SortedKeyList(key=_by_start)
        starts.add(booking)
        for key in _list_keys(booking):
            listed = self._lists.get(key)
            if listed is None:
                listed = self._lists[key] = SortedKeyList(key=_list_order)
            listed.add(booking)

    def put_tombstone(self, tombstone: Tombstone) -> None:
        key = (tombstone.service_id, tombstone.external_id)
        self._unindex(key)
        self._records[key] = tombstone

    def _unindex(self, key: BookingKey) -> None:
        old = self._records.get(key)
        if not isinstance(old, Booking):
            return
        self._discard(self._court_starts, old.court_id, old)
        for list_key in _list_keys(old):
            self._discard(self._lists, list_key, old)

    @staticmethod
    def _discard(indexes: dict[Any, SortedKeyList], key: Any, booking: Booking) -> None:
        index = indexes[key]
        index.remove(booking)
        if not index:
            del indexes[key]

    def find_overlap(self, court_id: str, start: datetime, end: datetime, exclude: BookingKey) -> Booking | None:
        """Active bookings of a court never overlap each other, so sorted by start their ends are sorted
        too: only the last booking starting before `end` (skipping `exclude`) can overlap `[start, end)`."""
        index = self._court_starts.get(court_id)
        if not index:
            return None
        position = index.bisect_key_left(_key(to_micros(end)))
        start_us = to_micros(start)
        for candidate in islice(reversed(index[max(0, position - 2) : position]), 2):
            if candidate.key != exclude:
                return candidate if candidate.end_us > start_us else None
        return None

    def query_bookings(self, service_id: str, query: BookingQuery) -> tuple[list[Booking], int]:
        """The page and the count of all matches, from the smallest list-order index that holds them all: a
        slice and a length when the index answers the query alone, a scan of the index otherwise."""
        if query.external_id is not None:
            record = self._records.get((service_id, query.external_id))
            found = [record] if isinstance(record, Booking) and query.matches(record) else []
            return found[query.offset : query.offset + query.limit], len(found)
        index, rest = self._index_for(service_id, query)
        if index is None:
            return [], 0
        low = 0 if query.updated_to is None else index.bisect_key_left(_key(-to_micros(query.updated_to)))
        high = (
            len(index) if query.updated_from is None else index.bisect_key_left(_key(1 - to_micros(query.updated_from)))
        )
        if rest is None:
            first = low + query.offset
            return list(index.islice(first, max(first, min(high, first + query.limit)))), max(0, high - low)
        page: list[Booking] = []
        total = 0
        for booking in index.islice(low, high):
            if rest(booking):
                if query.offset <= total < query.offset + query.limit:
                    page.append(booking)
                total += 1
        return page, total

    def _index_for(self, service_id: str, query: BookingQuery) -> tuple[SortedKeyList | None, Any]:
        """The smallest index that holds every match, and the test of what it does not guarantee."""
        candidates = []  # the narrower first: on equal sizes, the one with less left to test wins
        if query.participants:
            first = query.participants[0]
            candidates.append(((service_id, "participant", *first.key), query.matcher(participants=1)))
        if query.court_id is not None:
            candidates.append(((service_id, "court", query.court_id), query.matcher(court=False)))
        candidates.append(((service_id,), query.matcher()))
        sized = [(len(self._lists.get(key) or ()), key, rest) for key, rest in candidates]
        size, key, rest = min(sized, key=lambda entry: entry[0])
        return (self._lists.get(key) if size else None), rest
