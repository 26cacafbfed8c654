"""The Wingfield `Store` on SQL, beside the memory store it must answer like: its tables, statements and
rows are Wingfield's alone, so they live with the API; the machinery it shares with ONLIVE.SITE does not."""

import json
from collections.abc import Callable, Hashable, Iterable
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    BigInteger,
    Connection,
    Table,
    and_,
    bindparam,
    cast,
    delete,
    exists,
    func,
    insert,
    literal_column,
    select,
    true,
)
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.sql import ClauseElement

from mock_server.store import sql_schema as s
from mock_server.store.sql_database import (
    CACHE_LIMIT,
    ONE,
    READ,
    WRITE,
    Database,
    LostRace,
    Params,
    Row,
    SqlStoreBase,
    by_key,
    dumps,
    instant,
    maybe_instant,
    maybe_micros,
    next_counter,
    read_counter,
)
from mock_server.timestamps import to_micros
from mock_server.violations import RuleViolation
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
    Participant,
    Session,
    SessionPlayer,
    Tombstone,
    User,
    UserRelation,
    Video,
)

EXCLUSION_VIOLATION = "23P01"
OVERLAP_MESSAGE = "the court is already booked for part of this time"

KEY = ("service_id", "external_id")
BOOKING_FIELDS = [
    "service_id",
    "external_id",
    "court_id",
    "start_us",
    "end_us",
    "external_updated_us",
    "participants",
    "created_us",
    "updated_us",
    "seq",
]
BOOKING_COLUMNS = [s.records.c[name] for name in BOOKING_FIELDS]
COURT_COLUMNS = [s.courts.c.id, s.courts.c.facility_id, s.courts.c.name, s.courts.c.system_installed]
TOKEN_COLUMNS = [
    s.tokens.c.value,
    s.tokens.c.service_id,
    s.tokens.c.scopes,
    s.tokens.c.expires_us,
    s.tokens.c.revoked,
    s.tokens.c.description,
]
ORGANIZATION_COLUMNS = [s.organizations.c.id, s.organizations.c.name, s.organizations.c.pro_quota]
USER_COLUMNS = [
    s.users.c.id,
    s.users.c.email,
    s.users.c.first_name,
    s.users.c.last_name,
    s.users.c.created_by_service_id,
    s.users.c.birthday,
    s.users.c.gender,
    s.users.c.main_sport_type,
    s.users.c.playing_hand,
]
USER_RELATION_COLUMNS = [
    s.user_relations.c.service_id,
    s.user_relations.c.user_id,
    s.user_relations.c.external_user_id,
    s.user_relations.c.status,
]
ORGANIZATION_RELATION_COLUMNS = [
    s.organization_relations.c.id,
    s.organization_relations.c.service_id,
    s.organization_relations.c.organization_id,
    s.organization_relations.c.external_organization_id,
    s.organization_relations.c.created_us,
    s.organization_relations.c.updated_us,
]
CONNECT_TOKEN_COLUMNS = [
    s.connect_tokens.c.value,
    s.connect_tokens.c.organization_id,
    s.connect_tokens.c.expires_us,
    s.connect_tokens.c.state,
]
MEMBERSHIP_COLUMNS = [s.memberships.c.organization_id, s.memberships.c.user_id, s.memberships.c.subscription]
SESSION_COLUMNS = [
    s.sessions.c.id,
    s.sessions.c.type,
    s.sessions.c.sport_type,
    s.sessions.c.duration_seconds,
    s.sessions.c.started_us,
    s.sessions.c.teams,
    s.sessions.c.workout_id,
]
VIDEO_COLUMNS = [
    s.videos.c.id,
    s.videos.c.session_id,
    s.videos.c.type,
    s.videos.c.fps,
    s.videos.c.video_url,
    s.videos.c.thumbnail_url,
    s.videos.c.resolution,
]
MAPPING_FIELDS = ["service_id", "court_id", "external_court_id", "external_court_name", "created_us", "updated_us"]
MAPPING_COLUMNS = [s.mappings.c[name] for name in MAPPING_FIELDS]


class SqlStore(SqlStoreBase):
    """The Wingfield `Store` (base.py) on SQL: the same answers, orders and pages as MemoryStore."""

    def __init__(self, db: Database) -> None:
        super().__init__(db)
        self._bookings: dict[Row, Booking] = {}
        self._court_keys: dict[str, int] = {}

    # -- the world ---------------------------------------------------------------------------------

    def _add(self, table: Table, key: list[str], values: Params) -> None:
        self._write(("add", table.name), lambda: self._db.upsert(table, key), values)
        self._world.clear()

    def add_organization(self, organization: Organization) -> None:
        self._add(s.organizations, ["id"], organization_row(organization))

    def add_facility(self, facility: Facility) -> None:
        values = {"id": facility.id, "organization_id": facility.organization_id, "name": facility.name}
        self._add(s.facilities, ["id"], values)

    def add_court(self, court: Court) -> None:
        self._add(s.courts, ["id"], court_row(court))

    def add_service(self, service: ExternalService) -> None:
        self._add(s.services, ["id"], {"id": service.id, "name": service.name})

    def add_token(self, token: ApiToken) -> None:
        self._add(s.tokens, ["value"], token_row(token))

    def add_user(self, user: User) -> None:
        self.put_user(user)

    def add_user_relation(self, relation: UserRelation) -> None:
        self.put_user_relation(relation)

    def add_organization_relation(self, relation: OrganizationRelation) -> None:
        self.put_organization_relation(relation)

    def _cached(self, table: Table, columns: list[Any], key: Params, make: Callable[[Row], Any]) -> Any:
        """One record of the world by its key, from the cache when this version of the world gave it already."""

        def fetch(_: Any) -> Any:
            row = self._first(
                ("world", table.name, tuple(key)), lambda: select(*columns).where(by_key(table, *key)), key
            )
            return None if row is None else make(row)

        return self._world.get(table.name, tuple(key.values()), fetch)

    def organization(self, organization_id: str) -> Organization | None:
        key = {"id": organization_id}
        return self._cached(s.organizations, ORGANIZATION_COLUMNS, key, lambda row: Organization(*row))

    def facility(self, facility_id: str) -> Facility | None:
        t = s.facilities
        columns = [t.c.id, t.c.organization_id, t.c.name]
        return self._cached(t, columns, {"id": facility_id}, lambda row: Facility(*row))

    def court(self, court_id: str) -> Court | None:
        return self._cached(s.courts, COURT_COLUMNS, {"id": court_id}, _court)

    def courts_of_facility(self, facility_id: str) -> list[Court]:
        def fetch(key: str) -> list[Court]:
            t = s.courts
            rows = self._rows(
                "courts_of_facility",
                lambda: select(*COURT_COLUMNS).where(by_key(t, "facility_id")).order_by(t.c.pos),
                {"facility_id": key},
            )
            courts = [_court(row) for row in rows]
            for court in courts:  # the mappings of a facility's courts look each court up next
                self._world.put(t.name, (court.id,), court)
            return courts

        return self._world.get("courts_of_facility", facility_id, fetch)

    def service(self, service_id: str) -> ExternalService | None:
        t = s.services
        return self._cached(t, [t.c.id, t.c.name], {"id": service_id}, lambda row: ExternalService(*row))

    def token(self, value: str) -> ApiToken | None:
        return self._cached(s.tokens, TOKEN_COLUMNS, {"value": value}, _token)

    def tokens(self) -> Iterable[ApiToken]:
        return [_token(row) for row in self._rows("tokens", lambda: select(*TOKEN_COLUMNS).order_by(s.tokens.c.pos))]

    # -- users and relations: requests change them, so nothing of them outlives a transaction -----------

    def _found(self, key: Hashable, fetch: Callable[[], Any]) -> Any:
        """A user or a relation by its key: read once per transaction (Transaction.found), never kept longer,
        since a request in another worker may change it between two of ours."""
        transaction = self._db.transaction()
        if transaction is None:
            return fetch()
        found = transaction.found
        if key not in found:
            found[key] = fetch()
        return found[key]

    def _changed(self) -> None:
        """After a write of a user or a relation: what this transaction read of them may be stale."""
        transaction = self._db.transaction()
        if transaction is not None:
            transaction.found.clear()

    def _one(
        self, table: Table, columns: list[Any], key: Params, make: Callable[[Row], Any], latest: bool = False
    ) -> Any:
        """The record of `table` with the `key` values (`latest`: the last put of those that have them)."""

        def build() -> ClauseElement:
            statement = select(*columns).where(by_key(table, *key))
            return _latest(statement, table) if latest else statement

        row = self._first(("one", table.name, *key, latest), build, key)
        return None if row is None else make(row)

    def _upsert(self, table: Table, key: list[str], values: Params) -> None:
        self._write(("upsert", table.name), lambda: self._db.upsert(table, key), values)
        self._changed()

    def _replace(self, table: Table, key: list[str], values: Params) -> None:
        """Delete and insert: a new `pos`, so a replaced record lists last, as the memory store moves it."""
        db = self._db
        remove = db.sql(("delete", table.name), lambda: delete(table).where(by_key(table, *key)))
        add = db.sql(("insert", table.name), lambda: insert(table).values({name: bindparam(name) for name in values}))
        db.do(WRITE, db.write_all, [(remove, {name: values[name] for name in key}), (add, values)])
        self._changed()

    def _delete(self, table: Table, key: Params) -> None:
        self._write(("delete", table.name), lambda: delete(table).where(by_key(table, *key)), key)
        self._changed()

    def user(self, user_id: str) -> User | None:
        return self._found(("user", user_id), lambda: self._one(s.users, USER_COLUMNS, {"id": user_id}, _user))

    def user_by_email(self, email: str) -> User | None:
        def fetch() -> User | None:
            return self._one(s.users, USER_COLUMNS, {"email": email}, _user, latest=True)

        return self._found(("user_by_email", email), fetch)

    def put_user(self, user: User) -> None:
        """An upsert: a changed user keeps its place, as in MemoryStore."""
        self._upsert(s.users, ["id"], user_row(user))

    def user_relation(self, service_id: str, user_id: str) -> UserRelation | None:
        def fetch() -> UserRelation | None:
            key = {"service_id": service_id, "user_id": user_id}
            return self._one(s.user_relations, USER_RELATION_COLUMNS, key, lambda row: UserRelation(*row))

        return self._found(("user_relation", service_id, user_id), fetch)

    def user_relations(self, service_id: str) -> list[UserRelation]:
        """In the order of their last put, with their users: the rules look each relation and user up next."""

        def fetch() -> list[UserRelation]:
            rows = self._rows("user_relations", _user_relations, {"service_id": service_id})
            relations = [UserRelation(*row[:4]) for row in rows]
            transaction = self._db.transaction()
            if transaction is not None:
                for relation, row in zip(relations, rows, strict=True):
                    transaction.found[("user_relation", service_id, relation.user_id)] = relation
                    transaction.found[("user", relation.user_id)] = None if row[4] is None else _user(row[4:])
            return relations

        return list(self._found(("user_relations", service_id), fetch))

    def relation_by_external_user_id(self, service_id: str, external_user_id: str) -> UserRelation | None:
        def fetch() -> UserRelation | None:
            key = {"service_id": service_id, "external_user_id": external_user_id}
            return self._one(s.user_relations, USER_RELATION_COLUMNS, key, lambda row: UserRelation(*row), True)

        return self._found(("relation_by_external_user_id", service_id, external_user_id), fetch)

    def put_user_relation(self, relation: UserRelation) -> None:
        self._replace(s.user_relations, ["service_id", "user_id"], user_relation_row(relation))

    def delete_user_relation(self, service_id: str, user_id: str) -> None:
        self._delete(s.user_relations, {"service_id": service_id, "user_id": user_id})

    def organization_relation(self, service_id: str, organization_id: str) -> OrganizationRelation | None:
        def fetch() -> OrganizationRelation | None:
            key = {"service_id": service_id, "organization_id": organization_id}
            return self._one(s.organization_relations, ORGANIZATION_RELATION_COLUMNS, key, _organization_relation)

        return self._found(("organization_relation", service_id, organization_id), fetch)

    def has_organization_relation(self, service_id: str, organization_id: str) -> bool:
        return self.organization_relation(service_id, organization_id) is not None

    def organization_relation_by_external_id(
        self, service_id: str, external_organization_id: str
    ) -> OrganizationRelation | None:
        def fetch() -> OrganizationRelation | None:
            key = {"service_id": service_id, "external_organization_id": external_organization_id}
            columns = ORGANIZATION_RELATION_COLUMNS
            return self._one(s.organization_relations, columns, key, _organization_relation, latest=True)

        return self._found(("organization_relation_by_external_id", service_id, external_organization_id), fetch)

    def put_organization_relation(self, relation: OrganizationRelation) -> None:
        self._replace(s.organization_relations, ["service_id", "organization_id"], organization_relation_row(relation))

    def delete_organization_relation(self, service_id: str, organization_id: str) -> None:
        self._delete(s.organization_relations, {"service_id": service_id, "organization_id": organization_id})

    # -- connect tokens and PRO memberships: read when asked, never cached ---------------------------

    def connect_token(self, value: str) -> ConnectToken | None:
        return self._one(s.connect_tokens, CONNECT_TOKEN_COLUMNS, {"value": value}, _connect_token)

    def put_connect_token(self, token: ConnectToken) -> None:
        """An upsert: a claimed token keeps its place."""
        self._upsert(s.connect_tokens, ["value"], connect_token_row(token))

    def membership(self, organization_id: str, user_id: str) -> Membership | None:
        key = {"organization_id": organization_id, "user_id": user_id}
        return self._one(s.memberships, MEMBERSHIP_COLUMNS, key, lambda row: Membership(*row))

    def put_membership(self, membership: Membership) -> None:
        """An upsert: a membership put again keeps its place."""
        self._upsert(s.memberships, ["organization_id", "user_id"], membership_row(membership))

    def delete_membership(self, organization_id: str, user_id: str) -> None:
        self._delete(s.memberships, {"organization_id": organization_id, "user_id": user_id})

    def pro_member_count(self, organization_id: str) -> int:
        """Counted on the (organization, user) index: an organization has its members, no more."""
        m = s.memberships
        rows = self._rows(
            "pro_member_count",
            lambda: select(func.count()).select_from(m).where(by_key(m, "organization_id")),
            {"organization_id": organization_id},
        )
        return rows[0][0]

    # -- sessions and videos: read-only through the API (S1) ----------------------------------------

    def add_session(self, session: Session) -> None:
        """The session, and a row per player: a user's sessions list in the order they were added."""
        db, p = self._db, s.session_players
        writes: list[tuple[str, Any]] = [
            (db.sql(("upsert", s.sessions.name), lambda: db.upsert(s.sessions, ["id"])), session_row(session)),
            (db.sql(("delete", p.name), lambda: delete(p).where(by_key(p, "session_id"))), {"session_id": session.id}),
        ]
        players = session_player_rows(session)
        if players:
            add = db.sql(("insert", p.name), lambda: insert(p).values({name: bindparam(name) for name in players[0]}))
            writes.append((add, players))
        db.do(WRITE, db.write_all, writes)

    def add_video(self, video: Video) -> None:
        self._write(("upsert", s.videos.name), lambda: self._db.upsert(s.videos, ["id"]), video_row(video))

    def session(self, session_id: str) -> Session | None:
        return self._one(s.sessions, SESSION_COLUMNS, {"id": session_id}, _session)

    def sessions_of_user(self, user_id: str) -> list[Session]:
        return [_session(row) for row in self._rows("sessions_of_user", _sessions_of_user, {"user_id": user_id})]

    def videos_of_session(self, session_id: str) -> list[Video]:
        v = s.videos
        rows = self._rows(
            "videos_of_session",
            lambda: select(*VIDEO_COLUMNS).where(by_key(v, "session_id")).order_by(v.c.pos),
            {"session_id": session_id},
        )
        return [Video(*row) for row in rows]

    # -- snapshots ---------------------------------------------------------------------------------

    def dump(self) -> dict[str, Any]:
        """Every record, in the shapes and orders of MemoryStore.dump, from one snapshot."""
        return self._db.do(READ, self._dump)

    def _dump(self, c: Connection) -> dict[str, Any]:
        def rows(table: Table, columns: list[Any]) -> list[Row]:
            return self._db.rows(c, self._db.sql(("dump", table.name), lambda: select(*columns).order_by(table.c.pos)))

        f, sv = s.facilities, s.services
        return {
            "organizations": [Organization(*r) for r in rows(s.organizations, ORGANIZATION_COLUMNS)],
            "facilities": [Facility(*r) for r in rows(f, [f.c.id, f.c.organization_id, f.c.name])],
            "courts": [_court(r) for r in rows(s.courts, COURT_COLUMNS)],
            "services": [ExternalService(*r) for r in rows(sv, [sv.c.id, sv.c.name])],
            "tokens": [_token(r) for r in rows(s.tokens, TOKEN_COLUMNS)],
            "users": [_user(r) for r in rows(s.users, USER_COLUMNS)],
            "user_relations": [UserRelation(*r) for r in rows(s.user_relations, USER_RELATION_COLUMNS)],
            "organization_relations": [
                _organization_relation(r) for r in rows(s.organization_relations, ORGANIZATION_RELATION_COLUMNS)
            ],
            "connect_tokens": [_connect_token(r) for r in rows(s.connect_tokens, CONNECT_TOKEN_COLUMNS)],
            "memberships": [Membership(*r) for r in rows(s.memberships, MEMBERSHIP_COLUMNS)],
            "sessions": [_session(r) for r in rows(s.sessions, SESSION_COLUMNS)],
            "videos": [Video(*r) for r in rows(s.videos, VIDEO_COLUMNS)],
            "mappings": [_mapping(r) for r in self._db.rows(c, self._db.sql("dump_mappings", _dump_mappings))],
            "records": [self._record(r) for r in rows(s.records, BOOKING_COLUMNS)],
            "seq": read_counter(self._db, c, "booking_seq"),
        }

    # -- court mappings ----------------------------------------------------------------------------

    def mapping(self, service_id: str, court_id: str) -> CourtMapping | None:
        """In a request, from the second mapping of one facility's courts on, all of that facility's mappings
        come in one query: a list of the facility's courts costs two queries, not one per court."""
        transaction = self._db.transaction()
        court = self.court(court_id) if transaction is not None else None
        if transaction is not None and court is not None:
            group = (service_id, court.facility_id)
            known = transaction.mappings.get(group)
            if known is not None:
                return known.get(court_id)
            reads = transaction.mapping_reads[group] = transaction.mapping_reads.get(group, 0) + 1
            if reads > 1:
                rows = self._rows(
                    "mappings_of_facility",
                    _mappings_of_facility,
                    {"service_id": service_id, "facility_id": court.facility_id},
                )
                known = transaction.mappings[group] = {row[1]: _mapping(row) for row in rows}
                return known.get(court_id)
        m = s.mappings
        row = self._first(
            "mapping",
            lambda: select(*MAPPING_COLUMNS).where(by_key(m, "service_id", "court_id")),
            {"service_id": service_id, "court_id": court_id},
        )
        return None if row is None else _mapping(row)

    def mapping_by_external_id(self, service_id: str, external_court_id: str) -> CourtMapping | None:
        m = s.mappings
        row = self._first(
            "mapping_by_external_id",
            lambda: (
                select(*MAPPING_COLUMNS)
                .where(by_key(m, "service_id", "external_court_id"))
                .order_by(m.c.pos.desc())
                .limit(literal_column("1"))
                .offset(literal_column("0"))
            ),
            {"service_id": service_id, "external_court_id": external_court_id},
        )
        return None if row is None else _mapping(row)

    def mappings(self, service_id: str) -> Iterable[CourtMapping]:
        m = s.mappings
        rows = self._rows(
            "mappings",
            lambda: select(*MAPPING_COLUMNS).where(by_key(m, "service_id")).order_by(m.c.pos),
            {"service_id": service_id},
        )
        return [_mapping(row) for row in rows]

    def put_mapping(self, mapping: CourtMapping) -> None:
        """Delete and insert: a new `pos`, so a replaced mapping lists last, as in MemoryStore."""
        db, m = self._db, s.mappings
        group = db.sql(
            "mapping_service",
            lambda: db.insert(s.mapping_services).values(service_id=bindparam("service_id")).on_conflict_do_nothing(),
        )
        remove = db.sql("delete_mapping", lambda: delete(m).where(by_key(m, "service_id", "court_id")))
        add = db.sql("insert_mapping", lambda: insert(m).values({c: bindparam(c) for c in MAPPING_FIELDS}))
        key = {"service_id": mapping.service_id, "court_id": mapping.court_id}
        writes = [(group, {"service_id": mapping.service_id}), (remove, key), (add, mapping_row(mapping))]
        db.do(WRITE, db.write_all, writes)
        self._forget_mappings()

    def delete_mapping(self, service_id: str, court_id: str) -> None:
        m = s.mappings
        key = {"service_id": service_id, "court_id": court_id}
        self._write("delete_mapping", lambda: delete(m).where(by_key(m, "service_id", "court_id")), key)
        self._forget_mappings()

    def _forget_mappings(self) -> None:
        transaction = self._db.transaction()
        if transaction is not None:
            transaction.mappings.clear()

    # -- court bookings ----------------------------------------------------------------------------

    def _record(self, row: Row) -> Booking | Tombstone:
        service_id, external_id, court_id, _, _, external_updated_us, *_ = row
        if court_id is None:
            return Tombstone(service_id, external_id, instant(external_updated_us))
        return self._booking(row)

    def _booking(self, row: Row) -> Booking:
        """One Booking object per stored version: the JSON views of bookings are cached by identity."""
        booking = self._bookings.get(row)
        if booking is None:
            service_id, external_id, court_id, start, end, version, encoded, created, updated, seq = row
            booking = Booking(
                service_id,
                external_id,
                court_id,
                instant(start),
                instant(end),
                instant(version),
                _participants(encoded),
                instant(created),
                instant(updated),
                seq,
            )
            if len(self._bookings) >= CACHE_LIMIT:
                self._bookings.clear()
            self._bookings[row] = booking
        return booking

    def _court_key(self, court_id: str) -> int | None:
        """PostgreSQL's number for the court (None on SQLite); numbers never change, so each process keeps them."""
        if not self._db.postgres:
            return None
        key = self._court_keys.get(court_id)
        if key is None:
            key = self._court_keys[court_id] = self._db.court_key(court_id)
        return key

    def booking_record(self, key: BookingKey) -> Booking | Tombstone | None:
        row = self._stored(key)
        return None if row is None else self._record(row)

    def _stored(self, key: BookingKey) -> Row | None:
        """The stored row of a key: the request's own reading of it when it has one."""
        transaction = self._db.transaction()
        if transaction is not None and key in transaction.records:
            return transaction.records[key]
        r = s.records
        row = self._first(
            "booking_record",
            lambda: select(*BOOKING_COLUMNS).where(by_key(r, "service_id", "external_id")),
            {"service_id": key[0], "external_id": key[1]},
        )
        if transaction is not None:
            transaction.records[key] = row
        return row

    def next_booking_seq(self) -> int:
        return next_counter(self._db, "booking_seq")

    def put_booking(self, booking: Booking) -> None:
        new = (
            booking.service_id,
            booking.external_id,
            booking.court_id,
            booking.start_us,
            booking.end_us,
            to_micros(booking.external_updated_at),
            _encode_participants(booking.participants),
            to_micros(booking.created_at),
            booking.updated_us,
            booking.seq,
        )
        people = [
            {
                "service_id": booking.service_id,
                "external_id": booking.external_id,
                "kind": kind,
                "value": value,
                "updated_us": booking.updated_us,
                "seq": booking.seq,
            }
            for kind, value in (p.key for p in booking.participants)
        ]
        self._db.do(WRITE, self._put, booking.key, new, self._court_key(booking.court_id), people)

    def put_tombstone(self, tombstone: Tombstone) -> None:
        key = (tombstone.service_id, tombstone.external_id)
        new = (*key, None, None, None, to_micros(tombstone.external_updated_at), None, None, None, None)
        self._db.do(WRITE, self._put, key, new, None, [])

    def _put(self, c: Connection, key: BookingKey, new: Row, court_key: int | None, people: list[Params]) -> None:
        """Write a record (a booking or a tombstone), its participants and the counts it moves, in one round
        trip on PostgreSQL; an overlap the database refuses is the rules' overlap (B13)."""
        db = self._db
        old = self._stored(key)
        row = dict(zip(BOOKING_FIELDS, new, strict=True)) | {"court_key": court_key}
        writes: list[tuple[str, Any]] = [
            (db.sql("put_record", lambda: db.upsert(s.records, ["service_id", "external_id"])), row)
        ]
        if old is not None and old[2] is not None:
            writes.append((db.sql("forget_participants", _forget_participants), dict(zip(KEY, key, strict=True))))
        if people:
            writes.append((db.sql("add_participant", _add_participant), people))
        writes += self._count(old, new)
        try:
            db.write_all(c, writes)
        except IntegrityError as exc:
            if getattr(exc.orig, "sqlstate", None) != EXCLUSION_VIOLATION or s.NO_OVERLAP not in str(exc.orig):
                raise
            c.rollback()  # the transaction is dead
            if old is None and self._inserted_meanwhile(key):
                # A concurrent transaction inserted this very key first, and PostgreSQL tells so through the
                # exclusion constraint, not as a serialization failure: run again, and the rules see that booking.
                raise OperationalError(writes[0][0], None, LostRace("the booking was inserted concurrently")) from None
            raise RuleViolation("court_booking_overlap", OVERLAP_MESSAGE) from None  # as the rules see it (B13)
        transaction = db.transaction()
        if transaction is not None:
            transaction.records[key] = new

    def _inserted_meanwhile(self, key: BookingKey) -> bool:
        """Whether the key has a record now, committed outside this (dead) transaction."""
        r = s.records
        sql = self._db.sql("record_exists", lambda: select(r.c.pos).where(by_key(r, "service_id", "external_id")))
        return bool(self._db.rows(self._db.kept(ONE), sql, dict(zip(KEY, key, strict=True))))

    def _count(self, old: Row | None, new: Row) -> list[tuple[str, Any]]:
        """Move the counts of the lists the record leaves and joins (none when a replace keeps court and
        participants); each process adds to its own shard of a count, so counting never conflicts."""
        changes: dict[str, int] = {}
        for scope in _scopes(old):
            changes[scope] = changes.get(scope, 0) - 1
        for scope in _scopes(new):
            changes[scope] = changes.get(scope, 0) + 1
        rows = [
            {"service_id": new[0], "scope": scope, "shard": self._db.shard, "n": change}
            for scope, change in changes.items()
            if change
        ]
        return [(self._db.sql("count", lambda: _count_statement(self._db)), rows)] if rows else []

    def find_overlap(self, court_id: str, start: datetime, end: datetime, exclude: BookingKey) -> Booking | None:
        """As MemoryStore: active bookings of a court never overlap, so only the last one starting before `end`
        (skipping `exclude`) can overlap `[start, end)`; the index on (court, start) finds it."""
        r = s.records
        rows = self._rows(
            "find_overlap",
            lambda: (
                select(*BOOKING_COLUMNS)
                .where(r.c.court_id == bindparam("court_id"), r.c.start_us < bindparam("end_us"))
                .order_by(r.c.start_us.desc(), r.c.seq.desc())
                .limit(literal_column("2"))
                .offset(literal_column("0"))
            ),
            {"court_id": court_id, "end_us": to_micros(end)},
        )
        start_us = to_micros(start)
        for row in rows:
            if (row[0], row[1]) != exclude:
                return self._booking(row) if row[4] > start_us else None
        return None

    def query_bookings(self, service_id: str, query: BookingQuery) -> tuple[list[Booking], int]:
        """The page and the count of all matches in one statement, from the narrowest index: the first
        participant's, else the court's, else the service's, each in list order (B23-B25)."""
        if query.external_id is not None:
            record = self.booking_record((service_id, query.external_id))
            found = [record] if isinstance(record, Booking) and query.matches(record) else []
            return found[query.offset : query.offset + query.limit], len(found)
        params: Params = {"service_id": service_id, "limit": query.limit, "offset": query.offset}
        for index, participant in enumerate(query.participants):
            params[f"kind{index}"], params[f"value{index}"] = participant.key
        for name, value in (
            ("court_id", query.court_id),
            ("low", query.overlaps_from),
            ("high", query.overlaps_to),
            ("updated_from", query.updated_from),
            ("updated_to", query.updated_to),
        ):
            if value is not None:
                params[name] = value if isinstance(value, str) else to_micros(value)
        scope = _count_scope(query)
        if scope is not None:
            params["scope"] = scope
        shape = (len(query.participants), *(name in params for name in LIST_FILTERS), scope is not None)
        rows = self._rows(("query_bookings", shape), lambda: _list_statement(*shape), params)
        total = rows[0][0] if rows else 0
        return [self._booking(row[1:]) for row in rows if row[2] is not None], total


LIST_FILTERS = ("court_id", "low", "high", "updated_from", "updated_to")


def _latest(statement: Any, table: Table) -> ClauseElement:
    """The last put of the records matching: the one MemoryStore's index by that key names."""
    return statement.order_by(table.c.pos.desc()).limit(literal_column("1")).offset(literal_column("0"))


def _user_relations() -> ClauseElement:
    r, u = s.user_relations, s.users
    return (
        select(*USER_RELATION_COLUMNS, *USER_COLUMNS)
        .select_from(r.outerjoin(u, u.c.id == r.c.user_id))
        .where(r.c.service_id == bindparam("service_id"))
        .order_by(r.c.pos)
    )


def _sessions_of_user() -> ClauseElement:
    p, x = s.session_players, s.sessions
    return (
        select(*SESSION_COLUMNS)
        .select_from(p.join(x, x.c.id == p.c.session_id))
        .where(p.c.user_id == bindparam("user_id"))
        .order_by(p.c.pos)
    )


def _mappings_of_facility() -> ClauseElement:
    m, c = s.mappings, s.courts
    return (
        select(*MAPPING_COLUMNS)
        .select_from(m.join(c, c.c.id == m.c.court_id))
        .where(m.c.service_id == bindparam("service_id"), c.c.facility_id == bindparam("facility_id"))
    )


def _dump_mappings() -> ClauseElement:
    """Grouped by service, as MemoryStore keeps them."""
    m, g = s.mappings, s.mapping_services
    return (
        select(*MAPPING_COLUMNS)
        .select_from(m.join(g, g.c.service_id == m.c.service_id, isouter=True))
        .order_by(g.c.pos, m.c.pos)
    )


def _forget_participants() -> ClauseElement:
    p = s.participants
    return delete(p).where(by_key(p, "service_id", "external_id"))


def _add_participant() -> ClauseElement:
    return insert(s.participants).values({c.name: bindparam(c.name) for c in s.participants.c})


def _count_statement(db: Database) -> ClauseElement:
    t = s.counts
    statement = db.insert(t).values({c.name: bindparam(c.name) for c in t.c})
    return statement.on_conflict_do_update(
        index_elements=["service_id", "scope", "shard"], set_={"n": t.c.n + statement.excluded.n}
    )


def _scopes(row: Row | None) -> list[str]:
    """The counted lists an active booking is in (court_counts.scope)."""
    if row is None or row[2] is None:
        return []
    return ["", f"c:{row[2]}", *(f"p:{kind}:{value}" for kind, value in (p.key for p in _participants(row[6])))]


def _count_scope(query: BookingQuery) -> str | None:
    """The counted list that is exactly the query's matches, if there is one."""
    if query.overlaps_from or query.overlaps_to or query.updated_from or query.updated_to:
        return None
    if not query.participants:
        return "" if query.court_id is None else f"c:{query.court_id}"
    if len(query.participants) == 1 and query.court_id is None:
        kind, value = query.participants[0].key
        return f"p:{kind}:{value}"
    return None


def _list_statement(
    participants: int, court: bool, low: bool, high: bool, updated_from: bool, updated_to: bool, counted: bool
) -> ClauseElement:
    """The page, and the total: counted by the database, or read from court_counts when one count is the
    query's; one statement, one round trip (a LEFT JOIN keeps the total when the page is empty)."""
    r, p = s.records, s.participants
    conditions: list[Any] = []
    if participants:
        source: Any = p.join(r, and_(r.c.service_id == p.c.service_id, r.c.external_id == p.c.external_id))
        conditions += [p.c.service_id == bindparam("service_id"), p.c.kind == bindparam("kind0")]
        conditions.append(p.c.value == bindparam("value0"))
        updated, seq = p.c.updated_us, p.c.seq  # the participant index's own copy: its order, its bounds
        for index in range(1, participants):
            other = p.alias(f"p{index}")
            conditions.append(
                exists().where(
                    other.c.service_id == r.c.service_id,
                    other.c.external_id == r.c.external_id,
                    other.c.kind == bindparam(f"kind{index}"),
                    other.c.value == bindparam(f"value{index}"),
                )
            )
    else:
        source = r
        conditions += [r.c.service_id == bindparam("service_id"), r.c.court_id.is_not(None)]
        updated, seq = r.c.updated_us, r.c.seq
    if court:
        conditions.append(r.c.court_id == bindparam("court_id"))
    if low:
        conditions.append(r.c.end_us > bindparam("low"))
    if high:
        conditions.append(r.c.start_us < bindparam("high"))
    if updated_from:
        conditions.append(updated >= bindparam("updated_from"))
    if updated_to:
        conditions.append(updated <= bindparam("updated_to"))
    page = (
        select(*BOOKING_COLUMNS)
        .select_from(source)
        .where(*conditions)
        .order_by(updated.desc(), seq)
        .limit(bindparam("limit"))
        .offset(bindparam("offset"))
        .subquery("page")
    )
    if counted:
        n = s.counts
        total = (
            select(func.coalesce(cast(func.sum(n.c.n), BigInteger), literal_column("0")).label("total"))
            .where(n.c.service_id == bindparam("service_id"), n.c.scope == bindparam("scope"))
            .subquery("total")
        )
    else:
        total = select(func.count().label("total")).select_from(source).where(*conditions).subquery("total")
    return (
        select(total.c.total, *page.c)
        .select_from(total.outerjoin(page, true()))
        .order_by(page.c.updated_us.desc(), page.c.seq)
    )


def _court(row: Row) -> Court:
    return Court(row[0], row[1], row[2], bool(row[3]))


def court_row(court: Court) -> Params:
    return {
        "id": court.id,
        "facility_id": court.facility_id,
        "name": court.name,
        "system_installed": court.system_installed,
    }


def _token(row: Row) -> ApiToken:
    value, service_id, scopes, expires_us, revoked, description = row
    return ApiToken(value, service_id, json.loads(scopes), maybe_instant(expires_us), bool(revoked), description)


def token_row(token: ApiToken) -> Params:
    return {
        "value": token.value,
        "service_id": token.service_id,
        "scopes": dumps(token.scopes),
        "expires_us": maybe_micros(token.expires_at),
        "revoked": token.revoked,
        "description": token.description,
    }


def organization_row(organization: Organization) -> Params:
    return {"id": organization.id, "name": organization.name, "pro_quota": organization.pro_quota}


def _user(row: Row) -> User:
    *names, birthday, gender, main_sport_type, playing_hand = row
    return User(*names, _birthday(birthday), gender, main_sport_type, playing_hand)


@lru_cache(maxsize=4096)
def _birthday(text: str | None) -> date | None:
    return None if text is None else date.fromisoformat(text)


def user_row(user: User) -> Params:
    return {
        "id": user.id,
        "email": user.email,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "created_by_service_id": user.created_by_service_id,
        "birthday": None if user.birthday is None else user.birthday.isoformat(),
        "gender": user.gender,
        "main_sport_type": user.main_sport_type,
        "playing_hand": user.playing_hand,
    }


def user_relation_row(relation: UserRelation) -> Params:
    return {
        "service_id": relation.service_id,
        "user_id": relation.user_id,
        "external_user_id": relation.external_user_id,
        "status": relation.status,
    }


def _organization_relation(row: Row) -> OrganizationRelation:
    *fields, created_us, updated_us = row
    return OrganizationRelation(*fields, instant(created_us), instant(updated_us))


def organization_relation_row(relation: OrganizationRelation) -> Params:
    return {
        "id": relation.id,
        "service_id": relation.service_id,
        "organization_id": relation.organization_id,
        "external_organization_id": relation.external_organization_id,
        "created_us": to_micros(relation.created_at),
        "updated_us": to_micros(relation.updated_at),
    }


def _connect_token(row: Row) -> ConnectToken:
    value, organization_id, expires_us, state = row
    return ConnectToken(value, organization_id, instant(expires_us), state)


def connect_token_row(token: ConnectToken) -> Params:
    return {
        "value": token.value,
        "organization_id": token.organization_id,
        "expires_us": to_micros(token.expires_at),
        "state": token.state,
    }


def membership_row(membership: Membership) -> Params:
    return {
        "organization_id": membership.organization_id,
        "user_id": membership.user_id,
        "subscription": membership.subscription,
    }


def _session(row: Row) -> Session:
    session_id, kind, sport_type, duration, started_us, teams, workout_id = row
    players = tuple(tuple(SessionPlayer(*player) for player in team) for team in json.loads(teams))
    return Session(session_id, kind, sport_type, duration, instant(started_us), players, workout_id)


def session_row(session: Session) -> Params:
    return {
        "id": session.id,
        "type": session.type,
        "sport_type": session.sport_type,
        "duration_seconds": session.duration_seconds,
        "started_us": to_micros(session.started_at),
        "teams": dumps([[[player.user_id, player.name] for player in team] for team in session.teams]),
        "workout_id": session.workout_id,
    }


def session_player_rows(session: Session) -> list[Params]:
    """Each player once, in the order of the teams."""
    players = dict.fromkeys(player.user_id for team in session.teams for player in team)
    return [{"user_id": user_id, "session_id": session.id} for user_id in players]


def video_row(video: Video) -> Params:
    return {
        "id": video.id,
        "session_id": video.session_id,
        "type": video.type,
        "fps": video.fps,
        "video_url": video.video_url,
        "thumbnail_url": video.thumbnail_url,
        "resolution": video.resolution,
    }


def _mapping(row: Row) -> CourtMapping:
    service_id, court_id, external_court_id, name, created_us, updated_us = row
    return CourtMapping(service_id, court_id, external_court_id, name, instant(created_us), instant(updated_us))


def mapping_row(mapping: CourtMapping) -> Params:
    return {
        "service_id": mapping.service_id,
        "court_id": mapping.court_id,
        "external_court_id": mapping.external_court_id,
        "external_court_name": mapping.external_court_name,
        "created_us": to_micros(mapping.created_at),
        "updated_us": to_micros(mapping.updated_at),
    }


def record_row(record: Booking | Tombstone) -> Params:
    if isinstance(record, Tombstone):
        return {
            "service_id": record.service_id,
            "external_id": record.external_id,
            "external_updated_us": to_micros(record.external_updated_at),
        }
    return {
        "service_id": record.service_id,
        "external_id": record.external_id,
        "court_id": record.court_id,
        "start_us": record.start_us,
        "end_us": record.end_us,
        "external_updated_us": to_micros(record.external_updated_at),
        "participants": _encode_participants(record.participants),
        "created_us": to_micros(record.created_at),
        "updated_us": record.updated_us,
        "seq": record.seq,
    }


@lru_cache(maxsize=4096)
def _participants(encoded: str) -> tuple[Participant, ...]:
    return tuple(
        Participant(user_id=value) if kind == "user" else Participant(email=value)
        for kind, value in json.loads(encoded)
    )


def _encode_participants(participants: tuple[Participant, ...]) -> str:
    return dumps([list(p.key) for p in participants])
