"""The SQL backend (SQLite, PostgreSQL) beyond the store protocols: adopt, seeded, control values, the journal,
the schema, a restart; transactions and their retries; and the rules holding when several OS processes share
one database: no double booking (B13), the newest externalUpdatedAt wins and tombstones stay (B2, B5, B21), an
ONLIVE service delete and an appointment create for it never both succeed (O3)."""

import asyncio
import json
import multiprocessing
import random
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import pytest
from sqlalchemy import create_engine, inspect
from sqlalchemy.exc import IntegrityError, OperationalError

from bookingkit.files import DEFAULT_WORLD
from mock_server.clock import Clock
from mock_server.onlive.models import AccessKey, Calendar, Service
from mock_server.onlive.models import Organization as OnliveOrganization
from mock_server.onlive.rules.appointments import Appointments
from mock_server.onlive.rules.services import BookingServices
from mock_server.onlive.store.memory import OnliveMemoryStore
from mock_server.store import sql_schema
from mock_server.store.backend import StoreError, open_backend
from mock_server.store.sql import SqlBackend
from mock_server.store.sql_database import engine_url
from mock_server.violations import RuleViolation
from mock_server.wingfield.models import (
    Booking,
    BookingQuery,
    Court,
    ExternalService,
    Facility,
    Organization,
    OrganizationRelation,
    Participant,
    Tombstone,
    User,
    UserRelation,
)
from mock_server.wingfield.rules.bookings import CourtBookings
from mock_server.wingfield.rules.courts import CourtMappings, Courts
from mock_server.wingfield.store.memory import MemoryStore
from mock_server.world import load_world

from .databases import store_url

SERVICE, COURT, ORGANIZATION = "svc-1", "court-1", "onlive-org"
T0 = datetime(2030, 1, 1, tzinfo=UTC)
ROUNDS = 12  # service delete against appointment create


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request, tmp_path) -> Iterator[str]:
    """A new, empty database of each kind."""
    with store_url(request.param, tmp_path) as url:
        yield url


@pytest.fixture
def backend(url) -> Iterator[SqlBackend]:
    backend = SqlBackend(url)
    yield backend
    backend.close()


def world() -> tuple[MemoryStore, OnliveMemoryStore]:
    """A court the service may book, and ONLIVE services with a calendar."""
    wingfield = MemoryStore()
    wingfield.add_organization(Organization("org-1", "Club"))
    wingfield.add_facility(Facility("fac-1", "org-1", "Hall"))
    wingfield.add_court(Court(COURT, "fac-1", "Centre", True))
    wingfield.add_service(ExternalService(SERVICE, "Partner"))
    wingfield.add_organization_relation(OrganizationRelation("rel-1", SERVICE, "org-1", "ext-org"))
    onlive = OnliveMemoryStore()
    onlive.add_organization(OnliveOrganization(ORGANIZATION, "Studio"))
    onlive.add_access_key(AccessKey("AK", "secret", ORGANIZATION))
    onlive.put_calendar(Calendar("cal-1", ORGANIZATION, {"name": "Main"}, T0, T0))
    for index in range(ROUNDS):
        fields = {"name": f"Service {index}", "duration": 30, "userGroupId": None}
        onlive.put_service(Service(f"service-{index}", ORGANIZATION, fields, T0, T0, seq=onlive.next_seq()))
    return wingfield, onlive


def booking_body(hour: int, version: str = "2031-01-01T00:00:00Z") -> dict[str, Any]:
    return {
        "courtId": COURT,
        "startDate": f"2091-03-04T{hour:02d}:00:00Z",
        "endDate": f"2091-03-04T{hour + 2:02d}:00:00Z",
        "externalUpdatedAt": version,
        "participants": [{"email": "race@example.com"}],
    }


async def outcome(backend: SqlBackend, rule: Callable[[], Any], *, write: bool = True) -> str:
    """Run one rule as a request does: "ok", or the kind of the rule's refusal."""

    async def call() -> Any:
        return rule()

    try:
        await backend.run(call, write=write)
    except RuleViolation as exc:
        return exc.kind
    return "ok"


# -- adopt, seeded, control, journal ----------------------------------------------------------------


def test_a_new_database_is_unseeded_and_adopt_seeds_it(backend):
    assert not backend.seeded() and backend.control_version() == 0
    backend.adopt(*world())
    assert backend.seeded() and backend.control_version() == 1
    assert backend.wingfield.court(COURT) == Court(COURT, "fac-1", "Centre", True)
    assert [s.id for s in backend.onlive.services_of(ORGANIZATION)] == [f"service-{i}" for i in range(ROUNDS)]


def test_adopt_takes_over_every_record_order_and_counter_of_a_world(backend):
    loaded = load_world(DEFAULT_WORLD)
    bookings = CourtBookings(loaded.wingfield, Clock())  # a tombstone too
    service = loaded.wingfield.dump()["services"][0].id
    bookings.delete(service, "gone", "2031-01-01T00:00:00Z")
    backend.adopt(loaded.wingfield, loaded.onlive)
    assert backend.wingfield.dump() == loaded.wingfield.dump()
    assert backend.onlive.dump() == loaded.onlive.dump()
    assert isinstance(backend.wingfield.booking_record((service, "gone")), Tombstone)
    assert backend.wingfield.next_booking_seq() == loaded.wingfield.next_booking_seq()
    assert backend.onlive.next_seq() == loaded.onlive.next_seq()
    for token in loaded.wingfield.tokens():
        assert backend.wingfield.token(token.value) == token


def test_adopt_replaces_everything(backend):
    first, first_onlive = world()
    first.put_booking(booking(first, "old", 0, 1))
    backend.adopt(first, first_onlive)
    backend.wingfield.put_tombstone(Tombstone(SERVICE, "deleted", T0))
    second = MemoryStore()
    second.add_service(ExternalService("svc-new", "New"))
    backend.adopt(second, OnliveMemoryStore())
    assert backend.wingfield.booking_record((SERVICE, "old")) is None
    assert backend.wingfield.booking_record((SERVICE, "deleted")) is None
    assert backend.wingfield.court(COURT) is None and backend.wingfield.service("svc-new") is not None
    assert backend.onlive.service("service-0") is None and list(backend.onlive.access_keys()) == []
    assert backend.wingfield.next_booking_seq() == 1 and backend.onlive.next_seq() == 1
    assert backend.control_version() == 2


def booking(store: MemoryStore, external_id: str, start_hour: float, end_hour: float) -> Booking:
    return Booking(
        SERVICE,
        external_id,
        COURT,
        T0 + timedelta(hours=start_hour),
        T0 + timedelta(hours=end_hour),
        T0,
        (Participant(email="a@example.com"),),
        T0,
        T0,
        store.next_booking_seq(),
    )


def test_control_values_and_their_version_are_shared(backend, url):
    assert backend.control("clock") is None
    backend.set_control({"clock": {"frozenAt": "2031-02-03T04:05:06+00:00", "offsetMicros": 0}, "faults": {}})
    assert backend.control_version() == 1
    other = SqlBackend(url)
    try:
        assert other.control("clock") == {"frozenAt": "2031-02-03T04:05:06+00:00", "offsetMicros": 0}
        assert other.control("faults") == {}
        other.set_control({"faults": {"getCourtById": {"error": {"type": "court_not_found"}}}})
        assert backend.control_version() == other.control_version() == 2
        assert backend.control("faults") == {"getCourtById": {"error": {"type": "court_not_found"}}}
        backend.adopt(*world())
        assert other.control_version() == 3
        assert other.control("clock")["frozenAt"] == "2031-02-03T04:05:06+00:00"  # adopt keeps control values
    finally:
        other.close()


def test_the_journal_keeps_the_last_thousand_newest_first(backend, url):
    for number in range(1234):
        backend.journal_append({"n": number, "path": "/x", "durationMs": 0.5, "errorType": None})
    other = SqlBackend(url)
    try:
        last = other.journal_last(5000)
        assert [entry["n"] for entry in last] == list(range(1233, 233, -1))
        assert last[0] == {"n": 1233, "path": "/x", "durationMs": 0.5, "errorType": None}
        assert [entry["n"] for entry in other.journal_last(3)] == [1233, 1232, 1231]
        other.journal_clear()
        assert backend.journal_last(10) == []
        backend.journal_append({"n": "again"})
        assert other.journal_last(10) == [{"n": "again"}]
    finally:
        other.close()


def test_the_state_survives_a_restart(url):
    backend = SqlBackend(url)
    backend.adopt(*world())
    bookings = CourtBookings(backend.wingfield, Clock())
    assert asyncio.run(outcome(backend, lambda: bookings.upsert(SERVICE, "kept", booking_body(8)))) == "ok"
    backend.set_control({"clock": {"frozenAt": None, "offsetMicros": 5}})
    backend.journal_append({"operationId": "upsertCourtBooking"})
    backend.close()

    again = SqlBackend(url)
    try:
        assert again.seeded()
        assert again.wingfield.booking_record((SERVICE, "kept")).court_id == COURT
        assert again.wingfield.next_booking_seq() == 2
        assert again.control("clock") == {"frozenAt": None, "offsetMicros": 5}
        assert again.control_version() == 2
        assert again.journal_last(10) == [{"operationId": "upsertCourtBooking"}]
        assert again.schema_version == sql_schema.LATEST
    finally:
        again.close()


def test_several_processes_opening_a_new_database_migrate_it_once(url):
    with ThreadPoolExecutor(max_workers=4) as pool:
        backends = list(pool.map(lambda _: SqlBackend(url), range(4)))
    try:
        assert {b.schema_version for b in backends} == {sql_schema.LATEST}
        backends[0].adopt(*world())
        assert all(b.seeded() for b in backends)
    finally:
        for b in backends:
            b.close()


# Schema version 1's tables and their columns, as every database it made holds them.
VERSION_1 = {
    "control": "key value",
    "court_counts": "service_id scope shard n",
    "court_keys": "court_id key",
    "court_participants": "service_id external_id kind value updated_us seq",
    "court_records": "pos service_id external_id court_id court_key start_us end_us external_updated_us participants "
    "created_us updated_us seq",
    "journal": "id entry",
    "meta": "name value",
    "ol_access_keys": "pos id secret organization_id",
    "ol_appointments": "pos id organization_id service_id calendar_ids start_us end_us state created_us updated_us "
    "fields deleted_us service_pos",
    "ol_calendars": "pos id organization_id fields created_us updated_us",
    "ol_organizations": "pos id name",
    "ol_services": "pos id organization_id fields created_us updated_us deleted_us seq",
    "schema_version": "version",
    "wf_courts": "pos id facility_id name system_installed",
    "wf_facilities": "pos id organization_id name",
    "wf_mapping_services": "pos service_id",
    "wf_mappings": "pos service_id court_id external_court_id external_court_name created_us updated_us",
    "wf_organization_relations": "pos id service_id organization_id external_organization_id",
    "wf_organizations": "pos id name",
    "wf_services": "pos id name",
    "wf_tokens": "pos value service_id scopes expires_us revoked description",
    "wf_user_relations": "pos service_id user_id external_user_id status",
    "wf_users": "pos id email first_name last_name created_by_service_id",
}


def schema_of(url: str) -> dict[str, Any]:
    """A database's schema in the terms two ways of making it must agree on: each table's columns in order (type,
    nullability, default), primary key, unique constraints and indexes; and as the database itself states them,
    every index and constraint (PostgreSQL: with the sequences)."""
    engine = create_engine(engine_url(url))
    try:
        with engine.connect() as c:
            found = inspect(c)
            schema: dict[str, Any] = {
                name: {
                    "columns": [
                        (x["name"], str(x["type"]), x["nullable"], x["default"]) for x in found.get_columns(name)
                    ],
                    "primary key": found.get_pk_constraint(name)["constrained_columns"],
                    "unique": sorted(tuple(x["column_names"]) for x in found.get_unique_constraints(name)),
                    "indexes": sorted(json.dumps(x, default=str, sort_keys=True) for x in found.get_indexes(name)),
                }
                for name in found.get_table_names()
            }
            if engine.dialect.name == "postgresql":
                statements = [
                    "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema()",
                    "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
                    "WHERE connamespace = current_schema()::regnamespace",
                    "SELECT sequence_name, data_type FROM information_schema.sequences "
                    "WHERE sequence_schema = current_schema()",
                ]
            else:
                statements = ["SELECT type, name, tbl_name, sql FROM sqlite_master WHERE type <> 'table'"]
            schema["stated"] = [sorted(c.exec_driver_sql(statement).all()) for statement in statements]
            return schema
    finally:
        engine.dispose()


def make_version_1(url: str) -> None:
    """Take from a database what version 2 added: it is then as version 1 made it (checked against VERSION_1)."""
    engine = create_engine(engine_url(url))
    try:
        with engine.begin() as c:
            for index in sql_schema.VERSION_2_INDEXES:
                c.exec_driver_sql(f"DROP INDEX {index.name}")
            for table in sql_schema.VERSION_2_TABLES:
                c.exec_driver_sql(f"DROP TABLE {table.name}")
            for column in sql_schema.VERSION_2_COLUMNS:
                c.exec_driver_sql(f"ALTER TABLE {column.table.name} DROP COLUMN {column.name}")
            c.exec_driver_sql("UPDATE schema_version SET version = 1")
        with engine.connect() as c:
            found = inspect(c)
            tables = {name: " ".join(x["name"] for x in found.get_columns(name)) for name in found.get_table_names()}
        assert tables == VERSION_1
    finally:
        engine.dispose()


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_a_version_1_database_migrates_to_the_schema_of_a_new_one(kind, tmp_path):
    """Several processes open a version-1 database with records at once: it is migrated once, its records are
    kept (relations made when version 1 knew no instants: at WORLD_INSTANT), and its schema is then exactly the
    one a new database gets."""
    wingfield, onlive = world()
    wingfield.add_user(User("user-1", "one@example.com", "One", "Player"))
    wingfield.add_user_relation(UserRelation(SERVICE, "user-1", "ext-user", "ACCEPTED"))
    with store_url(kind, tmp_path) as old, store_url(kind, tmp_path) as new:
        backend = SqlBackend(old)
        backend.adopt(wingfield, onlive)
        backend.close()
        make_version_1(old)
        with ThreadPoolExecutor(max_workers=3) as pool:
            backends = list(pool.map(lambda _: SqlBackend(old), range(3)))
        try:
            assert {b.schema_version for b in backends} == {2} and sql_schema.LATEST == 2
            store = backends[0].wingfield
            assert store.organization_relation(SERVICE, "org-1") == OrganizationRelation(
                "rel-1", SERVICE, "org-1", "ext-org"
            )
            assert store.organization_relation_by_external_id(SERVICE, "ext-org").id == "rel-1"
            assert store.user_by_email("one@example.com") == User("user-1", "one@example.com", "One", "Player")
            assert store.relation_by_external_user_id(SERVICE, "ext-user") == wingfield.user_relation(SERVICE, "user-1")
            assert store.organization("org-1") == Organization("org-1", "Club")
            assert store.sessions_of_user("user-1") == [] and store.pro_member_count("org-1") == 0
        finally:
            for b in backends:
                b.close()
        SqlBackend(new).close()
        assert schema_of(old) == schema_of(new)


def test_store_urls():
    assert engine_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert engine_url("postgres://u@h:5432/db") == "postgresql+psycopg://u@h:5432/db"
    assert engine_url("postgresql+psycopg://u@h/db") == "postgresql+psycopg://u@h/db"
    assert engine_url("sqlite:///x.db") == "sqlite:///x.db"
    with pytest.raises(StoreError, match="in-memory"):
        open_backend("sqlite://")


def test_a_large_world_is_adopted_in_seconds(backend):
    """100,000 bookings (a tenth of them deleted again) on 50 courts, with their participants."""
    big, onlive = world()
    for index in range(1, 50):
        big.add_court(Court(f"court-{index + 1}", "fac-1", f"Court {index + 1}", True))
    for index in range(100_000):
        start = T0 + timedelta(hours=index // 50)
        people = (Participant(email=f"p{index % 999}@example.com"),)
        if index % 2:
            people += (Participant(user_id=f"user-{index % 313}"),)
        big.put_booking(
            Booking(
                SERVICE,
                f"b{index}",
                f"court-{index % 50 + 1}",
                start,
                start + timedelta(minutes=60),
                T0,
                people,
                T0,
                T0 + timedelta(seconds=index),
                big.next_booking_seq(),
            )
        )
    for index in range(0, 100_000, 10):
        big.put_tombstone(Tombstone(SERVICE, f"b{index}", T0 + timedelta(days=1)))
    began = time.perf_counter()
    backend.adopt(big, onlive)
    took = time.perf_counter() - began
    assert took < 30, f"adopting 100,000 bookings took {took:.1f} s"
    query = BookingQuery(court_id="court-2", limit=3, participants=(Participant(email="p1@example.com"),))
    assert backend.wingfield.query_bookings(SERVICE, query) == big.query_bookings(SERVICE, query)
    assert backend.wingfield.query_bookings(SERVICE, BookingQuery(offset=5)) == big.query_bookings(
        SERVICE, BookingQuery(offset=5)
    )
    assert backend.wingfield.next_booking_seq() == 100_001


# -- transactions -------------------------------------------------------------------------------------


def test_a_failing_request_leaves_nothing_behind(backend):
    backend.adopt(*world())
    store = backend.wingfield

    def write_then_fail() -> None:
        store.put_booking(booking(MemoryStore(), "half", 0, 1))
        store.put_tombstone(Tombstone(SERVICE, "other", T0))
        raise ValueError("a bug after the writes")

    with pytest.raises(ValueError):
        asyncio.run(outcome(backend, write_then_fail))
    assert store.booking_record((SERVICE, "half")) is None and store.booking_record((SERVICE, "other")) is None


def test_a_refused_request_is_answered_and_reads_see_committed_state(backend):
    backend.adopt(*world())
    bookings = CourtBookings(backend.wingfield, Clock())
    assert asyncio.run(outcome(backend, lambda: bookings.upsert(SERVICE, "a", booking_body(8)))) == "ok"
    refused = asyncio.run(outcome(backend, lambda: bookings.upsert(SERVICE, "b", booking_body(9))))
    assert refused == "court_booking_overlap"
    assert asyncio.run(outcome(backend, lambda: bookings.get(SERVICE, "a"), write=False)) == "ok"
    assert asyncio.run(outcome(backend, lambda: bookings.get(SERVICE, "b"), write=False)) == "court_booking_not_found"


class _Conflict(Exception):
    """What the drivers report when a transaction lost to a concurrent one."""

    sqlstate = "40001"  # PostgreSQL: serialization failure
    sqlite_errorcode = 5  # SQLite: busy


def test_a_transaction_that_lost_a_conflict_runs_again(backend):
    backend.adopt(*world())
    bookings = CourtBookings(backend.wingfield, Clock())
    calls = []

    def conflicting_twice() -> Booking:
        calls.append(1)
        written = bookings.upsert(SERVICE, f"try-{len(calls)}", booking_body(8))
        if len(calls) < 3:
            raise OperationalError("COMMIT", {}, _Conflict("could not serialize access"))
        return written

    assert asyncio.run(outcome(backend, conflicting_twice)) == "ok"
    assert len(calls) == 3
    assert backend.wingfield.booking_record((SERVICE, "try-1")) is None  # the lost attempts left nothing
    assert backend.wingfield.booking_record((SERVICE, "try-3")) is not None


def test_users_and_relations_another_worker_changes_are_seen_by_the_next_request(backend, url):
    """Users and relations change through the API: no cache keeps one beyond a transaction, so a request sees
    what another worker committed before it; inside a transaction, the store's own writes are seen at once."""
    backend.adopt(*world())
    store, bookings = backend.wingfield, CourtBookings(backend.wingfield, Clock())
    other = SqlBackend(url)
    try:
        theirs = other.wingfield

        def looked_up() -> Any:
            work = _async(
                lambda: (store.has_organization_relation(SERVICE, "org-1"), store.user_relation(SERVICE, "u"))
            )
            return asyncio.run(backend.run(work, write=False))

        assert looked_up() == (True, None)
        assert asyncio.run(outcome(backend, lambda: bookings.upsert(SERVICE, "a", booking_body(8)))) == "ok"
        relation = UserRelation(SERVICE, "u", "ext-u", "PENDING")
        theirs.put_user(User("u", "u@example.com", "U", "One"))
        theirs.put_user_relation(relation)
        theirs.delete_organization_relation(SERVICE, "org-1")
        assert looked_up() == (False, relation)
        refused = asyncio.run(outcome(backend, lambda: bookings.upsert(SERVICE, "b", booking_body(12))))
        assert refused == "organization_access_denied"
        theirs.put_organization_relation(OrganizationRelation("rel-2", SERVICE, "org-1", "ext-org-2"))
        theirs.put_user_relation(replace(relation, status="ACCEPTED"))
        assert looked_up() == (True, replace(relation, status="ACCEPTED"))

        def write_then_read() -> Any:
            assert store.user("u").email == "u@example.com" and store.user_relations(SERVICE) != []
            store.put_user(User("u", "new@example.com", "U", "One"))
            store.put_user_relation(replace(relation, external_user_id="ext-new"))
            store.delete_organization_relation(SERVICE, "org-1")
            return (
                store.user("u").email,
                store.user_by_email("u@example.com"),
                store.user_relation(SERVICE, "u").external_user_id,
                store.relation_by_external_user_id(SERVICE, "ext-u"),
                [r.external_user_id for r in store.user_relations(SERVICE)],
                store.has_organization_relation(SERVICE, "org-1"),
            )

        assert asyncio.run(backend.run(_async(write_then_read), write=True)) == (
            "new@example.com",
            None,
            "ext-new",
            None,
            ["ext-new"],
            False,
        )
        assert theirs.user_by_email("new@example.com").id == "u"
    finally:
        other.close()


def test_postgresql_itself_refuses_a_double_booking(backend):
    """Even a write that skips the rules' overlap check: the exclusion constraint answers as the rules do."""
    if backend.dialect != "postgresql":
        pytest.skip("SQLite relies on its single writer; the constraint is PostgreSQL's")
    backend.adopt(*world())
    store, seqs = backend.wingfield, MemoryStore()
    store.put_booking(booking(seqs, "a", 1, 2))
    store.put_booking(booking(seqs, "touching", 2, 3))  # half-open: touching is no overlap
    store.put_booking(booking(seqs, "a", 1, 1.5))  # a booking never overlaps itself
    with pytest.raises(RuleViolation) as refused:
        store.put_booking(booking(seqs, "b", 1.25, 2.5))
    assert refused.value.kind == "court_booking_overlap"
    with pytest.raises(RuleViolation):
        asyncio.run(backend.run(_async(lambda: store.put_booking(booking(seqs, "c", 0, 9))), write=True))
    store.put_tombstone(Tombstone(SERVICE, "touching", T0))
    store.put_booking(booking(seqs, "b", 2, 2.5))  # the tombstone freed the court
    with pytest.raises(IntegrityError):
        bad, onlive = world()
        bad.put_booking(booking(bad, "x", 0, 2))
        bad.put_booking(booking(bad, "y", 1, 3))
        backend.adopt(bad, onlive)
    assert store.booking_record((SERVICE, "b")) is not None  # a refused adopt changes nothing


def _async(work: Callable[[], Any]) -> Callable[[], Any]:
    async def call() -> Any:
        return work()

    return call


# -- several processes on one database ---------------------------------------------------------------------


def in_processes(target: Callable[..., None], *args: Any, processes: int = 2) -> list[Any]:
    """`target(queue, barrier, index, *args)` in fresh OS processes (spawned: nothing shared but the database);
    each one's result, in process order."""
    context = multiprocessing.get_context("spawn")
    barrier, queue = context.Barrier(processes), context.Queue()
    workers = [context.Process(target=target, args=(queue, barrier, index, *args)) for index in range(processes)]
    for worker in workers:
        worker.start()
    try:
        reports = dict(queue.get(timeout=300) for _ in workers)
    finally:
        for worker in workers:
            worker.join(timeout=60)
            if worker.is_alive():
                worker.kill()
    failures = {index: report[1] for index, report in reports.items() if report[0] == "error"}
    assert not failures, "\n".join(failures.values())
    return [reports[index][1] for index in range(processes)]


def _report(queue: Any, barrier: Any, index: int, work: Callable[[], Any]) -> None:
    """The work's result, or its traceback; a failing process breaks the barrier, so the others stop too."""
    try:
        queue.put((index, ("ok", work())))
    except BaseException:
        barrier.abort()
        queue.put((index, ("error", traceback.format_exc())))


def _in_threads(count: int, work: Callable[[int], list[str]]) -> list[str]:
    """Several requests at once in one process too, each thread with its own event loop."""
    with ThreadPoolExecutor(max_workers=count) as pool:
        return [result for results in pool.map(work, range(count)) for result in results]


def _overlapping_upserts(queue: Any, barrier: Any, index: int, url: str, threads: int, each: int) -> None:
    def work() -> list[str]:
        backend = SqlBackend(url)
        bookings = CourtBookings(backend.wingfield, Clock())

        def thread(number: int) -> list[str]:
            async def requests() -> list[str]:
                results = []
                for n in range(each):
                    body = booking_body(10 + (index + number + n) % 2)  # [10, 12) or [11, 13): all overlap
                    external_id = f"race-{index}-{number}-{n}"
                    results.append(await outcome(backend, partial(bookings.upsert, SERVICE, external_id, body)))
                return results

            return asyncio.run(requests())

        barrier.wait(timeout=120)
        try:
            return _in_threads(threads, thread)
        finally:
            backend.close()

    _report(queue, barrier, index, work)


def test_fifty_overlapping_upserts_from_two_processes_book_the_court_once(backend, url):
    backend.adopt(*world())
    outcomes = [o for results in in_processes(_overlapping_upserts, url, 5, 5) for o in results]
    assert len(outcomes) == 50
    assert outcomes.count("ok") == 1 and outcomes.count("court_booking_overlap") == 49, outcomes
    page, total = backend.wingfield.query_bookings(SERVICE, BookingQuery(court_id=COURT))
    assert total == 1 and page[0].external_id.startswith("race-")


def _versioned_writes(queue: Any, barrier: Any, index: int, url: str, deletes: bool) -> None:
    """Process 0 upserts the even minutes, process 1 the odd ones (or deletes at them), in shuffled order."""

    def work() -> list[str]:
        backend = SqlBackend(url)
        bookings = CourtBookings(backend.wingfield, Clock())
        minutes = list(range(index, 60, 2))
        random.Random(index).shuffle(minutes)
        lock = threading.Lock()

        def thread(_: int) -> list[str]:
            async def requests() -> list[str]:
                results = []
                while True:
                    with lock:
                        if not minutes:
                            return results
                        version = f"2031-01-01T00:{minutes.pop():02d}:00Z"
                    if deletes and index == 1:
                        rule: Callable[[], Any] = partial(bookings.delete, SERVICE, "versioned", version)
                    else:
                        rule = partial(bookings.upsert, SERVICE, "versioned", booking_body(4, version))
                    results.append(await outcome(backend, rule))

            return asyncio.run(requests())

        barrier.wait(timeout=120)
        try:
            return _in_threads(3, thread)
        finally:
            backend.close()

    _report(queue, barrier, index, work)


def test_the_newest_external_updated_at_wins_across_processes(backend, url):
    backend.adopt(*world())
    outcomes = [o for results in in_processes(_versioned_writes, url, False) for o in results]
    assert set(outcomes) <= {"ok", "stale_write"} and "ok" in outcomes
    stored = backend.wingfield.booking_record((SERVICE, "versioned"))
    assert isinstance(stored, Booking) and stored.external_updated_at == datetime(2031, 1, 1, 0, 59, tzinfo=UTC)


def test_a_newer_delete_leaves_its_tombstone_across_processes(backend, url):
    backend.adopt(*world())
    outcomes = [o for results in in_processes(_versioned_writes, url, True) for o in results]
    assert set(outcomes) <= {"ok", "stale_write"}
    stored = backend.wingfield.booking_record((SERVICE, "versioned"))
    assert stored == Tombstone(SERVICE, "versioned", datetime(2031, 1, 1, 0, 59, tzinfo=UTC))  # B21
    assert backend.wingfield.query_bookings(SERVICE, BookingQuery()) == ([], 0)


def _first_writes(queue: Any, barrier: Any, index: int, url: str, rounds: int) -> None:
    """Round after round, both processes write a booking of a new key at once, each with its own version."""

    def work() -> list[str]:
        backend = SqlBackend(url)
        bookings = CourtBookings(backend.wingfield, Clock())
        results = []
        try:
            for number in range(rounds):
                barrier.wait(timeout=120)
                body = booking_body(4, f"2031-01-01T00:{index:02d}:00Z")
                body["startDate"] = f"2091-04-{1 + number // 10:02d}T{number % 10 * 2:02d}:00:00Z"
                body["endDate"] = f"2091-04-{1 + number // 10:02d}T{number % 10 * 2 + 1:02d}:00:00Z"
                results.append(asyncio.run(outcome(backend, partial(bookings.upsert, SERVICE, f"new-{number}", body))))
            return results
        finally:
            backend.close()

    _report(queue, barrier, index, work)


def test_two_first_writes_of_one_booking_at_once_are_no_overlap(backend, url):
    """PostgreSQL reports the second of two concurrent inserts of a key through the exclusion constraint (the two
    rows overlap), not as a serialization failure: that one runs again and meets the first as the rules do."""
    backend.adopt(*world())
    rounds = 100
    outcomes = in_processes(_first_writes, url, rounds)
    for number, pair in enumerate(zip(*outcomes, strict=True)):
        assert sorted(pair) in (["ok", "ok"], ["ok", "stale_write"]), (number, pair)
        stored = backend.wingfield.booking_record((SERVICE, f"new-{number}"))
        assert stored.external_updated_at == datetime(2031, 1, 1, 0, 1, tzinfo=UTC)  # process 1's is newer


def _delete_or_book(queue: Any, barrier: Any, index: int, url: str) -> None:
    """Process 0 deletes service i while process 1 books an appointment with it, round after round."""

    def work() -> list[str]:
        backend = SqlBackend(url)
        clock = Clock()
        services = BookingServices(backend.onlive, clock, lambda: "unused")
        counter = iter(range(10**6))
        appointments = Appointments(backend.onlive, clock, lambda: f"appointment-{index}-{next(counter)}")
        results = []
        try:
            for round_ in range(ROUNDS):
                service_id = f"service-{round_}"
                body = {
                    "start": "2090-01-01T10:00:00Z",
                    "end": "2090-01-01T10:30:00Z",
                    "calendarIds": ["cal-1"],
                    "serviceId": service_id,
                }
                if index == 0:
                    rule: Callable[[], Any] = partial(services.delete, ORGANIZATION, service_id)
                else:
                    rule = partial(appointments.create, ORGANIZATION, body)
                barrier.wait(timeout=120)
                results.append(asyncio.run(outcome(backend, rule)))
            return results
        finally:
            backend.close()

    _report(queue, barrier, index, work)


def test_a_service_delete_and_an_appointment_for_it_never_both_succeed(backend, url):
    backend.adopt(*world())
    deletes, creates = in_processes(_delete_or_book, url)
    assert set(deletes) <= {"ok", "service_has_active_appointments"}
    assert set(creates) <= {"ok", "invalid_schema"}  # the service is gone: "service not found" on serviceId
    for round_, (deleted, created) in enumerate(zip(deletes, creates, strict=True)):
        assert (deleted == "ok") != (created == "ok"), (round_, deleted, created)
        service = backend.onlive.service(f"service-{round_}")
        booked = list(backend.onlive.appointments_of_service(f"service-{round_}"))
        assert (service.deleted_at is not None) == (deleted == "ok")
        assert len(booked) == (created == "ok")


# -- statements per request -------------------------------------------------------------------------


def test_a_facility_court_list_reads_the_mappings_in_one_query(backend, monkeypatch):
    """No query per court (N+1): from the second court's mapping on, one query brings the facility's."""
    wingfield, onlive = world()
    for index in range(2, 13):
        wingfield.add_court(Court(f"court-{index}", "fac-1", f"Court {index:02d}", True))
    mappings = CourtMappings(wingfield, Clock())
    for index in (1, 4, 7):
        mappings.upsert(SERVICE, f"court-{index}", {"externalCourtId": f"X-{index}"})
    expected = Courts(wingfield, Clock()).of_facility(SERVICE, "fac-1")
    backend.adopt(wingfield, onlive)
    courts = Courts(backend.wingfield, Clock())
    statements: list[str] = []
    rows = backend._db.rows
    monkeypatch.setattr(backend._db, "rows", lambda c, sql, params=None: statements.append(sql) or rows(c, sql, params))

    def listed() -> Any:
        return asyncio.run(backend.run(_async(lambda: courts.of_facility(SERVICE, "fac-1")), write=False))

    assert listed() == expected  # the first time, the world is read too: facility, relation, courts
    statements.clear()
    assert listed() == expected
    queries = [sql for sql in statements if sql != "BEGIN"]  # SQLite's snapshot
    # The service's relation with the organization (requests change relations: read in every transaction), the
    # first court's mapping, then the facility's mappings.
    assert len(queries) == 3, queries
    assert "wf_organization_relations" in queries[0]

    def change_then_list() -> Any:
        courts.of_facility(SERVICE, "fac-1")
        backend.wingfield.put_mapping(replace(backend.wingfield.mapping(SERVICE, "court-4"), external_court_id="Y"))
        return courts.of_facility(SERVICE, "fac-1")

    _, after = asyncio.run(backend.run(_async(change_then_list), write=True))
    assert dict((court.id, m and m.external_court_id) for court, m in after)["court-4"] == "Y"  # seen at once (M5)
