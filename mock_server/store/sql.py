"""The mock's state in a SQL database (SQLite or PostgreSQL, SQLAlchemy Core), shared by every worker process.

`run` makes one request one transaction: the store methods called during it find it in a context variable.
Writes are SERIALIZABLE on PostgreSQL and take SQLite's single write lock (BEGIN IMMEDIATE), so the rules hold
across processes as they hold in one; a transaction that loses a conflict is run again. On PostgreSQL the
database itself also refuses overlapping active bookings of a court (an exclusion constraint).

Store methods called outside `run` use a short transaction of their own, or none for a single statement.
Statements are built with Core once per shape and compiled once per dialect, then sent through the driver's
cursor on a connection each thread keeps: psycopg prepares repeated statements, sqlite3 caches them, and a
request pays for no pool checkout and no result wrapping. The world (tokens, courts, facilities, access keys)
changes only when a world is adopted: it is cached per `control_version()`, which the runtime reads before every
request. Users and relations, which requests of any worker change, are read at most once per transaction. The
lists' `totalCount` comes from maintained counts where one count is exactly the query's, so a page costs the
same on a court with ten bookings or a million.
"""

import asyncio
import contextvars
import json
import time
from collections.abc import Awaitable, Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from sqlalchemy import Connection, Table, bindparam, delete, insert, literal_column, select, update
from sqlalchemy.exc import DBAPIError

from mock_server.onlive.store.memory import OnliveMemoryStore
from mock_server.onlive.store.sql import SqlOnliveStore, appointment_row, calendar_row, service_row
from mock_server.store import sql_schema as s
from mock_server.store.backend import JOURNAL_SIZE, StoreError
from mock_server.store.sql_database import (
    ATTEMPTS,
    CONTROL,
    CURRENT,
    REQUEST_READ,
    WRITE,
    Database,
    Params,
    Row,
    Transaction,
    dumps,
    set_counter,
    set_meta,
)
from mock_server.violations import RuleViolation
from mock_server.wingfield.models import Booking
from mock_server.wingfield.store.memory import MemoryStore
from mock_server.wingfield.store.sql import (
    SqlStore,
    connect_token_row,
    court_row,
    mapping_row,
    membership_row,
    organization_relation_row,
    organization_row,
    record_row,
    session_player_rows,
    session_row,
    token_row,
    user_relation_row,
    user_row,
    video_row,
)

T = TypeVar("T")

JOURNAL_PRUNE_EVERY = 100


class SqlBackend:
    """Both APIs' state and the control plane's in one database, for any number of processes and hosts."""

    shared = True

    def __init__(self, url: str) -> None:
        self._db = Database(url)
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
            token = CURRENT.set(Transaction(db, connection))
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
                CURRENT.reset(token)
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
            set_counter(db, c, name, value)
        set_meta(db, c, "seeded", 1)
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
        rows = [{"key": key, "value": dumps(value)} for key, value in values.items()]

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
        number = self._db.query(sql, {"entry": dumps(entry)})[0][0]
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


def _bump_version(db: Database, c: Connection) -> int:
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


def _number_courts(db: Database, c: Connection, batches: dict[str, Any]) -> None:
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


def _bulk_insert(db: Database, c: Connection, table: Table, columns: list[str], rows: list[Row]) -> None:
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

    add(s.organizations, (organization_row(o) for o in state["organizations"]))
    add(s.facilities, ({"id": f.id, "organization_id": f.organization_id, "name": f.name} for f in state["facilities"]))
    add(s.courts, (court_row(c) for c in state["courts"]))
    add(s.services, ({"id": x.id, "name": x.name} for x in state["services"]))
    add(s.tokens, (token_row(t) for t in state["tokens"]))
    add(s.users, (user_row(u) for u in state["users"]))
    add(s.user_relations, (user_relation_row(r) for r in state["user_relations"]))
    add(s.organization_relations, (organization_relation_row(r) for r in state["organization_relations"]))
    add(s.connect_tokens, (connect_token_row(t) for t in state["connect_tokens"]))
    add(s.memberships, (membership_row(m) for m in state["memberships"]))
    add(s.sessions, (session_row(x) for x in state["sessions"]))
    add(s.session_players, (row for x in state["sessions"] for row in session_player_rows(x)))
    add(s.videos, (video_row(v) for v in state["videos"]))
    add(s.mappings, (mapping_row(m) for m in state["mappings"]))
    add(s.mapping_services, ({"service_id": m} for m in dict.fromkeys(m.service_id for m in state["mappings"])))
    records = state["records"]
    bookings = [r for r in records if isinstance(r, Booking)]
    add(s.records, (record_row(r) for r in records))
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
    add(s.onlive_calendars, (calendar_row(c) for c in live["calendars"]))
    add(s.onlive_services, (service_row(x) for x in live["services"]))
    order: dict[str, int] = {}  # each service's appointments in the order its list gives them
    for service_id in dict.fromkeys(a.service_id for a in live["appointments"] if a.service_id is not None):
        for position, appointment in enumerate(onlive.appointments_of_service(service_id), 1):
            order[appointment.id] = position
    add(
        s.onlive_appointments,
        (appointment_row(a) | {"service_pos": order.get(a.id)} for a in live["appointments"]),
    )
    counters = {"booking_seq": state["seq"], "onlive_seq": live["seq"], "onlive_order": len(live["appointments"])}
    return batches, counters
