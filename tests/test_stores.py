"""The mock over HTTP on every store (memory, SQLite, PostgreSQL): the same answers, the same controls, exports
that import back, and tampered documents refused with the entry named and nothing changed."""

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from bookingkit import signing
from contract_tests.wingfield import Scenario, Wingfield, check_error_contract
from mock_server.app import create_app

from .conftest import COURT, COURT_2, TARGET, TOKENS
from .databases import STORES, store_url
from .test_admin import ONLIVE

ADMIN = {"Authorization": "Bearer admin"}


@pytest.fixture(params=STORES)
def app(request, tmp_path):
    with store_url(request.param, tmp_path) as url:
        app = create_app(store=url, admin_token="admin", validate_responses=True)
        yield app
        app.mock.backend.close()


@pytest.fixture
def http(app) -> Iterator[httpx.Client]:
    with app.test_client(base_url=TARGET.base_url) as client:
        client.event_hooks["response"] = [check_error_contract]
        yield client


@pytest.fixture
def api(http) -> Wingfield:
    return Wingfield(TARGET, Scenario(), TOKENS["write"], http=http)


def signed(http: httpx.Client, method: str, path: str, body: dict | None = None) -> httpx.Response:
    raw = b"" if body is None else json.dumps(body).encode()
    url = f"http://testserver/api/v1{path}"
    headers = signing.sign(method, url, raw, ONLIVE.access_key_id, ONLIVE.secret_access_key).as_dict()
    return http.request(method, url, content=raw, headers={**headers, "Content-Type": "application/json"})


def test_bookings_keep_every_rule(api):
    scenario = api.scenario
    first = api.upsert(scenario.id("a"))
    assert first.status_code == 200 and api.get(scenario.id("a")).json() == first.json()  # B1
    assert api.upsert(scenario.id("a"), externalUpdatedAt=scenario.version(0)).status_code == 409  # B2
    assert api.upsert(scenario.id("a")).json()["updatedAt"] == first.json()["updatedAt"]  # B3
    overlap = api.upsert(scenario.id("b"), startDate=scenario.at(0.5), endDate=scenario.at(1.5))
    assert overlap.status_code == 409 and overlap.json()["error"]["type"] == "court_booking_overlap"  # B13
    assert api.upsert(scenario.id("c"), courtId=COURT_2).status_code == 200
    moved = api.upsert(
        scenario.id("a"), externalUpdatedAt=scenario.version(2), startDate=scenario.at(1), endDate=scenario.at(2)
    )
    assert moved.status_code == 200 and moved.json()["createdAt"] == first.json()["createdAt"]  # B5
    window = {"from": scenario.at(-1), "to": scenario.at(3)}
    assert api.own_ids(**window) == [scenario.id("a"), scenario.id("c")]  # B23
    assert api.own_ids(**window, courtId=COURT) == [scenario.id("a")]  # B25
    assert api.list(**window, limit=1).json()["totalCount"] == 2  # B24
    assert api.delete(scenario.id("a"), scenario.version(3)).json() == {}  # B19
    assert api.get(scenario.id("a")).status_code == 404  # B20
    late = api.upsert(scenario.id("a"), externalUpdatedAt=scenario.version(3))
    assert late.status_code == 409 and late.json()["error"]["type"] == "stale_write"  # B21


def test_mappings_and_courts(api):
    court = TARGET.scratch_court
    mapped = api.put_mapping(court, {"externalCourtId": "X-1", "externalCourtName": "Clay"})
    assert mapped.status_code == 200
    assert api.court(court).json()["mapping"]["externalCourtId"] == "X-1"
    assert api.put_mapping(TARGET.scratch_courts[1], {"externalCourtId": "X-1"}).status_code == 409
    assert api.mappings(externalCourtId="X-1").json()["totalCount"] == 1
    assert api.delete_mapping(court).json() == {} and api.mapping(court).status_code == 404


def test_onlive_services_and_appointments(http):
    body = {
        "name": "Store test",
        "duration": 30,
        "timeBetween": 0,
        "minTimeToSchedule": 0,
        "maxTimeToSchedule": 9,
        "incrementTime": 15,
    }
    service = signed(http, "POST", "/services", body).json()
    appointment = signed(
        http,
        "POST",
        "/appointments",
        {
            "start": "2090-01-01T10:00:00Z",
            "end": "2090-01-01T10:30:00Z",
            "calendarIds": [ONLIVE.calendar_id],
            "serviceId": service["id"],
        },
    ).json()
    assert signed(http, "DELETE", f"/booking-services/{service['id']}").status_code == 403  # O3
    assert signed(http, "PUT", f"/appointments/{appointment['id']}", {"state": "cancelled"}).status_code == 200
    deleted = signed(http, "DELETE", f"/booking-services/{service['id']}")
    assert deleted.status_code == 200 and deleted.json()["deletedAt"]  # O1
    assert signed(http, "GET", f"/services/{service['id']}").status_code == 404  # O2


def test_controls_clock_faults_journal_and_reset(api, http):
    http.put("http://testserver/__admin/clock", json={"freezeAt": "2031-02-03T04:05:06Z"}, headers=ADMIN)
    assert http.get("http://testserver/__admin/clock", headers=ADMIN).json()["now"] == "2031-02-03T04:05:06Z"
    assert api.upsert(api.scenario.id()).json()["createdAt"] == "2031-02-03T04:05:06Z"
    http.put(
        "http://testserver/__admin/faults", json={"getCourtById": {"error": {"type": "court_not_found"}}}, headers=ADMIN
    )
    assert api.court(COURT).status_code == 404
    http.delete("http://testserver/__admin/faults", headers=ADMIN)
    assert api.court(COURT).status_code == 200
    journal = http.get("http://testserver/__admin/requests?limit=3", headers=ADMIN).json()["items"]
    assert [entry["operationId"] for entry in journal] == ["getCourtById", "getCourtById", "upsertCourtBooking"]
    http.post("http://testserver/__admin/reset", headers=ADMIN)
    assert api.get(api.scenario.id()).status_code == 404


def every_read(api, http) -> dict:
    scenario = api.scenario
    return {
        "bookings": api.list(limit=100).json(),
        "one": api.get(scenario.id("kept")).json(),
        "mappings": api.mappings().json(),
        "services": signed(http, "GET", "/services?limit=100").json(),
        "appointments": signed(http, "GET", "/appointments?limit=100").json(),
    }


def test_an_export_imports_back_to_the_same_answers(api, http):
    api.upsert(api.scenario.id("kept"))
    api.upsert(api.scenario.id("gone"), courtId=COURT_2)
    api.delete(api.scenario.id("gone"), api.scenario.version(4))
    before = every_read(api, http)
    exported = http.get("http://testserver/__admin/state", headers=ADMIN)
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("application/json")
    http.post("http://testserver/__admin/reset", headers=ADMIN)
    assert every_read(api, http) != before
    assert (
        http.put(
            "http://testserver/__admin/state",
            content=exported.content,
            headers={**ADMIN, "Content-Type": "application/json"},
        ).status_code
        == 200
    )
    assert every_read(api, http) == before
    late = api.upsert(api.scenario.id("gone"), courtId=COURT_2, externalUpdatedAt=api.scenario.version(4))
    assert late.status_code == 409  # the tombstone came back (B21)


def tampered(document: dict, change) -> dict:
    document = json.loads(json.dumps(document))
    change(document)
    return document


@pytest.mark.parametrize(
    "change, named",
    [
        (
            lambda d: d["courtBookings"].append({**d["courtBookings"][0], "externalCourtBookingId": "twin"}),
            "court_booking_overlap",
        ),
        (lambda d: d["apiTokens"][0]["scopes"].update({"court-booking": "superuser"}), "apiTokens[0].scopes"),
        (lambda d: d["onlive"]["services"][0].pop("name"), "onlive.services[0]"),
        (lambda d: d["courtBookings"][0].update(seq="x"), "courtBookings[0]"),
        (lambda d: d["courtMappings"][0].update(courtId="00000000-0000-4000-8000-000000000000"), "courtMappings[0]"),
    ],
    ids=["overlap", "scope", "service without name", "unknown field", "unknown court"],
)
def test_a_tampered_export_is_refused_naming_the_entry_and_nothing_changes(api, http, change, named):
    api.upsert(api.scenario.id("kept"))
    exported = http.get("http://testserver/__admin/state", headers=ADMIN).json()
    before = every_read(api, http)
    response = http.put("http://testserver/__admin/state", json=tampered(exported, change), headers=ADMIN)
    assert response.status_code == 400 and named in response.text, response.text
    assert every_read(api, http) == before


def big_world(path, bookings: int, courts: int = 100) -> str:
    """A world of `bookings` court bookings spread over `courts` courts, written as JSON."""
    org, facility, service = (str(uuid.UUID(int=n, version=4)) for n in (1, 2, 3))
    court_ids = [str(uuid.UUID(int=1000 + n, version=4)) for n in range(courts)]
    start = datetime(2035, 1, 1, tzinfo=UTC)

    def instant(moment: datetime) -> str:
        return moment.strftime("%Y-%m-%dT%H:%M:%SZ")

    document = {
        "organizations": [{"id": org, "name": "Big Org"}],
        "facilities": [{"id": facility, "organizationId": org, "name": "Big Facility"}],
        "courts": [{"id": c, "facilityId": facility, "name": f"Court {i}"} for i, c in enumerate(court_ids)],
        "externalServices": [{"id": service, "name": "Big"}],
        "apiTokens": [{"token": "tok_big.read", "externalServiceId": service, "scopes": {"court-booking": "read"}}],
        "organizationRelations": [
            {
                "id": str(uuid.UUID(int=4, version=4)),
                "externalServiceId": service,
                "organizationId": org,
                "externalOrganizationId": "big",
            }
        ],
        "courtBookings": [
            {
                "externalServiceId": service,
                "externalCourtBookingId": f"b{n}",
                "courtId": court_ids[n % courts],
                "startDate": instant(start + timedelta(hours=n // courts)),
                "endDate": instant(start + timedelta(hours=n // courts, minutes=55)),
                "externalUpdatedAt": "2034-01-01T00:00:00Z",
                "participants": [{"email": f"p{n % 997}@example.com"}],
            }
            for n in range(bookings)
        ],
    }
    path.write_text(json.dumps(document))
    return service, court_ids[7]


@pytest.mark.parametrize("store", STORES)
def test_a_100000_booking_export_imports_back(store, tmp_path):
    service, court = big_world(tmp_path / "big.json", 100_000)
    reader = {"Authorization": "Bearer tok_big.read"}
    with store_url(store, tmp_path) as url:
        app = create_app(str(tmp_path / "big.json"), store=url, admin_token="admin")
        try:
            with app.test_client(base_url="http://testserver") as client:
                page = f"/api/v1/external-services/{service}/court-bookings?courtId={court}&limit=5&offset=990"
                before = client.get(page, headers=reader).json()
                assert before.get("totalCount") == 1000, before
                exported = client.get("/__admin/state", headers=ADMIN)
                assert exported.status_code == 200
                assert client.post("/__admin/reset", headers=ADMIN).status_code == 200
                imported = client.put(
                    "/__admin/state", content=exported.content, headers={**ADMIN, "Content-Type": "application/json"}
                )
                assert imported.status_code == 200, imported.text[:500]
                assert client.get(page, headers=reader).json() == before
        finally:
            app.mock.backend.close()
