"""The mock's state in a SQL database (SQLite or PostgreSQL, SQLAlchemy Core), shared by every worker process.

`run` makes one request one transaction: the store methods called during it find it in a context variable.
Writes are SERIALIZABLE on PostgreSQL and take SQLite's single write lock (BEGIN IMMEDIATE), so the rules hold
across processes as they hold in one; a transaction that loses a conflict is run again. On PostgreSQL the
database itself also refuses overlapping active bookings of a court (an exclusion constraint).

Store methods called outside `run` use a short transaction of their own, or none for a single statement.
Statements are built with Core once per shape and compiled once per dialect, then sent through the driver's
cursor on a connection each thread keeps: psycopg prepares repeated statements, sqlite3 caches them, and a
request pays for no pool checkout and no result wrapping. The world (tokens, courts, facilities, relations,
access keys) changes only when a world is adopted: it is cached per `control_version()`, which the runtime
reads before every request. The lists' `totalCount` comes from maintained counts where one count is exactly
the query's, so a page costs the same on a court with ten bookings or a million.
"""

import asyncio
import contextlib
import contextvars
import json
import random
import threading
import time
from collections.abc import Awaitable, Callable, Hashable, Iterable
from concurrent.futures import ThreadPoolExecutor
from contextvars import ContextVar
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any, TypeVar

from sqlalchemy import (
    BigInteger,
    Connection,
    Engine,
    Table,
    and_,
    bindparam,
    cast,
    create_engine,
    delete,
    event,
    exists,
    func,
    insert,
    literal_column,
    select,
    true,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.sql import ClauseElement

from mock_server.onlive.models import AccessKey, Appointment, Calendar, Service
from mock_server.onlive.models import Organization as OnliveOrganization
from mock_server.onlive.store.memory import OnliveMemoryStore
from mock_server.store import sql_schema as s
from mock_server.store.backend import JOURNAL_SIZE, StoreError
from mock_server.timestamps import EPOCH, to_micros
from mock_server.violations import RuleViolation
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
    Participant,
    Tombstone,
    User,
    UserRelation,
)
from mock_server.wingfield.store.memory import MemoryStore

T = TypeVar("T")
Params = dict[str, Any]
Row = tuple[Any, ...]

# How a piece of work meets the database.
ONE = "one"  # a single statement: no transaction around it (it is atomic alone)
READ = "read"  # several statements, one snapshot
REQUEST_READ = "request-read"  # a read-only request: PostgreSQL, statement by statement; SQLite, one snapshot
WRITE = "write"  # the rules' writes: serializable, retried on a conflict
CONTROL = "control"  # several statements whose writes need no serializability (control state, adopt)

COUNT_SHARDS = 64
ATTEMPTS = 30  # a conflict loser runs again; two workers rarely need more than a few
JOURNAL_PRUNE_EVERY = 100
CACHE_LIMIT = 50_000  # world lookups and decoded bookings kept per process; emptied when full
SERIALIZATION_FAILURES = {"40001", "40P01"}  # serialization failure, deadlock
SQLITE_BUSY, SQLITE_LOCKED = 5, 6
EXCLUSION_VIOLATION = "23P01"
OVERLAP_MESSAGE = "the court is already booked for part of this time"


class _Transaction:
    """A request's transaction, and what it already read: the rules read a booking, then write it, so the write
    knows the old record (for the counts) without asking again; a list of a facility's courts reads every court's
    mapping, which come in one query from the second on."""

    __slots__ = ("db", "connection", "records", "mappings", "mapping_reads")

    def __init__(self, db: "_Database", connection: Connection) -> None:
        self.db, self.connection = db, connection
        self.records: dict[BookingKey, Row | None] = {}
        self.mappings: dict[tuple[str, str], dict[str, CourtMapping]] = {}  # (service, facility) -> court -> mapping
        self.mapping_reads: dict[tuple[str, str], int] = {}


_CURRENT: ContextVar[_Transaction | None] = ContextVar("bookingkit_sql_transaction", default=None)


def engine_url(url: str) -> str:
    """psycopg 3 for every PostgreSQL spelling."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


@lru_cache(maxsize=1 << 16)
def _instant(micros: int) -> datetime:
    return EPOCH + timedelta(microseconds=micros)


def _maybe_instant(micros: int | None) -> datetime | None:
    return None if micros is None else _instant(micros)


def _maybe_micros(moment: datetime | None) -> int | None:
    return None if moment is None else to_micros(moment)


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


@lru_cache(maxsize=4096)
def _participants(encoded: str) -> tuple[Participant, ...]:
    return tuple(
        Participant(user_id=value) if kind == "user" else Participant(email=value)
        for kind, value in json.loads(encoded)
    )


def _encode_participants(participants: tuple[Participant, ...]) -> str:
    return _dumps([list(p.key) for p in participants])


class _Database:
    """The engine, the compiled statements, the connections each thread keeps, and how work is wrapped in
    transactions and run again after a conflict."""

    def __init__(self, url: str) -> None:
        self.url = engine_url(url)
        self.postgres = make_url(self.url).get_backend_name() == "postgresql"
        if self.postgres:
            # synchronous_commit off: a crash may lose the last moments of commits, never consistency (as
            # SQLite's synchronous=NORMAL below); a commit then waits for no disk flush. Every statement here has
            # an index made for it, and a table that grows fast from a small world has statistics that lag: with
            # no bitmap or sequential scans to choose, the plans never depend on them (an overlap check or a
            # page stays an ordered walk down an index, never a sort of the court's bookings).
            options = "-c synchronous_commit=off -c enable_bitmapscan=off -c enable_seqscan=off"
            connect_args = {"prepare_threshold": 2, "options": options}
            self.engine: Engine = create_engine(self.url, pool_size=8, max_overflow=32, connect_args=connect_args)
            autocommit = self.engine.execution_options(isolation_level="AUTOCOMMIT")
            self._engines: dict[str, Engine] = {
                ONE: autocommit,
                REQUEST_READ: autocommit,  # read requests run one statement, rarely two: no BEGIN, no COMMIT
                READ: self.engine.execution_options(isolation_level="REPEATABLE READ"),
                WRITE: self.engine.execution_options(isolation_level="SERIALIZABLE"),
                CONTROL: self.engine,  # READ COMMITTED
            }
            self._kinds = {ONE: ONE, REQUEST_READ: ONE, READ: READ, WRITE: WRITE, CONTROL: CONTROL}
            self.dialect = postgresql.dialect(paramstyle="pyformat")
        elif self.url.startswith("sqlite"):
            if make_url(self.url).database in (None, "", ":memory:"):
                raise StoreError(f"--store {url}: an in-memory SQLite database cannot be shared; give a file")
            self.engine = create_engine(
                self.url,
                paramstyle="named",
                pool_size=8,
                max_overflow=32,
                connect_args={"timeout": 30, "check_same_thread": False, "cached_statements": 512},
            )
            event.listen(self.engine, "connect", _sqlite_connection)
            self._engines = dict.fromkeys((ONE, READ, REQUEST_READ, WRITE, CONTROL), self.engine)
            self._kinds = {ONE: ONE, REQUEST_READ: READ, READ: READ, WRITE: WRITE, CONTROL: WRITE}
            self.dialect = self.engine.dialect
        else:
            raise StoreError(f"--store {url}: use sqlite:///path.db or postgresql://user@host/database")
        self._dbapi: Any = self.engine.dialect.loaded_dbapi
        self._compiled: dict[Hashable, str] = {}
        self._local = threading.local()
        self._kept: list[Connection] = []
        self._lock = threading.Lock()
        self.shard = random.randrange(COUNT_SHARDS) if self.postgres else 0  # this process's rows of the counts
        self.on_new_version: list[Callable[[], None]] = []
        self.seen_version = -1

    # -- statements ------------------------------------------------------------------------------

    def sql(self, key: Hashable, build: Callable[[], ClauseElement]) -> str:
        """The statement `build` makes, compiled once for this database."""
        compiled = self._compiled.get(key)
        if compiled is None:
            statement = build().compile(dialect=self.dialect)
            fixed = [name for name, value in statement.params.items() if value is not None]
            assert not fixed, f"{key}: write constants as literal_column, not binds: {fixed}"
            compiled = self._compiled[key] = str(statement)
        return compiled

    def insert(self, table: Table) -> Any:
        return (postgresql.insert if self.postgres else sqlite.insert)(table)

    def upsert(self, table: Table, key: list[str], values: dict[str, Any] | None = None) -> ClauseElement:
        """INSERT ... ON CONFLICT (key) DO UPDATE of every column but `pos` (kept: the first insertion's order)."""
        columns = [c.name for c in table.c if c.name != "pos"]
        statement = self.insert(table).values({name: (values or {}).get(name, bindparam(name)) for name in columns})
        return statement.on_conflict_do_update(
            index_elements=key, set_={name: statement.excluded[name] for name in columns if name not in key}
        )

    # -- running statements ------------------------------------------------------------------------

    def rows(self, c: Connection, sql: str, params: Params | list[Params] | None = None) -> list[Row]:
        """One statement on `c` through the driver's cursor (a list of parameters: once per row); its rows."""
        cursor = c.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            if isinstance(params, list):
                cursor.executemany(sql, params)
                return []
            cursor.execute(sql, params or {})
            return cursor.fetchall() if cursor.description is not None else []
        except self._dbapi.Error as exc:
            raise self._reported(c, sql, exc) from exc
        finally:
            cursor.close()

    def write_all(self, c: Connection, writes: list[tuple[str, Any]]) -> None:
        """Statements that need no answer, with their parameters. PostgreSQL: sent in one pipeline, so they cost
        one round trip instead of one each."""
        if not self.postgres:
            for sql, params in writes:
                self.rows(c, sql, params)
            return
        raw = c.connection.dbapi_connection
        try:
            with raw.pipeline(), raw.cursor() as cursor:  # type: ignore[union-attr]
                for sql, params in writes:
                    if isinstance(params, list):
                        cursor.executemany(sql, params)
                    else:
                        cursor.execute(sql, params)
        except self._dbapi.Error as exc:
            raise self._reported(c, writes[0][0], exc) from exc

    def _reported(self, c: Connection, sql: str, exc: Exception) -> DBAPIError:
        """A driver error as SQLAlchemy reports it (IntegrityError, OperationalError, ...), the connection given
        up when the error says it is gone."""
        gone = False
        with contextlib.suppress(Exception):  # a check that fails leaves the connection as it is
            gone = bool(self.engine.dialect.is_disconnect(exc, c.connection.dbapi_connection, None))  # type: ignore[arg-type]
        if gone:
            c.invalidate()
        return DBAPIError.instance(sql, None, exc, self._dbapi.Error, connection_invalidated=gone)

    def transaction(self) -> _Transaction | None:
        """The current request's transaction on this database, if any."""
        current = _CURRENT.get()
        return current if current is not None and current.db is self else None

    def kept(self, mode: str) -> Connection:
        """This thread's connection for work of `mode`, kept between uses: no pool checkout per statement."""
        connections = self._local.__dict__.setdefault("connections", {})
        kind = self._kinds[mode]
        connection = connections.get(kind)
        if connection is None or connection.closed or connection.invalidated:
            connection = connections[kind] = self._engines[mode].connect()
            with self._lock:
                self._kept.append(connection)
        return connection

    def query(self, sql: str, params: Params | list[Params] | None = None) -> list[Row]:
        """One statement: in the current request's transaction, else alone (autocommit), run again on a
        conflict or a lost connection."""
        current = self.transaction()
        if current is not None:
            return self.rows(current.connection, sql, params)
        for attempt in range(ATTEMPTS):
            try:
                return self.rows(self.kept(ONE), sql, params)
            except DBAPIError as exc:
                if attempt + 1 == ATTEMPTS or not self.retryable(exc):
                    raise
            time.sleep(self.backoff(attempt))
        raise AssertionError("unreachable")

    def first(self, sql: str, params: Params | None = None) -> Row | None:
        found = self.query(sql, params)
        return found[0] if found else None

    def do(self, mode: str, work: Callable[..., T], *args: Any) -> T:
        """`work(connection, *args)`, several statements: in the current request's transaction, else in one of
        its own, run again when it lost a conflict."""
        current = self.transaction()
        if current is not None:
            return work(current.connection, *args)
        for attempt in range(ATTEMPTS):
            connection = self.kept(mode)
            token = _CURRENT.set(_Transaction(self, connection))  # the statements `work` runs join it
            try:
                self.begin(connection, mode)
                result = work(connection, *args)
                connection.commit()
                return result
            except DBAPIError as exc:
                if attempt + 1 == ATTEMPTS or not self.retryable(exc):
                    raise
            finally:
                _CURRENT.reset(token)
                self.end(connection)
            time.sleep(self.backoff(attempt))
        raise AssertionError("unreachable")

    def begin(self, connection: Connection, mode: str) -> None:
        """PostgreSQL begins with the connection's isolation level at the first statement. SQLite: the driver
        leaves transactions to us; a writer takes the write lock at once, so two writers never deadlock
        upgrading their read locks, and waits for it (the busy timeout) rather than failing."""
        if self._kinds[mode] == ONE:
            return
        connection.begin()
        if not self.postgres:
            self.rows(connection, "BEGIN" if self._kinds[mode] == READ else "BEGIN IMMEDIATE")

    def end(self, connection: Connection) -> None:
        """After the work: roll back what did not commit; a broken connection is given up (the next use of this
        thread opens another)."""
        if connection.invalidated:
            connection.close()
            return
        if connection.get_transaction() is not None:  # also one whose commit failed, no longer active
            connection.rollback()

    def retryable(self, exc: DBAPIError) -> bool:
        if exc.connection_invalidated:
            return True
        if self.postgres:
            return getattr(exc.orig, "sqlstate", None) in SERIALIZATION_FAILURES
        code = getattr(exc.orig, "sqlite_errorcode", None)
        if code is not None:
            return code & 0xFF in (SQLITE_BUSY, SQLITE_LOCKED)
        return "locked" in str(exc.orig) or "busy" in str(exc.orig)

    @staticmethod
    def backoff(attempt: int) -> float:
        return min(0.05, 0.001 * 2**attempt) * random.uniform(0.5, 1.5)

    def court_key(self, court_id: str) -> int:
        """The court's number (PostgreSQL), made on first use: committed at once on this thread's autocommit
        connection, outside any request's transaction, since numbering a court is no part of any outcome and
        never conflicts."""
        insert_key = self.sql(
            "insert_court_key",
            lambda: self.insert(s.court_keys).values(court_id=bindparam("court_id")).on_conflict_do_nothing(),
        )
        read_key = self.sql(
            "court_key", lambda: select(s.court_keys.c.key).where(s.court_keys.c.court_id == bindparam("court_id"))
        )
        connection = self.kept(ONE)
        self.rows(connection, insert_key, {"court_id": court_id})
        return self.rows(connection, read_key, {"court_id": court_id})[0][0]

    def note_version(self, version: int) -> int:
        """A control version read from the database: when it moved, cached world reads are dropped."""
        if version != self.seen_version:
            self.seen_version = version
            for forget in self.on_new_version:
                forget()
        return version

    def close(self) -> None:
        with self._lock:
            kept, self._kept = self._kept, []
        for connection in kept:
            if not connection.closed:
                connection.close()
        self.engine.dispose()


def _sqlite_connection(connection: Any, _record: Any) -> None:
    connection.isolation_level = None  # no implicit BEGIN from the driver: `begin` says which kind
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")  # readers never wait for the writer, nor it for them
    cursor.execute("PRAGMA synchronous=NORMAL")  # durable at each checkpoint; safe with WAL
    cursor.close()


class _WorldCache:
    """Lookups of records that only an adopt changes, valid while the control version stays."""

    def __init__(self) -> None:
        self._tables: dict[str, dict[Any, Any]] = {}

    def get(self, table: str, key: Any, fetch: Callable[[Any], Any]) -> Any:
        entries = self._tables.get(table)
        if entries is None:
            entries = self._tables[table] = {}
        try:
            return entries[key]
        except KeyError:
            pass
        found = fetch(key)
        if len(entries) >= CACHE_LIMIT:
            entries.clear()
        entries[key] = found
        return found

    def put(self, table: str, key: Any, value: Any) -> None:
        self._tables.setdefault(table, {})[key] = value

    def clear(self) -> None:
        self._tables = {}


def _by_key(table: Table, *columns: str) -> ClauseElement:
    return and_(*(table.c[name] == bindparam(name) for name in columns))


class _SqlStoreBase:
    def __init__(self, db: _Database) -> None:
        self._db = db
        self._world = _WorldCache()
        db.on_new_version.append(self._world.clear)

    def forget(self) -> None:
        """Drop what this process remembers of the world (it was replaced)."""
        self._world.clear()

    def _rows(self, key: Hashable, build: Callable[[], ClauseElement], params: Params | None = None) -> list[Row]:
        return self._db.query(self._db.sql(key, build), params)

    def _first(self, key: Hashable, build: Callable[[], ClauseElement], params: Params | None = None) -> Row | None:
        return self._db.first(self._db.sql(key, build), params)

    def _write(self, key: Hashable, build: Callable[[], ClauseElement], params: Params) -> None:
        self._db.query(self._db.sql(key, build), params)


# -- Wingfield ---------------------------------------------------------------------------------------------

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
USER_COLUMNS = [
    s.users.c.id,
    s.users.c.email,
    s.users.c.first_name,
    s.users.c.last_name,
    s.users.c.created_by_service_id,
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
]
MAPPING_FIELDS = ["service_id", "court_id", "external_court_id", "external_court_name", "created_us", "updated_us"]
MAPPING_COLUMNS = [s.mappings.c[name] for name in MAPPING_FIELDS]


class SqlStore(_SqlStoreBase):
    """The Wingfield `Store` (base.py) on SQL: the same answers, orders and pages as MemoryStore."""

    def __init__(self, db: _Database) -> None:
        super().__init__(db)
        self._bookings: dict[Row, Booking] = {}
        self._court_keys: dict[str, int] = {}

    # -- the world ---------------------------------------------------------------------------------

    def _add(self, table: Table, key: list[str], values: Params) -> None:
        self._write(("add", table.name), lambda: self._db.upsert(table, key), values)
        self._world.clear()

    def add_organization(self, organization: Organization) -> None:
        self._add(s.organizations, ["id"], {"id": organization.id, "name": organization.name})

    def add_facility(self, facility: Facility) -> None:
        values = {"id": facility.id, "organization_id": facility.organization_id, "name": facility.name}
        self._add(s.facilities, ["id"], values)

    def add_court(self, court: Court) -> None:
        self._add(s.courts, ["id"], _court_row(court))

    def add_service(self, service: ExternalService) -> None:
        self._add(s.services, ["id"], {"id": service.id, "name": service.name})

    def add_token(self, token: ApiToken) -> None:
        self._add(s.tokens, ["value"], _token_row(token))

    def add_user(self, user: User) -> None:
        self._add(s.users, ["id"], _user_row(user))

    def add_user_relation(self, relation: UserRelation) -> None:
        self._add(s.user_relations, ["service_id", "user_id"], _user_relation_row(relation))

    def add_organization_relation(self, relation: OrganizationRelation) -> None:
        self._add(s.organization_relations, ["service_id", "organization_id"], _organization_relation_row(relation))

    def _cached(self, table: Table, columns: list[Any], key: Params, make: Callable[[Row], Any]) -> Any:
        """One record of the world by its key, from the cache when this version of the world gave it already."""

        def fetch(_: Any) -> Any:
            row = self._first(
                ("world", table.name, tuple(key)), lambda: select(*columns).where(_by_key(table, *key)), key
            )
            return None if row is None else make(row)

        return self._world.get(table.name, tuple(key.values()), fetch)

    def organization(self, organization_id: str) -> Organization | None:
        t = s.organizations
        return self._cached(t, [t.c.id, t.c.name], {"id": organization_id}, lambda row: Organization(*row))

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
                lambda: select(*COURT_COLUMNS).where(_by_key(t, "facility_id")).order_by(t.c.pos),
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

    def user(self, user_id: str) -> User | None:
        return self._cached(s.users, USER_COLUMNS, {"id": user_id}, lambda row: User(*row))

    def user_relation(self, service_id: str, user_id: str) -> UserRelation | None:
        key = {"service_id": service_id, "user_id": user_id}
        return self._cached(s.user_relations, USER_RELATION_COLUMNS, key, lambda row: UserRelation(*row))

    def has_organization_relation(self, service_id: str, organization_id: str) -> bool:
        t = s.organization_relations
        key = {"service_id": service_id, "organization_id": organization_id}
        return self._cached(t, [t.c.pos], key, lambda _: True) is not None

    # -- snapshots ---------------------------------------------------------------------------------

    def dump(self) -> dict[str, Any]:
        """Every record, in the shapes and orders of MemoryStore.dump, from one snapshot."""
        return self._db.do(READ, self._dump)

    def _dump(self, c: Connection) -> dict[str, Any]:
        def rows(table: Table, columns: list[Any]) -> list[Row]:
            return self._db.rows(c, self._db.sql(("dump", table.name), lambda: select(*columns).order_by(table.c.pos)))

        o, f, sv = s.organizations, s.facilities, s.services
        return {
            "organizations": [Organization(*r) for r in rows(o, [o.c.id, o.c.name])],
            "facilities": [Facility(*r) for r in rows(f, [f.c.id, f.c.organization_id, f.c.name])],
            "courts": [_court(r) for r in rows(s.courts, COURT_COLUMNS)],
            "services": [ExternalService(*r) for r in rows(sv, [sv.c.id, sv.c.name])],
            "tokens": [_token(r) for r in rows(s.tokens, TOKEN_COLUMNS)],
            "users": [User(*r) for r in rows(s.users, USER_COLUMNS)],
            "user_relations": [UserRelation(*r) for r in rows(s.user_relations, USER_RELATION_COLUMNS)],
            "organization_relations": [
                OrganizationRelation(*r) for r in rows(s.organization_relations, ORGANIZATION_RELATION_COLUMNS)
            ],
            "mappings": [_mapping(r) for r in self._db.rows(c, self._db.sql("dump_mappings", _dump_mappings))],
            "records": [self._record(r) for r in rows(s.records, BOOKING_COLUMNS)],
            "seq": _read_counter(self._db, c, "booking_seq"),
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
            lambda: select(*MAPPING_COLUMNS).where(_by_key(m, "service_id", "court_id")),
            {"service_id": service_id, "court_id": court_id},
        )
        return None if row is None else _mapping(row)

    def mapping_by_external_id(self, service_id: str, external_court_id: str) -> CourtMapping | None:
        m = s.mappings
        row = self._first(
            "mapping_by_external_id",
            lambda: (
                select(*MAPPING_COLUMNS)
                .where(_by_key(m, "service_id", "external_court_id"))
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
            lambda: select(*MAPPING_COLUMNS).where(_by_key(m, "service_id")).order_by(m.c.pos),
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
        remove = db.sql("delete_mapping", lambda: delete(m).where(_by_key(m, "service_id", "court_id")))
        add = db.sql("insert_mapping", lambda: insert(m).values({c: bindparam(c) for c in MAPPING_FIELDS}))
        key = {"service_id": mapping.service_id, "court_id": mapping.court_id}
        writes = [(group, {"service_id": mapping.service_id}), (remove, key), (add, _mapping_row(mapping))]
        db.do(WRITE, db.write_all, writes)
        self._forget_mappings()

    def delete_mapping(self, service_id: str, court_id: str) -> None:
        m = s.mappings
        key = {"service_id": service_id, "court_id": court_id}
        self._write("delete_mapping", lambda: delete(m).where(_by_key(m, "service_id", "court_id")), key)
        self._forget_mappings()

    def _forget_mappings(self) -> None:
        transaction = self._db.transaction()
        if transaction is not None:
            transaction.mappings.clear()

    # -- court bookings ----------------------------------------------------------------------------

    def _record(self, row: Row) -> Booking | Tombstone:
        service_id, external_id, court_id, _, _, external_updated_us, *_ = row
        if court_id is None:
            return Tombstone(service_id, external_id, _instant(external_updated_us))
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
                _instant(start),
                _instant(end),
                _instant(version),
                _participants(encoded),
                _instant(created),
                _instant(updated),
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
            lambda: select(*BOOKING_COLUMNS).where(_by_key(r, "service_id", "external_id")),
            {"service_id": key[0], "external_id": key[1]},
        )
        if transaction is not None:
            transaction.records[key] = row
        return row

    def next_booking_seq(self) -> int:
        return _next_counter(self._db, "booking_seq")

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
            c.rollback()  # the transaction is dead; the rules see the overlap as they would have (B13)
            raise RuleViolation("court_booking_overlap", OVERLAP_MESSAGE) from None
        transaction = db.transaction()
        if transaction is not None:
            transaction.records[key] = new

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
    return delete(p).where(_by_key(p, "service_id", "external_id"))


def _add_participant() -> ClauseElement:
    return insert(s.participants).values({c.name: bindparam(c.name) for c in s.participants.c})


def _count_statement(db: _Database) -> ClauseElement:
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


def _next_counter(db: _Database, name: str) -> int:
    """PostgreSQL: a sequence, which concurrent transactions draw from without conflict. SQLite: a row of
    `meta` (its writers take turns)."""
    if db.postgres:
        return db.query(db.sql(("nextval", name), lambda: select(s.COUNTERS[name].next_value())))[0][0]
    sql = db.sql(
        "next_counter",
        lambda: (
            update(s.meta)
            .where(s.meta.c.name == bindparam("counter"))
            .values(value=s.meta.c.value + literal_column("1"))
            .returning(s.meta.c.value)
        ),
    )
    return db.query(sql, {"counter": name})[0][0]


def _read_counter(db: _Database, c: Connection, name: str) -> int:
    """The counter's last value given out (0 before the first)."""
    if db.postgres:
        last, called = db.rows(c, f"SELECT last_value, is_called FROM {s.COUNTERS[name].name}")[0]
        return last if called else last - 1
    sql = db.sql("read_counter", lambda: select(s.meta.c.value).where(s.meta.c.name == bindparam("counter")))
    return db.rows(c, sql, {"counter": name})[0][0]


def _set_counter(db: _Database, c: Connection, name: str, value: int) -> None:
    if db.postgres:
        db.rows(c, f"SELECT setval('{s.COUNTERS[name].name}', {max(value, 1)}, {str(value > 0).lower()})")
    else:
        _set_meta(db, c, name, value)


def _set_meta(db: _Database, c: Connection, name: str, value: int) -> None:
    sql = db.sql(
        "set_meta",
        lambda: update(s.meta).where(s.meta.c.name == bindparam("counter")).values(value=bindparam("amount")),
    )
    db.rows(c, sql, {"counter": name, "amount": value})


def _court(row: Row) -> Court:
    return Court(row[0], row[1], row[2], bool(row[3]))


def _court_row(court: Court) -> Params:
    return {
        "id": court.id,
        "facility_id": court.facility_id,
        "name": court.name,
        "system_installed": court.system_installed,
    }


def _token(row: Row) -> ApiToken:
    value, service_id, scopes, expires_us, revoked, description = row
    return ApiToken(value, service_id, json.loads(scopes), _maybe_instant(expires_us), bool(revoked), description)


def _token_row(token: ApiToken) -> Params:
    return {
        "value": token.value,
        "service_id": token.service_id,
        "scopes": _dumps(token.scopes),
        "expires_us": _maybe_micros(token.expires_at),
        "revoked": token.revoked,
        "description": token.description,
    }


def _user_row(user: User) -> Params:
    return {
        "id": user.id,
        "email": user.email,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "created_by_service_id": user.created_by_service_id,
    }


def _user_relation_row(relation: UserRelation) -> Params:
    return {
        "service_id": relation.service_id,
        "user_id": relation.user_id,
        "external_user_id": relation.external_user_id,
        "status": relation.status,
    }


def _organization_relation_row(relation: OrganizationRelation) -> Params:
    return {
        "id": relation.id,
        "service_id": relation.service_id,
        "organization_id": relation.organization_id,
        "external_organization_id": relation.external_organization_id,
    }


def _mapping(row: Row) -> CourtMapping:
    service_id, court_id, external_court_id, name, created_us, updated_us = row
    return CourtMapping(service_id, court_id, external_court_id, name, _instant(created_us), _instant(updated_us))


def _mapping_row(mapping: CourtMapping) -> Params:
    return {
        "service_id": mapping.service_id,
        "court_id": mapping.court_id,
        "external_court_id": mapping.external_court_id,
        "external_court_name": mapping.external_court_name,
        "created_us": to_micros(mapping.created_at),
        "updated_us": to_micros(mapping.updated_at),
    }


def _record_row(record: Booking | Tombstone) -> Params:
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


# -- ONLIVE.SITE --------------------------------------------------------------------------------------------

CALENDAR_FIELDS = ["id", "organization_id", "fields", "created_us", "updated_us"]
CALENDAR_COLUMNS = [s.onlive_calendars.c[name] for name in CALENDAR_FIELDS]
SERVICE_FIELDS = ["id", "organization_id", "fields", "created_us", "updated_us", "deleted_us", "seq"]
SERVICE_COLUMNS = [s.onlive_services.c[name] for name in SERVICE_FIELDS]
APPOINTMENT_FIELDS = [
    "id",
    "organization_id",
    "service_id",
    "calendar_ids",
    "start_us",
    "end_us",
    "state",
    "created_us",
    "updated_us",
    "fields",
    "deleted_us",
]
APPOINTMENT_COLUMNS = [s.onlive_appointments.c[name] for name in APPOINTMENT_FIELDS]


def _calendar(row: Row) -> Calendar:
    id_, organization_id, fields, created_us, updated_us = row
    return Calendar(id_, organization_id, json.loads(fields), _instant(created_us), _instant(updated_us))


def _calendar_row(calendar: Calendar) -> Params:
    return {
        "id": calendar.id,
        "organization_id": calendar.organization_id,
        "fields": _dumps(calendar.fields),
        "created_us": to_micros(calendar.created_at),
        "updated_us": to_micros(calendar.updated_at),
    }


def _service(row: Row) -> Service:
    id_, organization_id, fields, created_us, updated_us, deleted_us, seq = row
    return Service(
        id_,
        organization_id,
        json.loads(fields),
        _instant(created_us),
        _instant(updated_us),
        _maybe_instant(deleted_us),
        seq,
    )


def _service_row(service: Service) -> Params:
    return {
        "id": service.id,
        "organization_id": service.organization_id,
        "fields": _dumps(service.fields),
        "created_us": to_micros(service.created_at),
        "updated_us": to_micros(service.updated_at),
        "deleted_us": _maybe_micros(service.deleted_at),
        "seq": service.seq,
    }


def _appointment(row: Row) -> Appointment:
    id_, organization_id, service_id, calendar_ids, start, end, state, created, updated, fields, deleted = row
    return Appointment(
        id_,
        organization_id,
        service_id,
        tuple(json.loads(calendar_ids)),
        _instant(start),
        _instant(end),
        state,
        _instant(created),
        _instant(updated),
        json.loads(fields),
        _maybe_instant(deleted),
    )


def _appointment_row(appointment: Appointment) -> Params:
    return {
        "id": appointment.id,
        "organization_id": appointment.organization_id,
        "service_id": appointment.service_id,
        "calendar_ids": _dumps(list(appointment.calendar_ids)),
        "start_us": to_micros(appointment.start),
        "end_us": to_micros(appointment.end),
        "state": appointment.state,
        "created_us": to_micros(appointment.created_at),
        "updated_us": to_micros(appointment.updated_at),
        "fields": _dumps(appointment.fields),
        "deleted_us": _maybe_micros(appointment.deleted_at),
    }


class SqlOnliveStore(_SqlStoreBase):
    """The ONLIVE.SITE `OnliveStore` (base.py) on SQL: the same answers and orders as OnliveMemoryStore."""

    def dump(self) -> dict[str, Any]:
        return self._db.do(READ, self._dump)

    def _dump(self, c: Connection) -> dict[str, Any]:
        def rows(table: Table, columns: list[Any]) -> list[Row]:
            return self._db.rows(c, self._db.sql(("dump", table.name), lambda: select(*columns).order_by(table.c.pos)))

        o, k = s.onlive_organizations, s.onlive_access_keys
        return {
            "organizations": [OnliveOrganization(*r) for r in rows(o, [o.c.id, o.c.name])],
            "access_keys": [AccessKey(*r) for r in rows(k, [k.c.id, k.c.secret, k.c.organization_id])],
            "calendars": [_calendar(r) for r in rows(s.onlive_calendars, CALENDAR_COLUMNS)],
            "services": [_service(r) for r in rows(s.onlive_services, SERVICE_COLUMNS)],
            "appointments": [_appointment(r) for r in rows(s.onlive_appointments, APPOINTMENT_COLUMNS)],
            "seq": _read_counter(self._db, c, "onlive_seq"),
        }

    def add_organization(self, organization: OnliveOrganization) -> None:
        t = s.onlive_organizations
        self._write(
            "ol_add_organization",
            lambda: self._db.upsert(t, ["id"]),
            {"id": organization.id, "name": organization.name},
        )
        self._world.clear()

    def organizations(self) -> Iterable[OnliveOrganization]:
        t = s.onlive_organizations
        rows = self._rows("ol_organizations", lambda: select(t.c.id, t.c.name).order_by(t.c.pos))
        return [OnliveOrganization(*row) for row in rows]

    def add_access_key(self, key: AccessKey) -> None:
        t = s.onlive_access_keys
        values = {"id": key.id, "secret": key.secret, "organization_id": key.organization_id}
        self._write("ol_add_access_key", lambda: self._db.upsert(t, ["id"]), values)
        self._world.clear()

    def access_key(self, key_id: str) -> AccessKey | None:
        t = s.onlive_access_keys

        def fetch(key: str) -> AccessKey | None:
            row = self._first(
                "ol_access_key",
                lambda: select(t.c.id, t.c.secret, t.c.organization_id).where(_by_key(t, "id")),
                {"id": key},
            )
            return None if row is None else AccessKey(*row)

        return self._world.get("access_keys", key_id, fetch)

    def access_keys(self) -> Iterable[AccessKey]:
        t = s.onlive_access_keys
        rows = self._rows("ol_access_keys", lambda: select(t.c.id, t.c.secret, t.c.organization_id).order_by(t.c.pos))
        return [AccessKey(*row) for row in rows]

    def next_seq(self) -> int:
        return _next_counter(self._db, "onlive_seq")

    def put_calendar(self, calendar: Calendar) -> None:
        self._write("ol_put_calendar", lambda: self._db.upsert(s.onlive_calendars, ["id"]), _calendar_row(calendar))

    def calendar(self, calendar_id: str) -> Calendar | None:
        t = s.onlive_calendars
        row = self._first("ol_calendar", lambda: select(*CALENDAR_COLUMNS).where(_by_key(t, "id")), {"id": calendar_id})
        return None if row is None else _calendar(row)

    def calendars_of(self, organization_id: str) -> Iterable[Calendar]:
        t = s.onlive_calendars
        rows = self._rows(
            "ol_calendars_of",
            lambda: select(*CALENDAR_COLUMNS).where(_by_key(t, "organization_id")).order_by(t.c.pos),
            {"organization_id": organization_id},
        )
        return [_calendar(row) for row in rows]

    def put_service(self, service: Service) -> None:
        self._write("ol_put_service", lambda: self._db.upsert(s.onlive_services, ["id"]), _service_row(service))

    def service(self, service_id: str) -> Service | None:
        t = s.onlive_services
        row = self._first("ol_service", lambda: select(*SERVICE_COLUMNS).where(_by_key(t, "id")), {"id": service_id})
        return None if row is None else _service(row)

    def services_of(self, organization_id: str) -> Iterable[Service]:
        t = s.onlive_services
        rows = self._rows(
            "ol_services_of",
            lambda: select(*SERVICE_COLUMNS).where(_by_key(t, "organization_id")).order_by(t.c.pos),
            {"organization_id": organization_id},
        )
        return [_service(row) for row in rows]

    def put_appointment(self, appointment: Appointment) -> None:
        """A put moves the appointment to the end of its service's list, as in OnliveMemoryStore."""
        t = s.onlive_appointments
        if self._db.postgres:
            order: Any = s.ONLIVE_ORDER.next_value()
        else:
            order = (
                select(func.coalesce(func.max(t.c.service_pos), literal_column("0")) + literal_column("1"))
                .where(t.c.service_id == bindparam("service_id"))
                .scalar_subquery()
            )
        self._write(
            "ol_put_appointment",
            lambda: self._db.upsert(t, ["id"], {"service_pos": order}),
            _appointment_row(appointment),
        )

    def appointment(self, appointment_id: str) -> Appointment | None:
        t = s.onlive_appointments
        row = self._first(
            "ol_appointment", lambda: select(*APPOINTMENT_COLUMNS).where(_by_key(t, "id")), {"id": appointment_id}
        )
        return None if row is None else _appointment(row)

    def appointments_of(self, organization_id: str) -> Iterable[Appointment]:
        t = s.onlive_appointments
        rows = self._rows(
            "ol_appointments_of",
            lambda: select(*APPOINTMENT_COLUMNS).where(_by_key(t, "organization_id")).order_by(t.c.pos),
            {"organization_id": organization_id},
        )
        return [_appointment(row) for row in rows]

    def appointments_of_service(self, service_id: str) -> Iterable[Appointment]:
        t = s.onlive_appointments
        rows = self._rows(
            "ol_appointments_of_service",
            lambda: select(*APPOINTMENT_COLUMNS).where(_by_key(t, "service_id")).order_by(t.c.service_pos),
            {"service_id": service_id},
        )
        return [_appointment(row) for row in rows]


# -- the backend --------------------------------------------------------------------------------------------


class SqlBackend:
    """Both APIs' state and the control plane's in one database, for any number of processes and hosts."""

    shared = True

    def __init__(self, url: str) -> None:
        self._db = _Database(url)
        self.url = self._db.url
        try:
            self.schema_version = self._migrate()
        except BaseException:
            self._db.close()
            raise
        self.wingfield = SqlStore(self._db)
        self.onlive = SqlOnliveStore(self._db)
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="bookingkit-sql")

    def _migrate(self) -> int:
        with self._db.engine.connect() as connection:
            if not self._db.postgres:
                connection.exec_driver_sql("BEGIN IMMEDIATE")  # one process migrates; the others wait, then see it
            version = s.migrate(connection)
            connection.commit()
        if version > s.LATEST:
            raise StoreError(
                f"--store {self.url}: the database has schema version {version}; this mock knows up to {s.LATEST}"
            )
        return version

    @property
    def dialect(self) -> str:
        return "postgresql" if self._db.postgres else "sqlite"

    async def run(self, call: Callable[[], Awaitable[T]], *, write: bool) -> T:
        """`call` in one transaction, on this backend's database thread: the event loop goes on reading and
        answering other requests while this one waits for the database. One thread, so the rules and the
        handlers still run one request at a time in a process, as they do on the memory store."""
        if self._db.transaction() is not None:  # called by a rule already in a transaction
            return await call()
        context = contextvars.copy_context()
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._thread, context.run, self._run, call, write)

    def _run(self, call: Callable[[], Awaitable[T]], write: bool) -> T:
        """Run again, after a short and growing pause, when the transaction lost a conflict with a concurrent
        one. A rule's refusal commits what little it wrote (a counter), as the memory store keeps it; on
        PostgreSQL that commit also proves the reads the refusal was based on."""
        db = self._db
        mode = WRITE if write else REQUEST_READ
        for attempt in range(ATTEMPTS):
            connection = db.kept(mode)
            token = _CURRENT.set(_Transaction(db, connection))
            try:
                db.begin(connection, mode)
                try:
                    result = _complete(call())
                except RuleViolation:
                    connection.commit()
                    raise
                connection.commit()
                return result
            except DBAPIError as exc:
                if attempt + 1 == ATTEMPTS or not db.retryable(exc):
                    raise
            finally:
                _CURRENT.reset(token)
                db.end(connection)
            time.sleep(db.backoff(attempt))
        raise AssertionError("unreachable")

    # -- the whole state ---------------------------------------------------------------------------

    def adopt(self, wingfield: MemoryStore, onlive: OnliveMemoryStore) -> None:
        """Replace every record with these stores' in one transaction: emptied tables, bulk inserts (COPY on
        PostgreSQL), the stores' `seq` values and counters kept. Other transactions wait for it (PostgreSQL:
        TRUNCATE locks the tables; SQLite: the write lock)."""
        batches, counters = _adoption_rows(wingfield, onlive)
        version = self._db.do(CONTROL, self._adopt, batches, counters)
        if self._db.postgres:  # the visibility map, so that counting an index does not visit the table
            self._db.query(f"VACUUM {s.records.name}, {s.participants.name}")
        self.wingfield.forget()
        self.onlive.forget()
        self._db.note_version(version)

    def _adopt(self, c: Connection, batches: dict[str, Any], counters: dict[str, int]) -> int:
        db = self._db
        if db.postgres:
            db.rows(c, "TRUNCATE " + ", ".join(t.name for t in s.STATE))
            _number_courts(db, c, batches)
        else:
            for table in s.STATE:
                db.rows(c, f"DELETE FROM {table.name}")
        for table in s.STATE:
            columns, rows = batches[table.name]
            if rows:
                _bulk_insert(db, c, table, columns, rows)
        if db.postgres:
            for table in s.POSITIONED:
                db.rows(
                    c,
                    f"SELECT setval(pg_get_serial_sequence('{table.name}', 'pos'), "
                    f"COALESCE((SELECT MAX(pos) FROM {table.name}), 0) + 1, false)",
                )
            for table in (s.records, s.participants, s.counts, s.mappings):  # statistics of the new contents
                db.rows(c, f"ANALYZE {table.name}")
        for name, value in counters.items():
            _set_counter(db, c, name, value)
        _set_meta(db, c, "seeded", 1)
        return _bump_version(db, c)

    def seeded(self) -> bool:
        return bool(self._meta("seeded"))

    def _meta(self, name: str) -> int:
        sql = self._db.sql("meta", lambda: select(s.meta.c.value).where(s.meta.c.name == bindparam("name")))
        return self._db.query(sql, {"name": name})[0][0]

    # -- control state -----------------------------------------------------------------------------

    def control(self, key: str) -> Any:
        sql = self._db.sql("control", lambda: select(s.control.c.value).where(s.control.c.key == bindparam("key")))
        row = self._db.first(sql, {"key": key})
        return None if row is None else json.loads(row[0])

    def set_control(self, values: dict[str, Any]) -> None:
        sql = self._db.sql("set_control", lambda: self._db.upsert(s.control, ["key"]))
        rows = [{"key": key, "value": _dumps(value)} for key, value in values.items()]

        def work(c: Connection) -> int:
            if rows:
                self._db.rows(c, sql, rows)
            return _bump_version(self._db, c)

        self._db.note_version(self._db.do(CONTROL, work))

    def control_version(self) -> int:
        return self._db.note_version(self._meta("control_version"))

    # -- the request journal -----------------------------------------------------------------------

    def journal_append(self, entry: dict[str, Any]) -> None:
        """One insert; every JOURNAL_PRUNE_EVERY-th also drops what fell out of the last JOURNAL_SIZE."""
        j = s.journal
        sql = self._db.sql("journal_append", lambda: insert(j).values(entry=bindparam("entry")).returning(j.c.id))
        number = self._db.query(sql, {"entry": _dumps(entry)})[0][0]
        if number % JOURNAL_PRUNE_EVERY == 0:
            prune = self._db.sql("journal_prune", lambda: delete(j).where(j.c.id <= bindparam("below")))
            self._db.query(prune, {"below": number - JOURNAL_SIZE})

    def journal_last(self, limit: int) -> list[dict[str, Any]]:
        j = s.journal
        sql = self._db.sql(
            "journal_last",
            lambda: select(j.c.entry).order_by(j.c.id.desc()).limit(bindparam("limit")).offset(literal_column("0")),
        )
        rows = self._db.query(sql, {"limit": max(0, min(limit, JOURNAL_SIZE))})
        return [json.loads(row[0]) for row in rows]

    def journal_clear(self) -> None:
        self._db.query("DELETE FROM journal")

    def close(self) -> None:
        self._thread.shutdown(wait=True)
        self._db.close()


def _complete(awaitable: Awaitable[T]) -> T:
    """The result of an awaitable that never suspends (the rules never await), without an event loop."""
    steps = awaitable.__await__()
    try:
        steps.send(None)
    except StopIteration as done:
        return done.value
    steps.close()
    raise RuntimeError("a transactional call awaited something; the rules must not")


def _bump_version(db: _Database, c: Connection) -> int:
    m = s.meta
    sql = db.sql(
        "bump_version",
        lambda: (
            update(m)
            .where(m.c.name == literal_column("'control_version'"))
            .values(value=m.c.value + literal_column("1"))
            .returning(m.c.value)
        ),
    )
    return db.rows(c, sql)[0][0]


def _number_courts(db: _Database, c: Connection, batches: dict[str, Any]) -> None:
    """Give the bookings' rows their courts' numbers (PostgreSQL), numbering new courts."""
    columns, rows = batches[s.records.name]
    court, key = columns.index("court_id"), columns.index("court_key")
    courts = {row[court] for row in rows if row[court] is not None}
    if not courts:
        return
    insert_key = db.sql(
        "insert_court_key",
        lambda: db.insert(s.court_keys).values(court_id=bindparam("court_id")).on_conflict_do_nothing(),
    )
    db.rows(c, insert_key, [{"court_id": court_id} for court_id in sorted(courts)])
    numbers = dict(db.rows(c, "SELECT court_id, key FROM court_keys"))
    batches[s.records.name] = (
        columns,
        [row if row[court] is None else (*row[:key], numbers[row[court]], *row[key + 1 :]) for row in rows],
    )


def _bulk_insert(db: _Database, c: Connection, table: Table, columns: list[str], rows: list[Row]) -> None:
    """The fastest load each driver offers: COPY (psycopg), executemany of one prepared insert (sqlite3)."""
    raw: Any = c.connection.dbapi_connection
    names = ", ".join(columns)
    if db.postgres:
        statement = f"COPY {table.name} ({names}) FROM STDIN"
    else:
        statement = f"INSERT INTO {table.name} ({names}) VALUES ({', '.join('?' * len(columns))})"
    dbapi = c.dialect.loaded_dbapi
    try:
        if db.postgres:
            with raw.cursor() as cursor, cursor.copy(statement) as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            cursor = raw.cursor()
            try:
                cursor.executemany(statement, rows)
            finally:
                cursor.close()
    except dbapi.Error as exc:  # as SQLAlchemy reports driver errors: retried or told like any other
        raise DBAPIError.instance(statement, None, exc, dbapi.Error) from exc


def _adoption_rows(wingfield: MemoryStore, onlive: OnliveMemoryStore) -> tuple[dict[str, Any], dict[str, int]]:
    """Per table, its columns and rows (tuples) in the memory stores' orders; and the counters' values."""
    state, live = wingfield.dump(), onlive.dump()
    batches: dict[str, Any] = {}

    def add(table: Table, rows: Iterable[Params]) -> None:
        columns = [c.name for c in table.c]
        positioned = "pos" in table.c
        batch = []
        for position, row in enumerate(rows, 1):
            if positioned:
                row["pos"] = position
            batch.append(tuple(row.get(name) for name in columns))
        batches[table.name] = (columns, batch)

    add(s.organizations, ({"id": o.id, "name": o.name} for o in state["organizations"]))
    add(s.facilities, ({"id": f.id, "organization_id": f.organization_id, "name": f.name} for f in state["facilities"]))
    add(s.courts, (_court_row(c) for c in state["courts"]))
    add(s.services, ({"id": x.id, "name": x.name} for x in state["services"]))
    add(s.tokens, (_token_row(t) for t in state["tokens"]))
    add(s.users, (_user_row(u) for u in state["users"]))
    add(s.user_relations, (_user_relation_row(r) for r in state["user_relations"]))
    add(s.organization_relations, (_organization_relation_row(r) for r in state["organization_relations"]))
    add(s.mappings, (_mapping_row(m) for m in state["mappings"]))
    add(s.mapping_services, ({"service_id": m} for m in dict.fromkeys(m.service_id for m in state["mappings"])))
    records = state["records"]
    bookings = [r for r in records if isinstance(r, Booking)]
    add(s.records, (_record_row(r) for r in records))
    add(
        s.participants,
        (
            {
                "service_id": b.service_id,
                "external_id": b.external_id,
                "kind": kind,
                "value": value,
                "updated_us": b.updated_us,
                "seq": b.seq,
            }
            for b in bookings
            for kind, value in (p.key for p in b.participants)
        ),
    )
    counts: dict[tuple[str, str], int] = {}
    for b in bookings:
        for scope in ("", f"c:{b.court_id}", *(f"p:{kind}:{value}" for kind, value in (p.key for p in b.participants))):
            counts[b.service_id, scope] = counts.get((b.service_id, scope), 0) + 1
    add(s.counts, ({"service_id": svc, "scope": scope, "shard": 0, "n": n} for (svc, scope), n in counts.items()))
    add(s.onlive_organizations, ({"id": o.id, "name": o.name} for o in live["organizations"]))
    add(
        s.onlive_access_keys,
        ({"id": k.id, "secret": k.secret, "organization_id": k.organization_id} for k in live["access_keys"]),
    )
    add(s.onlive_calendars, (_calendar_row(c) for c in live["calendars"]))
    add(s.onlive_services, (_service_row(x) for x in live["services"]))
    order: dict[str, int] = {}  # each service's appointments in the order its list gives them
    for service_id in dict.fromkeys(a.service_id for a in live["appointments"] if a.service_id is not None):
        for position, appointment in enumerate(onlive.appointments_of_service(service_id), 1):
            order[appointment.id] = position
    add(
        s.onlive_appointments,
        (_appointment_row(a) | {"service_pos": order.get(a.id)} for a in live["appointments"]),
    )
    counters = {"booking_seq": state["seq"], "onlive_seq": live["seq"], "onlive_order": len(live["appointments"])}
    return batches, counters
