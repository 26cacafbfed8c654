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
    ConnectToken,
    Court,
    CourtMapping,
    ExternalService,
    Facility,
    Membership,
    Organization,
    OrganizationRelation,
    Session,
    Tombstone,
    User,
    UserRelation,
    Video,
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
        self._user_by_email: dict[str, str] = {}
        self._user_relations: dict[tuple[str, str], UserRelation] = {}
        self._service_relations: dict[str, dict[str, UserRelation]] = defaultdict(dict)  # service -> user -> relation
        self._relation_by_external: dict[tuple[str, str], str] = {}  # (service, externalUserId) -> user
        self._organization_relations: dict[tuple[str, str], OrganizationRelation] = {}
        self._organization_by_external: dict[tuple[str, str], str] = {}  # (service, externalOrganizationId) -> org
        self._connect_tokens: dict[str, ConnectToken] = {}
        self._memberships: dict[tuple[str, str], Membership] = {}
        self._pro_counts: dict[str, int] = defaultdict(int)
        self._sessions: dict[str, Session] = {}
        self._user_sessions: dict[str, list[Session]] = defaultdict(list)
        self._videos: dict[str, Video] = {}
        self._session_videos: dict[str, list[Video]] = defaultdict(list)

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
        self.put_user(user)

    def add_user_relation(self, relation: UserRelation) -> None:
        self.put_user_relation(relation)

    def add_organization_relation(self, relation: OrganizationRelation) -> None:
        self.put_organization_relation(relation)

    def add_session(self, session: Session) -> None:
        self._sessions[session.id] = session
        for user_id in session.player_ids:
            self._user_sessions[user_id].append(session)

    def add_video(self, video: Video) -> None:
        self._videos[video.id] = video
        self._session_videos[video.session_id].append(video)

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

    def user_by_email(self, email: str) -> User | None:
        user_id = self._user_by_email.get(email)
        return self._users[user_id] if user_id else None

    def put_user(self, user: User) -> None:
        old = self._users.get(user.id)
        if old is not None:
            self._user_by_email.pop(old.email, None)
        self._users[user.id] = user
        self._user_by_email[user.email] = user.id

    # -- user relations ----------------------------------------------------------------------------

    def user_relations(self, service_id: str) -> list[UserRelation]:
        return list(self._service_relations.get(service_id, {}).values())

    def relation_by_external_user_id(self, service_id: str, external_user_id: str) -> UserRelation | None:
        user_id = self._relation_by_external.get((service_id, external_user_id))
        return self._user_relations.get((service_id, user_id)) if user_id else None

    def put_user_relation(self, relation: UserRelation) -> None:
        self.delete_user_relation(relation.service_id, relation.user_id)
        self._user_relations[(relation.service_id, relation.user_id)] = relation
        self._service_relations[relation.service_id][relation.user_id] = relation
        self._relation_by_external[(relation.service_id, relation.external_user_id)] = relation.user_id

    def delete_user_relation(self, service_id: str, user_id: str) -> None:
        old = self._user_relations.pop((service_id, user_id), None)
        if old is None:
            return
        of_service = self._service_relations[service_id]
        del of_service[user_id]
        if not of_service:
            del self._service_relations[service_id]
        if self._relation_by_external.get((service_id, old.external_user_id)) == user_id:
            del self._relation_by_external[(service_id, old.external_user_id)]

    # -- organization relations, connect tokens, memberships -----------------------------------------

    def organization_relation(self, service_id: str, organization_id: str) -> OrganizationRelation | None:
        return self._organization_relations.get((service_id, organization_id))

    def organization_relation_by_external_id(
        self, service_id: str, external_organization_id: str
    ) -> OrganizationRelation | None:
        organization_id = self._organization_by_external.get((service_id, external_organization_id))
        return self._organization_relations.get((service_id, organization_id)) if organization_id else None

    def put_organization_relation(self, relation: OrganizationRelation) -> None:
        self.delete_organization_relation(relation.service_id, relation.organization_id)
        self._organization_relations[(relation.service_id, relation.organization_id)] = relation
        key = (relation.service_id, relation.external_organization_id)
        self._organization_by_external[key] = relation.organization_id

    def delete_organization_relation(self, service_id: str, organization_id: str) -> None:
        old = self._organization_relations.pop((service_id, organization_id), None)
        if old is not None and self._organization_by_external.get((service_id, old.external_organization_id)) == (
            organization_id
        ):
            del self._organization_by_external[(service_id, old.external_organization_id)]

    def organization_relations(self) -> list[OrganizationRelation]:
        return list(self._organization_relations.values())

    def connect_token(self, value: str) -> ConnectToken | None:
        return self._connect_tokens.get(value)

    def put_connect_token(self, token: ConnectToken) -> None:
        self._connect_tokens[token.value] = token

    def connect_tokens(self) -> list[ConnectToken]:
        return list(self._connect_tokens.values())

    def membership(self, organization_id: str, user_id: str) -> Membership | None:
        return self._memberships.get((organization_id, user_id))

    def put_membership(self, membership: Membership) -> None:
        key = (membership.organization_id, membership.user_id)
        if key not in self._memberships:
            self._pro_counts[membership.organization_id] += 1
        self._memberships[key] = membership

    def delete_membership(self, organization_id: str, user_id: str) -> None:
        if self._memberships.pop((organization_id, user_id), None) is not None:
            self._pro_counts[organization_id] -= 1
            if not self._pro_counts[organization_id]:
                del self._pro_counts[organization_id]

    def pro_member_count(self, organization_id: str) -> int:
        return self._pro_counts.get(organization_id, 0)

    def memberships(self) -> list[Membership]:
        return list(self._memberships.values())

    # -- sessions and videos (read-only, S1) -------------------------------------------------------

    def session(self, session_id: str) -> Session | None:
        return self._sessions.get(session_id)

    def sessions_of_user(self, user_id: str) -> list[Session]:
        return self._user_sessions.get(user_id, [])

    def sessions(self) -> list[Session]:
        return list(self._sessions.values())

    def videos_of_session(self, session_id: str) -> list[Video]:
        return self._session_videos.get(session_id, [])

    def videos(self) -> list[Video]:
        return list(self._videos.values())

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
            "connect_tokens": list(self._connect_tokens.values()),
            "memberships": list(self._memberships.values()),
            "sessions": list(self._sessions.values()),
            "videos": list(self._videos.values()),
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
            ("connect_tokens", store.put_connect_token),
            ("memberships", store.put_membership),
            ("sessions", store.add_session),
            ("videos", store.add_video),
            ("mappings", store.put_mapping),
        ):
            for record in dump.get(key, ()):
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
