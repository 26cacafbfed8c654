"""The ONLIVE.SITE store on every backend (memory, SQLite, PostgreSQL): records come back as they were put, lists
keep OnliveMemoryStore's orders (per organization: first insertion; per service: last put, O3 looks there), and
a dump loads back into a memory store that answers the same."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from mock_server.onlive.models import AccessKey, Appointment, Calendar, Organization, Service
from mock_server.onlive.store.base import OnliveStore
from mock_server.onlive.store.memory import OnliveMemoryStore
from mock_server.wingfield.store.memory import MemoryStore

T0 = datetime(2030, 1, 1, 12, 0, 0, 123456, tzinfo=UTC)
O1, O2 = "org-1", "org-2"


def calendar(id_: str, organization: str = O1, **fields) -> Calendar:
    return Calendar(id_, organization, {"name": id_, "tags": ["a", "b"], "extraFields": {}, **fields}, T0, T0)


def service(id_: str, seq: int, organization: str = O1, **fields) -> Service:
    body = {"name": id_, "duration": 30, "calendars": [{"calendarId": "cal-1"}], "price": 12.5, **fields}
    return Service(id_, organization, body, T0, T0 + timedelta(microseconds=seq), seq=seq)


def appointment(id_: str, service_id: str | None, organization: str = O1, hours: int = 1) -> Appointment:
    return Appointment(
        id_,
        organization,
        service_id,
        ("cal-1", "cal-2"),
        T0 + timedelta(hours=hours),
        T0 + timedelta(hours=hours + 1),
        "pending",
        T0,
        T0,
        {"title": f"Appointment {id_}", "guests": [{"email": "g@example.com"}], "lang": None},
    )


@pytest.fixture
def store(fresh_backend) -> OnliveStore:
    return fresh_backend().onlive


def ids(records) -> list[str]:
    return [record.id for record in records]


def fill(store) -> None:
    """The same puts for the store under test and for the reference memory store."""
    store.add_organization(Organization(O1, "One"))
    store.add_organization(Organization(O2, "Two"))
    store.add_access_key(AccessKey("AK1", "secret-1", O1))
    store.add_access_key(AccessKey("AK2", "secret-2", O2))
    for calendar_id, organization in (("cal-2", O1), ("cal-x", O2), ("cal-1", O1)):
        store.put_calendar(calendar(calendar_id, organization))
    for service_id, organization in (("svc-b", O1), ("svc-z", O2), ("svc-a", O1)):
        store.put_service(service(service_id, store.next_seq(), organization))
    for appointment_id, service_id, organization in (
        ("app-3", "svc-b", O1),
        ("app-1", "svc-a", O1),
        ("app-2", "svc-b", O1),
        ("app-9", None, O1),
        ("app-7", "svc-z", O2),
    ):
        store.put_appointment(appointment(appointment_id, service_id, organization))
    # Re-puts: the per-organization lists keep the first position; the per-service list moves it to the end.
    store.put_appointment(replace(store.appointment("app-3"), state="cancelled", updated_at=T0 + timedelta(hours=1)))
    store.put_service(replace(store.service("svc-b"), deleted_at=T0 + timedelta(days=1)))
    store.put_calendar(replace(store.calendar("cal-2"), fields={"name": "renamed"}))


def test_records_come_back_as_put(store):
    fill(store)
    reference = OnliveMemoryStore()
    fill(reference)
    for key in ("cal-1", "cal-2", "cal-x", "nope"):
        assert store.calendar(key) == reference.calendar(key)
    for key in ("svc-a", "svc-b", "svc-z", "nope"):
        assert store.service(key) == reference.service(key)
    for key in ("app-1", "app-2", "app-3", "app-7", "app-9", "nope"):
        assert store.appointment(key) == reference.appointment(key)
    assert store.access_key("AK1") == AccessKey("AK1", "secret-1", O1)
    assert store.access_key("nope") is None
    assert list(store.access_keys()) == list(reference.access_keys())
    assert list(store.organizations()) == [Organization(O1, "One"), Organization(O2, "Two")]
    deleted = store.service("svc-b")
    assert deleted.deleted_at == T0 + timedelta(days=1) and deleted.seq == 1
    assert store.appointment("app-3").state == "cancelled"
    assert store.appointment("app-1").calendar_ids == ("cal-1", "cal-2")
    start = store.appointment("app-1").start
    assert start == T0 + timedelta(hours=1) and start.utcoffset() == timedelta(0)
    assert store.service("svc-a").fields["price"] == 12.5


def test_lists_keep_the_memory_stores_orders(store):
    fill(store)
    reference = OnliveMemoryStore()
    fill(reference)
    for organization in (O1, O2, "nobody"):
        assert ids(store.calendars_of(organization)) == ids(reference.calendars_of(organization))
        assert ids(store.services_of(organization)) == ids(reference.services_of(organization))
        assert ids(store.appointments_of(organization)) == ids(reference.appointments_of(organization))
    for service_id in ("svc-a", "svc-b", "svc-z", "nobody"):
        assert list(store.appointments_of_service(service_id)) == list(reference.appointments_of_service(service_id))
    assert ids(store.calendars_of(O1)) == ["cal-2", "cal-1"]
    assert ids(store.services_of(O1)) == ["svc-b", "svc-a"]
    assert ids(store.appointments_of(O1)) == ["app-3", "app-1", "app-2", "app-9"]
    assert ids(store.appointments_of_service("svc-b")) == ["app-2", "app-3"]  # app-3 was put again


def test_sequence_counts_on(store):
    assert [store.next_seq() for _ in range(3)] == [1, 2, 3]


def test_dump_has_the_memory_stores_shape_and_loads_back(store):
    fill(store)
    reference = OnliveMemoryStore()
    fill(reference)
    dump = store.dump()
    assert dump.keys() == reference.dump().keys()
    assert dump == reference.dump()
    loaded = OnliveMemoryStore.load(dump)
    assert loaded.dump() == dump
    assert ids(loaded.appointments_of(O1)) == ids(store.appointments_of(O1))


def test_adopt_takes_over_a_memory_store_with_its_orders_and_counter(fresh_backend):
    backend = fresh_backend()
    reference = OnliveMemoryStore()
    fill(reference)
    backend.adopt(MemoryStore(), reference)
    store = backend.onlive
    assert store.dump() == reference.dump()
    assert ids(store.appointments_of_service("svc-b")) == ["app-2", "app-3"]
    store.put_appointment(replace(store.appointment("app-2"), state="confirmed"))
    assert ids(store.appointments_of_service("svc-b")) == ["app-3", "app-2"]
    assert store.next_seq() == reference.next_seq()
