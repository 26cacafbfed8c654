"""The stores' indexes: the overlap check (B13, B14), the list order and filter paths (B23-B25), tombstones; on
every backend (memory, SQLite, PostgreSQL), which must answer alike."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mock_server.wingfield.models import (
    ApiToken,
    Booking,
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
from mock_server.wingfield.store.base import Store
from mock_server.wingfield.store.memory import MemoryStore

S1, S2 = "service-1", "service-2"
C1, C2, C3 = "court-1", "court-2", "court-3"
BASE = datetime(2031, 5, 1, tzinfo=UTC)
UPDATED = datetime(2030, 1, 1, tzinfo=UTC)
ANA, BEN = Participant(user_id="ana"), Participant(user_id="ben")
PAT, SAM = Participant(email="pat@example.com"), Participant(email="sam@example.com")


def at(minutes: float) -> datetime:
    return BASE + timedelta(minutes=minutes)


def updated(seconds: float) -> datetime:
    return UPDATED + timedelta(seconds=seconds)


def put(
    store: Store,
    external_id: str,
    start: float,
    end: float,
    *,
    service: str = S1,
    court: str = C1,
    changed: float = 0,
    participants: tuple[Participant, ...] = (PAT,),
) -> Booking:
    """Store a booking as the rules would: a new key takes the next seq, an existing one keeps its own."""
    old = store.booking_record((service, external_id))
    seq = old.seq if isinstance(old, Booking) else store.next_booking_seq()
    booking = Booking(
        service, external_id, court, at(start), at(end), UPDATED, participants, UPDATED, updated(changed), seq
    )
    store.put_booking(booking)
    return booking


def overlap(store: Store, start: float, end: float, court: str = C1, exclude: str = "-") -> str | None:
    found = store.find_overlap(court, at(start), at(end), exclude=(S1, exclude))
    return None if found is None else found.external_id


def query(store: Store, service: str = S1, **fields) -> tuple[list[str], int]:
    page, total = store.query_bookings(service, BookingQuery(**fields))
    return [b.external_id for b in page], total


@pytest.fixture
def make_store(fresh_backend):
    """An empty store of the test's backend (a new one for memory, the emptied database for SQL)."""
    return lambda: fresh_backend().wingfield


# -- find_overlap ----------------------------------------------------------------------------------


def test_find_overlap_on_an_empty_court(make_store):
    store = make_store()
    assert overlap(store, 0, 60) is None
    put(store, "a", 0, 60, court=C2)
    assert overlap(store, 0, 60) is None


@pytest.fixture
def three(make_store) -> Store:
    """C1 holds a [0, 60), b [60, 120) and c [180, 240) minutes after BASE."""
    store = make_store()
    put(store, "c", 180, 240)
    put(store, "a", 0, 60)
    put(store, "b", 60, 120)
    return store


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (-60, 0, None),  # touches a's start
        (120, 180, None),  # touches b's end and c's start: the gap exactly
        (240, 300, None),  # touches c's end
        (-60, -30, None),
        (300, 400, None),
        (130, 170, None),  # inside the gap
        (-60, 0.001, "a"),
        (59.999, 60, "a"),
        (0, 60, "a"),
        (10, 20, "a"),
        (30, 90, "b"),  # overlaps a and b; the latest-starting one is named
        (119, 181, "c"),  # overlaps b and c
        (-100, 1000, "c"),
        (120, 180.001, "c"),
        (119.999, 180, "b"),
        (239.999, 241, "c"),
    ],
)
def test_find_overlap_is_half_open(three, start, end, expected):
    assert overlap(three, start, end) == expected


@pytest.mark.parametrize(
    ("exclude", "start", "end", "expected"),
    [
        ("a", 0, 60, None),  # a never overlaps itself
        ("a", 0, 61, "b"),
        ("a", -30, 30, None),
        ("b", 30, 120, "a"),  # b is the last one starting before end: skipped, a is next
        ("b", 60, 180, None),
        ("b", 60, 181, "c"),
        ("c", 120, 300, None),
        ("c", 100, 300, "b"),
        ("c", 50, 200, "b"),
        ("x", 0, 60, "a"),  # excluding an unknown key changes nothing
    ],
)
def test_find_overlap_excludes_the_booking_itself(three, exclude, start, end, expected):
    assert overlap(three, start, end, exclude=exclude) == expected


def test_find_overlap_exclude_is_the_whole_key_not_the_external_id(three):
    found = three.find_overlap(C1, at(0), at(60), exclude=(S2, "a"))
    assert found is not None and found.key == (S1, "a")


def test_find_overlap_ignores_other_courts(three):
    put(three, "elsewhere", 120, 180, court=C2)
    put(three, "others", 120, 180, court=C3, service=S2)
    assert overlap(three, 120, 180) is None
    assert overlap(three, 120, 180, court=C2) == "elsewhere"
    assert overlap(three, 0, 1000, court=C3) == "others"


def test_find_overlap_sees_every_service_on_the_court(three):
    put(three, "gap", 120, 180, service=S2)
    assert overlap(three, 130, 140) == "gap"
    assert three.find_overlap(C1, at(130), at(140), exclude=(S2, "gap")) is None


def test_booking_moved_to_another_court_leaves_the_old_courts_index(three):
    moved = put(three, "b", 60, 120, court=C2, changed=1)
    assert overlap(three, 60, 120) is None
    assert overlap(three, 60, 120, court=C2) == "b"
    assert three.booking_record((S1, "b")) == moved


def test_booking_moved_in_time_leaves_its_old_slot(three):
    put(three, "b", 130, 170, changed=1)
    assert overlap(three, 60, 120) is None
    assert overlap(three, 100, 140) == "b"


def test_tombstone_frees_the_court(three):
    three.put_tombstone(Tombstone(S1, "b", UPDATED))
    assert overlap(three, 60, 120) is None
    assert overlap(three, 59, 121) == "a"
    assert isinstance(three.booking_record((S1, "b")), Tombstone)


# -- query_bookings --------------------------------------------------------------------------------


@pytest.fixture
def listing(make_store) -> Store:
    """Five bookings of S1 and one of S2, with updatedAt ties so that seq decides."""
    store = make_store()
    put(store, "p", 0, 60, changed=10, participants=(ANA, PAT))
    put(store, "q", 0, 60, court=C2, changed=20, participants=(BEN,))
    put(store, "r", 60, 120, changed=10, participants=(ANA,))
    put(store, "s", 60, 120, court=C2, changed=30, participants=(PAT, BEN))
    put(store, "t", 120, 180, changed=10, participants=(SAM,))
    put(store, "u", 120, 180, court=C2, changed=50, service=S2, participants=(ANA, PAT))
    return store


ALL_S1 = ["s", "q", "p", "r", "t"]  # updatedAt 30, 20, then the three at 10 by seq


def test_query_unfiltered_order_and_paging(listing):
    assert query(listing) == (ALL_S1, 5)
    assert query(listing, offset=1, limit=2) == (ALL_S1[1:3], 5)
    assert query(listing, offset=4, limit=100) == (ALL_S1[4:], 5)
    assert query(listing, offset=5) == ([], 5)
    assert query(listing, offset=50, limit=1) == ([], 5)
    assert query(listing, service=S2) == (["u"], 1)
    assert query(listing, service="nobody") == ([], 0)


def test_query_order_follows_updates(listing):
    put(listing, "t", 120, 180, changed=40, participants=(SAM,))  # t is now the newest, seq unchanged
    assert query(listing)[0] == ["t", "s", "q", "p", "r"]
    put(listing, "p", 0, 60, changed=10.5, participants=(ANA, PAT))
    assert query(listing)[0] == ["t", "s", "q", "p", "r"]
    put(listing, "r", 60, 120, changed=20, participants=(ANA,))  # ties q: q has the smaller seq
    assert query(listing)[0] == ["t", "s", "q", "r", "p"]


def test_query_by_external_id(listing):
    assert query(listing, external_id="r") == (["r"], 1)
    assert query(listing, external_id="u") == ([], 0)  # another service's
    assert query(listing, external_id="nope") == ([], 0)
    assert query(listing, external_id="r", court_id=C2) == ([], 0)  # the other filters still apply
    assert query(listing, external_id="r", offset=1) == ([], 1)
    listing.put_tombstone(Tombstone(S1, "r", UPDATED))
    assert query(listing, external_id="r") == ([], 0)


def test_query_by_participant_user(listing):
    assert query(listing, participants=(ANA,)) == (["p", "r"], 2)
    assert query(listing, participants=(BEN,)) == (["s", "q"], 2)
    assert query(listing, participants=(Participant(user_id="nobody"),)) == ([], 0)
    assert query(listing, service=S2, participants=(ANA,)) == (["u"], 1)


def test_query_by_participant_email(listing):
    assert query(listing, participants=(PAT,)) == (["s", "p"], 2)
    assert query(listing, participants=(SAM,)) == (["t"], 1)
    # A user id that equals an e-mail is another participant.
    assert query(listing, participants=(Participant(user_id="pat@example.com"),)) == ([], 0)


def test_query_by_user_and_email_together(listing):
    assert query(listing, participants=(ANA, PAT)) == (["p"], 1)
    assert query(listing, participants=(PAT, ANA)) == (["p"], 1)
    assert query(listing, participants=(BEN, PAT)) == (["s"], 1)
    assert query(listing, participants=(SAM, ANA)) == ([], 0)
    assert query(listing, participants=(PAT,), court_id=C1) == (["p"], 1)


def test_query_by_court(listing):
    assert query(listing, court_id=C1) == (["p", "r", "t"], 3)
    assert query(listing, court_id=C2) == (["s", "q"], 2)  # u is S2's
    assert query(listing, court_id=C3) == ([], 0)
    assert query(listing, court_id=C1, offset=1, limit=1) == (["r"], 3)


def test_query_by_overlap_range(listing):
    assert query(listing, overlaps_from=at(60)) == (["s", "r", "t"], 3)
    assert query(listing, overlaps_to=at(60)) == (["q", "p"], 2)
    assert query(listing, overlaps_from=at(59), overlaps_to=at(61)) == (["s", "q", "p", "r"], 4)
    assert query(listing, overlaps_from=at(60), overlaps_to=at(60)) == ([], 0)
    assert query(listing, overlaps_from=at(180)) == ([], 0)


def test_query_by_updated_range_is_inclusive(listing):
    assert query(listing, updated_from=updated(20)) == (["s", "q"], 2)
    assert query(listing, updated_from=updated(20) + timedelta(microseconds=1)) == (["s"], 1)
    assert query(listing, updated_to=updated(20)) == (["q", "p", "r", "t"], 4)
    assert query(listing, updated_to=updated(10)) == (["p", "r", "t"], 3)
    assert query(listing, updated_to=updated(10) - timedelta(microseconds=1)) == ([], 0)
    assert query(listing, updated_from=updated(10), updated_to=updated(10)) == (["p", "r", "t"], 3)
    assert query(listing, updated_from=updated(10), updated_to=updated(20), offset=1, limit=2) == (["p", "r"], 4)
    assert query(listing, updated_from=updated(11), updated_to=updated(19)) == ([], 0)
    assert query(listing, updated_from=updated(31)) == ([], 0)
    assert query(listing, updated_from=updated(10), overlaps_from=at(60)) == (["s", "r", "t"], 3)
    assert query(listing, service=S2, updated_from=updated(0)) == (["u"], 1)
    assert query(listing, service="nobody", updated_from=updated(0)) == ([], 0)


def test_query_by_updated_range_sees_updates(listing):
    put(listing, "t", 120, 180, changed=25, participants=(SAM,))
    assert query(listing, updated_from=updated(20), updated_to=updated(30)) == (["s", "t", "q"], 3)
    assert query(listing, updated_to=updated(10)) == (["p", "r"], 2)


def test_tombstone_removes_booking_from_every_index(listing):
    listing.put_tombstone(Tombstone(S1, "p", UPDATED))
    assert query(listing) == (["s", "q", "r", "t"], 4)
    assert query(listing, external_id="p") == ([], 0)
    assert query(listing, participants=(ANA,)) == (["r"], 1)
    assert query(listing, participants=(PAT,)) == (["s"], 1)
    assert query(listing, participants=(ANA, PAT)) == ([], 0)
    assert query(listing, court_id=C1) == (["r", "t"], 2)
    assert query(listing, updated_to=updated(10)) == (["r", "t"], 2)
    assert query(listing, overlaps_to=at(60)) == (["q"], 1)
    assert overlap(listing, 0, 60) is None
    # S2's booking with the same participants is untouched.
    assert query(listing, service=S2, participants=(ANA, PAT)) == (["u"], 1)


def test_tombstone_of_a_missing_booking_and_recreation(listing):
    listing.put_tombstone(Tombstone(S1, "never", UPDATED))
    assert query(listing) == (ALL_S1, 5)
    listing.put_tombstone(Tombstone(S1, "t", UPDATED))
    again = put(listing, "t", 120, 180, changed=5, participants=(BEN,))
    assert again.seq == 7  # a new booking after the tombstone gets a new internal id
    assert query(listing, participants=(SAM,)) == ([], 0)
    assert query(listing, participants=(BEN,)) == (["s", "q", "t"], 3)
    assert query(listing)[0] == ["s", "q", "p", "r", "t"]


def test_updated_participants_leave_the_participant_index(listing):
    put(listing, "p", 0, 60, changed=10, participants=(BEN,))
    assert query(listing, participants=(ANA,)) == (["r"], 1)
    assert query(listing, participants=(PAT,)) == (["s"], 1)
    assert query(listing, participants=(BEN,)) == (["s", "q", "p"], 3)


def test_updatedAt_index_uses_exact_microseconds(make_store):
    store = make_store()
    late = datetime(2031, 1, 1, tzinfo=UTC)  # floats of epoch seconds cannot tell these apart
    for n, name in enumerate(["a", "b", "c"]):
        b = Booking(S1, name, C1, at(n), at(n + 0.5), UPDATED, (PAT,), UPDATED, late + timedelta(microseconds=n), n + 1)
        store.put_booking(b)
    assert query(store) == (["c", "b", "a"], 3)
    assert query(store, updated_from=late + timedelta(microseconds=1), updated_to=late + timedelta(microseconds=1)) == (
        ["b"],
        1,
    )


# -- a randomized comparison with a brute-force scan -----------------------------------------------

SERVICES = [S1, S2]
COURTS = [C1, C2, C3]
PEOPLE = [ANA, BEN, PAT, SAM]
EXTERNAL_IDS = ["e0", "e1", "e2", "e3", "e4", "e5"]

put_op = st.tuples(
    st.just("put"),
    st.sampled_from(SERVICES),
    st.sampled_from(EXTERNAL_IDS),
    st.sampled_from(COURTS),
    st.integers(0, 40),  # start minute
    st.integers(1, 12),  # duration
    st.integers(0, 6),  # updatedAt second: many ties
    st.lists(st.sampled_from(PEOPLE), min_size=1, max_size=3, unique=True),
)
delete_op = st.tuples(st.just("delete"), st.sampled_from(SERVICES), st.sampled_from(EXTERNAL_IDS))
optional_minute = st.none() | st.integers(-5, 60)
optional_second = st.none() | st.integers(-1, 8)
queries = st.builds(
    BookingQuery,
    offset=st.integers(0, 6),
    limit=st.integers(1, 6),
    court_id=st.none() | st.sampled_from(COURTS),
    external_id=st.none() | st.sampled_from(EXTERNAL_IDS),
    participants=st.lists(st.sampled_from(PEOPLE), max_size=2, unique=True).map(tuple),
    overlaps_from=optional_minute.map(lambda m: None if m is None else at(m)),
    overlaps_to=optional_minute.map(lambda m: None if m is None else at(m)),
    updated_from=optional_second.map(lambda s: None if s is None else updated(s)),
    updated_to=optional_second.map(lambda s: None if s is None else updated(s)),
)


def brute_overlaps(active: dict, court: str, start: datetime, end: datetime, exclude) -> set:
    return {k for k, b in active.items() if b.court_id == court and k != exclude and b.start < end and start < b.end}


def test_indexes_agree_with_a_brute_force_scan(make_store, store_kind):
    """Fewer examples on SQL, where each one empties a database."""

    @settings(
        max_examples=60 if store_kind == "memory" else 15,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(
        operations=st.lists(put_op | delete_op, max_size=40),
        probes=st.lists(st.tuples(st.sampled_from(COURTS), st.integers(-5, 55), st.integers(1, 15)), max_size=10),
        lists=st.lists(st.tuples(st.sampled_from(SERVICES), queries), min_size=1, max_size=10),
    )
    def check(operations, probes, lists):
        agree_with_a_brute_force_scan(make_store(), operations, probes, lists)

    check()


def agree_with_a_brute_force_scan(store: Store, operations, probes, lists) -> None:
    active: dict[tuple[str, str], Booking] = {}
    for op in operations:
        if op[0] == "delete":
            _, service, external_id = op
            store.put_tombstone(Tombstone(service, external_id, UPDATED))
            active.pop((service, external_id), None)
            continue
        _, service, external_id, court, start, duration, changed, people = op
        key = (service, external_id)
        begin, end = at(start), at(start + duration)
        expected = brute_overlaps(active, court, begin, end, key)
        found = store.find_overlap(court, begin, end, exclude=key)
        assert (found is None) == (not expected)
        if found is not None:
            assert found.key in expected
            continue  # the rules refuse it; the store keeps its invariant
        seq = active[key].seq if key in active else store.next_booking_seq()
        booking = Booking(
            service, external_id, court, begin, end, UPDATED, tuple(people), UPDATED, updated(changed), seq
        )
        store.put_booking(booking)
        active[key] = booking

    for court, start, duration in probes:
        begin, end = at(start), at(start + duration)
        for exclude in [("-", "-"), *active]:
            expected = brute_overlaps(active, court, begin, end, exclude)
            found = store.find_overlap(court, begin, end, exclude=exclude)
            assert (found is None) == (not expected)
            assert found is None or found.key in expected

    for service, q in lists:
        matching = sorted(
            (b for b in active.values() if b.service_id == service and q.matches(b)),
            key=lambda b: (-b.updated_at.timestamp(), b.seq),
        )
        page, total = store.query_bookings(service, q)
        assert total == len(matching)
        assert page == matching[q.offset : q.offset + q.limit]


# -- the world, court mappings and snapshots -------------------------------------------------------


def fill_world(store: Store) -> None:
    """The same adds and puts for the store under test and for the reference memory store."""
    store.add_organization(Organization("org-1", "Club"))
    store.add_facility(Facility("fac-1", "org-1", "Hall"))
    for court_id, name in (("court-b", "B"), ("court-a", "A"), ("court-c", "C")):
        store.add_court(Court(court_id, "fac-1", name, court_id != "court-c"))
    store.add_service(ExternalService(S1, "One"))
    store.add_service(ExternalService(S2, "Two"))
    store.add_token(ApiToken("tok-1", S1, {"court-booking": "write", "user": "read"}, UPDATED, False, "first"))
    store.add_token(ApiToken("tok-2", S2, {"court-booking": "none"}, None, True))
    store.add_user(User("ana", "ana@example.com", "Ana", "A"))
    store.add_user(User("ben", "ben@example.com", "Ben", "B", created_by_service_id=S1))
    store.add_user_relation(UserRelation(S1, "ana", "ext-ana", "ACCEPTED"))
    store.add_user_relation(UserRelation(S1, "ben", "ext-ben", "PENDING"))
    store.add_organization_relation(OrganizationRelation("rel-1", S1, "org-1", "ext-org"))
    for court_id, external in (("court-a", "X-A"), ("court-b", "X-B"), ("court-c", "X-C")):
        store.put_mapping(CourtMapping(S1, court_id, external, f"name {external}", UPDATED, updated(1)))
    store.put_mapping(CourtMapping(S2, "court-a", "Y-A", None, UPDATED, UPDATED))
    store.put_mapping(CourtMapping(S1, "court-a", "X-A2", None, UPDATED, updated(2)))  # replaced: listed last
    store.delete_mapping(S1, "court-c")
    store.delete_mapping(S1, "court-none")


def test_world_and_mappings_come_back_as_put(make_store):
    store, reference = make_store(), MemoryStore()
    fill_world(store)
    fill_world(reference)
    for key in ("org-1", "nope"):
        assert store.organization(key) == reference.organization(key)
    assert store.facility("fac-1") == Facility("fac-1", "org-1", "Hall") and store.facility("nope") is None
    for key in ("court-a", "court-c", "nope"):
        assert store.court(key) == reference.court(key)
    assert store.courts_of_facility("fac-1") == reference.courts_of_facility("fac-1")
    assert store.courts_of_facility("nope") == []
    assert store.service(S2) == ExternalService(S2, "Two") and store.service("nope") is None
    assert store.token("tok-1") == reference.token("tok-1") and store.token("tok-1").expires_at == UPDATED
    assert store.token("nope") is None
    assert list(store.tokens()) == list(reference.tokens())
    assert store.user("ben") == reference.user("ben") and store.user("nope") is None
    assert store.user_relation(S1, "ben") == reference.user_relation(S1, "ben")
    assert store.user_relation(S2, "ben") is None
    assert store.has_organization_relation(S1, "org-1") and not store.has_organization_relation(S2, "org-1")
    assert store.mapping(S1, "court-a") == reference.mapping(S1, "court-a")
    assert store.mapping(S1, "court-c") is None
    assert store.mapping_by_external_id(S1, "X-A2") == reference.mapping_by_external_id(S1, "X-A2")
    assert store.mapping_by_external_id(S1, "X-A") is None  # freed by the replace (M2)
    assert store.mapping_by_external_id(S2, "X-B") is None
    assert list(store.mappings(S1)) == list(reference.mappings(S1))
    assert [m.court_id for m in store.mappings(S1)] == ["court-b", "court-a"]
    assert list(store.mappings("nobody")) == []


def test_dump_has_the_memory_stores_shape_and_loads_back(make_store):
    store, reference = make_store(), MemoryStore()
    for target in (store, reference):
        fill_world(target)
        put(target, "p", 0, 60, changed=10, participants=(ANA, PAT))
        put(target, "q", 0, 60, court=C2, changed=20, participants=(BEN,))
        put(target, "r", 60, 120, changed=10, service=S2, participants=(SAM,))
        target.put_tombstone(Tombstone(S1, "q", updated(30)))
        target.put_tombstone(Tombstone(S2, "never", updated(40)))
        put(target, "p", 0, 30, changed=50, participants=(PAT,))
    dump = store.dump()
    assert dump == reference.dump()
    assert dump["seq"] == 3
    loaded = MemoryStore.load(dump)
    assert loaded.dump() == dump
    assert query(loaded) == query(store) == (["p"], 1)
    assert loaded.booking_record((S1, "q")) == store.booking_record((S1, "q")) == Tombstone(S1, "q", updated(30))


# -- users, relations, connect tokens, memberships, sessions and videos ----------------------------------------

BIRTHDAY = datetime(1990, 2, 3, tzinfo=UTC).date()
ANA_USER = User("ana", "ana@example.com", "Ana", "A", S1, BIRTHDAY, "FEMALE", "TENNIS", "LEFT")
BEN_USER = User("ben", "ben@example.com", "Ben", "B")
CAL_USER = User("cal", "cal@example.com", "Cal", "C", S2, gender="MALE")


def both(make_store) -> tuple[Store, MemoryStore]:
    """The store under test and the reference, to be given the same calls."""
    return make_store(), MemoryStore()


def test_users_by_id_and_by_email(make_store):
    store, reference = both(make_store)
    for target in (store, reference):
        for user in (ANA_USER, BEN_USER, CAL_USER):
            target.put_user(user)
        target.put_user(replace(BEN_USER, email="benjamin@example.com", first_name="Benjamin"))  # keeps its place
    for target in (store, reference):
        assert target.user("ana") == ANA_USER and target.user("ana").birthday == BIRTHDAY
        assert target.user("nobody") is None
        assert target.user_by_email("ana@example.com") == ANA_USER
        assert target.user_by_email("cal@example.com") == CAL_USER
        assert target.user_by_email("ben@example.com") is None  # freed by the change
        assert target.user_by_email("benjamin@example.com").first_name == "Benjamin"
        assert target.user_by_email("nobody@example.com") is None
        assert [u.id for u in target.dump()["users"]] == ["ana", "ben", "cal"]
    assert store.dump()["users"] == reference.dump()["users"]
    store.put_user(replace(BEN_USER, email="ben@example.com"))  # the old e-mail back
    assert store.user_by_email("ben@example.com") == BEN_USER
    assert store.user_by_email("benjamin@example.com") is None


def relate(target: Store) -> None:
    """Relations of S1 (ana, ben, cal) and S2 (ana); ben's replaced with another external id, ana's of S1 deleted
    and put again, cal's deleted."""
    target.put_user_relation(UserRelation(S1, "ana", "ext-ana", "ACCEPTED"))
    target.put_user_relation(UserRelation(S1, "ben", "ext-ben", "PENDING"))
    target.put_user_relation(UserRelation(S1, "cal", "ext-cal", "REJECTED"))
    target.put_user_relation(UserRelation(S2, "ana", "ext-ana", "PENDING"))
    target.put_user_relation(UserRelation(S1, "ben", "ext-ben-2", "PENDING"))  # moves to the end
    target.delete_user_relation(S1, "ana")
    target.delete_user_relation(S1, "cal")
    target.delete_user_relation(S1, "nobody")
    target.put_user_relation(UserRelation(S1, "ana", "ext-ana", "ACCEPTED"))
    target.put_user_relation(UserRelation(S1, "cal", "ext-ben", "PENDING"))  # ben's old external id, free again


def test_user_relations_put_replace_and_delete(make_store):
    store, reference = both(make_store)
    for target in (store, reference):
        relate(target)
    for target in (store, reference):
        assert [(r.user_id, r.external_user_id) for r in target.user_relations(S1)] == [
            ("ben", "ext-ben-2"),
            ("ana", "ext-ana"),
            ("cal", "ext-ben"),
        ]
        assert target.user_relations(S2) == [UserRelation(S2, "ana", "ext-ana", "PENDING")]
        assert target.user_relations("nobody") == []
        assert target.user_relation(S1, "ana") == UserRelation(S1, "ana", "ext-ana", "ACCEPTED")
        assert target.user_relation(S2, "ben") is None
        assert target.relation_by_external_user_id(S1, "ext-ben").user_id == "cal"
        assert target.relation_by_external_user_id(S1, "ext-ben-2").user_id == "ben"
        assert target.relation_by_external_user_id(S1, "ext-cal") is None  # deleted with its relation
        assert target.relation_by_external_user_id(S2, "ext-ana").status == "PENDING"
        assert target.relation_by_external_user_id(S2, "ext-ben") is None
    assert store.dump()["user_relations"] == reference.dump()["user_relations"]
    for target in (store, reference):
        target.delete_user_relation(S1, "cal")
        assert target.relation_by_external_user_id(S1, "ext-ben") is None
        assert [r.user_id for r in target.user_relations(S1)] == ["ben", "ana"]


def test_organization_relations_put_replace_and_delete(make_store):
    store, reference = both(make_store)
    for target in (store, reference):
        target.add_organization(Organization("org-1", "Club", pro_quota=2))
        target.add_organization(Organization("org-2", "Other"))
        target.put_organization_relation(OrganizationRelation("rel-1", S1, "org-1", "ext-1", UPDATED, updated(1)))
        target.put_organization_relation(OrganizationRelation("rel-2", S1, "org-2", "ext-2"))
        target.put_organization_relation(OrganizationRelation("rel-3", S2, "org-1", "ext-1"))
        target.put_organization_relation(OrganizationRelation("rel-1", S1, "org-1", "ext-1b", UPDATED, updated(2)))
        target.delete_organization_relation(S1, "org-2")
        target.delete_organization_relation(S1, "nope")
    for target in (store, reference):
        assert target.organization("org-1") == Organization("org-1", "Club", 2)
        assert target.organization("org-2").pro_quota is None
        relation = target.organization_relation(S1, "org-1")
        assert relation == OrganizationRelation("rel-1", S1, "org-1", "ext-1b", UPDATED, updated(2))
        assert target.organization_relation(S1, "org-2") is None
        assert target.has_organization_relation(S1, "org-1") and not target.has_organization_relation(S1, "org-2")
        assert target.organization_relation_by_external_id(S1, "ext-1b") == relation
        assert target.organization_relation_by_external_id(S1, "ext-1") is None  # freed by the replace
        assert target.organization_relation_by_external_id(S1, "ext-2") is None  # deleted
        assert target.organization_relation_by_external_id(S2, "ext-1").id == "rel-3"
    dump = store.dump()
    assert dump["organization_relations"] == reference.dump()["organization_relations"]
    assert [r.id for r in dump["organization_relations"]] == ["rel-3", "rel-1"]  # a replaced one moves last
    assert dump["organizations"] == reference.dump()["organizations"]


def test_connect_tokens_and_pro_memberships(make_store):
    store, reference = both(make_store)
    for target in (store, reference):
        target.put_connect_token(ConnectToken("tok-a", "org-1", updated(60)))
        target.put_connect_token(ConnectToken("tok-b", "org-2", updated(60), "CANCELLED"))
        target.put_connect_token(ConnectToken("tok-a", "org-1", updated(60), "CLAIMED"))  # keeps its place
        for organization_id, user_id in (("org-1", "ana"), ("org-1", "ben"), ("org-2", "ana"), ("org-1", "ana")):
            target.put_membership(Membership(organization_id, user_id))
        target.delete_membership("org-1", "ben")
        target.delete_membership("org-1", "nobody")
        target.put_membership(Membership("org-1", "cal"))
    for target in (store, reference):
        assert target.connect_token("tok-a") == ConnectToken("tok-a", "org-1", updated(60), "CLAIMED")
        assert target.connect_token("tok-b").state == "CANCELLED" and target.connect_token("nope") is None
        assert target.membership("org-1", "ana") == Membership("org-1", "ana")
        assert target.membership("org-1", "ben") is None
        assert target.pro_member_count("org-1") == 2
        assert target.pro_member_count("org-2") == 1
        assert target.pro_member_count("nope") == 0
    dump, expected = store.dump(), reference.dump()
    assert dump["connect_tokens"] == expected["connect_tokens"]
    assert [t.value for t in dump["connect_tokens"]] == ["tok-a", "tok-b"]
    assert dump["memberships"] == expected["memberships"]
    assert [(m.organization_id, m.user_id) for m in dump["memberships"]] == [
        ("org-1", "ana"),
        ("org-2", "ana"),
        ("org-1", "cal"),
    ]
    for target in (store, reference):
        target.delete_membership("org-2", "ana")
        assert target.pro_member_count("org-2") == 0


def play(session_id: str, started: float, *teams: tuple[str, ...], workout: str | None = None) -> Session:
    players = tuple(tuple(SessionPlayer(user_id, user_id.title()) for user_id in team) for team in teams)
    return Session(session_id, "MATCH", "TENNIS", 3600, updated(started), players, workout)


SESSIONS = [
    play("s-1", 10, ("ana",), ("ben",)),
    play("s-2", 5, ("ben", "cal"), ("ana",), workout="w-1"),  # added later, started earlier
    play("s-3", 20, ("cal", "cal")),  # one player twice
    play("s-4", 30),
]
VIDEOS = [
    Video("v-1", "s-2", "SESSION_VIDEO", 30, "https://v/1.mp4", "https://v/1.jpg", "1080p"),
    Video("v-2", "s-1", "AUTOMATIC_HIGHLIGHTS", 60, "https://v/2.mp4", "https://v/2.jpg", "720p"),
    Video("v-3", "s-2", "CUSTOM_HIGHLIGHTS", 25, "https://v/3.mp4", "https://v/3.jpg", "4k"),
]


def test_sessions_of_users_and_their_videos(make_store):
    store, reference = both(make_store)
    for target in (store, reference):
        for session in SESSIONS:
            target.add_session(session)
        for video in VIDEOS:
            target.add_video(video)
    for target in (store, reference):
        assert target.session("s-2") == SESSIONS[1] and target.session("s-2").workout_id == "w-1"
        assert target.session("s-3").teams == ((SessionPlayer("cal", "Cal"), SessionPlayer("cal", "Cal")),)
        assert target.session("nope") is None
        assert [s.id for s in target.sessions_of_user("ana")] == ["s-1", "s-2"]
        assert [s.id for s in target.sessions_of_user("cal")] == ["s-2", "s-3"]
        assert list(target.sessions_of_user("nobody")) == []
        assert [v.id for v in target.videos_of_session("s-2")] == ["v-1", "v-3"]
        assert target.videos_of_session("s-1") == [VIDEOS[1]]
        assert list(target.videos_of_session("s-4")) == [] and list(target.videos_of_session("nope")) == []
    assert store.dump()["sessions"] == reference.dump()["sessions"] == SESSIONS
    assert store.dump()["videos"] == reference.dump()["videos"] == VIDEOS


def fill_people(store: Store) -> None:
    for user in (ANA_USER, BEN_USER, CAL_USER):
        store.put_user(user)
    relate(store)
    store.add_organization(Organization("org-1", "Club", pro_quota=3))
    store.put_organization_relation(OrganizationRelation("rel-1", S1, "org-1", "ext-org", UPDATED, updated(5)))
    store.put_organization_relation(OrganizationRelation("rel-2", S2, "org-1", "ext-org"))
    store.put_connect_token(ConnectToken("tok-a", "org-1", updated(60), "CLAIMED"))
    store.put_connect_token(ConnectToken("tok-b", "org-1", updated(90)))
    store.put_membership(Membership("org-1", "ben"))
    store.put_membership(Membership("org-1", "ana"))
    for session in SESSIONS:
        store.add_session(session)
    for video in VIDEOS:
        store.add_video(video)


def test_new_records_dump_and_adopt_round_trip(fresh_backend, store_kind):
    """Dumped as the memory store dumps them; adopted, every index answers as the memory store's."""
    from mock_server.onlive.store.memory import OnliveMemoryStore

    reference = MemoryStore()
    fill_people(reference)
    expected = reference.dump()
    backend = fresh_backend()
    fill_people(backend.wingfield)
    assert backend.wingfield.dump() == expected
    backend.adopt(MemoryStore.load(expected), OnliveMemoryStore())
    store = backend.wingfield
    dump = store.dump()
    assert dump == expected
    assert all(dump[key] for key in ("connect_tokens", "memberships", "sessions", "videos"))
    assert MemoryStore.load(dump).dump() == dump
    assert store.user_by_email("cal@example.com") == CAL_USER
    assert store.user_relations(S1) == reference.user_relations(S1)
    assert store.relation_by_external_user_id(S1, "ext-ben") == reference.relation_by_external_user_id(S1, "ext-ben")
    assert store.organization_relation_by_external_id(S2, "ext-org").id == "rel-2"
    assert store.organization_relation(S1, "org-1").updated_at == updated(5)
    assert store.connect_token("tok-b") == ConnectToken("tok-b", "org-1", updated(90))
    assert store.pro_member_count("org-1") == 2 and store.membership("org-1", "ben") is not None
    assert store.sessions_of_user("ben") == reference.sessions_of_user("ben")
    assert store.videos_of_session("s-2") == reference.videos_of_session("s-2")
    # The adopted records go on as the memory store's do: a replace moves last, a new one comes after them.
    for target in (store, reference):
        target.put_user_relation(UserRelation(S1, "ben", "ext-ben-3", "ACCEPTED"))
        target.put_user_relation(UserRelation(S1, "dan", "ext-dan", "PENDING"))
        target.put_membership(Membership("org-1", "cal"))
        target.add_session(play("s-5", 40, ("ben",)))
    assert store.dump() == reference.dump()
    assert [s.id for s in store.sessions_of_user("ben")] == ["s-1", "s-2", "s-5"]
