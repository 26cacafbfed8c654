"""What the Wingfield and ONLIVE.SITE stores on SQL have in common: one database, one way of running work on
it, one cache of the world. Kept apart from both stores, and from the backend that builds them, so that each
API's store imports it and nothing imports back."""

import contextlib
import json
import random
import threading
import time
from collections.abc import Callable, Hashable
from contextvars import ContextVar
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any, TypeVar

from sqlalchemy import (
    Connection,
    Engine,
    Table,
    and_,
    bindparam,
    create_engine,
    event,
    literal_column,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql import ClauseElement

from mock_server.store import sql_schema as s
from mock_server.store.backend import StoreError
from mock_server.timestamps import EPOCH, to_micros
from mock_server.wingfield.models import BookingKey, CourtMapping

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
CACHE_LIMIT = 50_000  # world lookups and decoded bookings kept per process; emptied when full
SERIALIZATION_FAILURES = {"40001", "40P01"}  # serialization failure, deadlock
SQLITE_BUSY, SQLITE_LOCKED = 5, 6


class Transaction:
    """A request's transaction, and what it already read: the rules read a booking, then write it, so the write
    knows the old record (for the counts) without asking again; a list of a facility's courts reads every court's
    mapping, which come in one query from the second on. `found`: the records requests change that are looked up
    by key again and again (users, relations), read once per transaction and never longer, since another worker
    may change them between two transactions; the store's writes of them empty it."""

    __slots__ = ("db", "connection", "records", "mappings", "mapping_reads", "found")

    def __init__(self, db: "Database", connection: Connection) -> None:
        self.db, self.connection = db, connection
        self.records: dict[BookingKey, Row | None] = {}
        self.mappings: dict[tuple[str, str], dict[str, CourtMapping]] = {}  # (service, facility) -> court -> mapping
        self.mapping_reads: dict[tuple[str, str], int] = {}
        self.found: dict[Hashable, Any] = {}


CURRENT: ContextVar[Transaction | None] = ContextVar("bookingkit_sql_transaction", default=None)


class LostRace(Exception):
    """A conflict with a concurrent transaction that the database reported as something else: run again, as after
    a serialization failure."""

    sqlstate = "40001"


def engine_url(url: str) -> str:
    """psycopg 3 for every PostgreSQL spelling."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


@lru_cache(maxsize=1 << 16)
def instant(micros: int) -> datetime:
    return EPOCH + timedelta(microseconds=micros)


def maybe_instant(micros: int | None) -> datetime | None:
    return None if micros is None else instant(micros)


def maybe_micros(moment: datetime | None) -> int | None:
    return None if moment is None else to_micros(moment)


def dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


class Database:
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

    def transaction(self) -> Transaction | None:
        """The current request's transaction on this database, if any."""
        current = CURRENT.get()
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
            token = CURRENT.set(Transaction(self, connection))  # the statements `work` runs join it
            try:
                self.begin(connection, mode)
                result = work(connection, *args)
                connection.commit()
                return result
            except DBAPIError as exc:
                if attempt + 1 == ATTEMPTS or not self.retryable(exc):
                    raise
            finally:
                CURRENT.reset(token)
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


class WorldCache:
    """Lookups of records that only an adopt changes, valid while the control version stays (never the records
    requests change: see Transaction.found)."""

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


def by_key(table: Table, *columns: str) -> ClauseElement:
    return and_(*(table.c[name] == bindparam(name) for name in columns))


class SqlStoreBase:
    def __init__(self, db: Database) -> None:
        self._db = db
        self._world = WorldCache()
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


def next_counter(db: Database, name: str) -> int:
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


def read_counter(db: Database, c: Connection, name: str) -> int:
    """The counter's last value given out (0 before the first)."""
    if db.postgres:
        last, called = db.rows(c, f"SELECT last_value, is_called FROM {s.COUNTERS[name].name}")[0]
        return last if called else last - 1
    sql = db.sql("read_counter", lambda: select(s.meta.c.value).where(s.meta.c.name == bindparam("counter")))
    return db.rows(c, sql, {"counter": name})[0][0]


def set_counter(db: Database, c: Connection, name: str, value: int) -> None:
    if db.postgres:
        db.rows(c, f"SELECT setval('{s.COUNTERS[name].name}', {max(value, 1)}, {str(value > 0).lower()})")
    else:
        set_meta(db, c, name, value)


def set_meta(db: Database, c: Connection, name: str, value: int) -> None:
    sql = db.sql(
        "set_meta",
        lambda: update(s.meta).where(s.meta.c.name == bindparam("counter")).values(value=bindparam("amount")),
    )
    db.rows(c, sql, {"counter": name, "amount": value})
