"""The ONLIVE.SITE mock over HTTP where the contract suite cannot reach: its clock, its world, its edge cases."""

import json
from datetime import UTC, datetime, timedelta

import pytest
import yaml

from bookingkit import signing
from bookingkit.files import DEFAULT_WORLD
from contract_tests.profile import BUNDLED_MOCK_PROFILE, load_profile
from mock_server.app import create_app
from mock_server.clock import Clock
from mock_server.world import WorldError, load_world

ONLIVE = load_profile(BUNDLED_MOCK_PROFILE).onlive_target
BLOCKED = "1610c525-f19a-40d0-8cd1-03daba3d2d98"  # its appointment ends 2099-03-12T10:30:00Z
APPOINTMENT = "7c9e6679-7425-40de-944b-e07fc1f90ae7"


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def call(clock):
    app = create_app(validate_responses=True, clock=clock)
    with app.test_client() as client:

        def request(method: str, path: str, body=None, key=(ONLIVE.access_key_id, ONLIVE.secret_access_key)):
            raw = b"" if body is None else json.dumps(body).encode()
            headers = signing.sign(method, "/api/v1" + path, raw, *key, now=clock.now()).as_dict()
            return client.request(
                method, "/api/v1" + path, content=raw, headers={**headers, "Content-Type": "application/json"}
            )

        request.client = client  # type: ignore[attr-defined]
        yield request


def test_O3_the_end_of_the_appointment_passing_unblocks_the_delete(call, clock):
    assert call("DELETE", f"/booking-services/{BLOCKED}").status_code == 403
    clock.freeze(datetime(2099, 3, 12, 10, 29, 59, tzinfo=UTC))
    assert call("DELETE", f"/booking-services/{BLOCKED}").status_code == 403
    clock.freeze(datetime(2099, 3, 12, 10, 30, tzinfo=UTC))  # ends now: no longer in the future
    response = call("DELETE", f"/booking-services/{BLOCKED}")
    assert response.status_code == 200 and response.json()["deletedAt"] == "2099-03-12T10:30:00.000Z"


def test_O6_the_window_follows_the_mocks_clock(call, clock):
    clock.freeze(datetime(2099, 1, 1, tzinfo=UTC))
    assert call("GET", "/services").status_code == 200  # signed at the mock's time
    signed_then = signing.sign(
        "GET", "/api/v1/services", b"", ONLIVE.access_key_id, ONLIVE.secret_access_key, now=clock.now()
    )
    clock.shift(timedelta(minutes=15, seconds=1))  # the same signature is now too old
    assert call.client.get("/api/v1/services", headers=signed_then.as_dict()).status_code == 401
    clock.shift(timedelta(seconds=-1))  # exactly 15 minutes: still inside
    assert call.client.get("/api/v1/services", headers=signed_then.as_dict()).status_code == 200


def test_unrepresentable_instants_are_400_not_500(call):
    body = {"calendarIds": [ONLIVE.calendar_id], "start": "0001-01-01T00:10:30+17:00", "end": "2031-01-01T00:00:00Z"}
    response = call("POST", "/appointments", body)
    assert response.status_code == 400 and response.json()["errors"][0]["field"] == "start"
    update = call("PUT", f"/appointments/{APPOINTMENT}", {"end": "9999-12-31T23:59:59-01:00"})
    assert update.status_code == 400 and update.json()["errors"][0]["field"] == "end"


def test_references_must_belong_to_the_organization(call):
    other_calendar = "7d3a5e4c-1b6f-4a0d-9e8f-3f4a5b6c7d8e"
    body = {"calendarIds": [other_calendar], "start": "2031-01-01T10:00:00Z", "end": "2031-01-01T11:00:00Z"}
    response = call("POST", "/appointments", body)
    assert response.status_code == 400 and response.json()["errors"] == [
        {"field": "calendarIds.0", "message": "calendar not found"}
    ]
    service = {
        "name": "X",
        "duration": 30,
        "timeBetween": 0,
        "minTimeToSchedule": 0,
        "maxTimeToSchedule": 1,
        "incrementTime": 30,
        "calendars": [{"calendarId": other_calendar, "active": True, "type": "agent"}],
    }
    assert call("POST", "/services", service).json()["errors"][0]["field"] == "calendars.0.calendarId"


def test_update_is_partial_and_keeps_created_at(call):
    before = call("GET", f"/services/{BLOCKED}").json()
    after = call("PUT", f"/services/{BLOCKED}", {"duration": 45, "extraFields": {"area": "Barcelona"}}).json()
    assert after["duration"] == 45 and after["extraFields"] == {"area": "Barcelona"}
    assert after["name"] == before["name"] and after["createdAt"] == before["createdAt"]
    assert after["updatedAt"] > before["updatedAt"]


def test_lists_filter_and_page(call):
    services = call("GET", "/services?search=TEST%20drive&limit=1").json()
    assert services["total"] == 1 and services["items"][0]["id"] == BLOCKED and services["limit"] == 1
    assert call("GET", "/services?name=Showroom%20Visit").json()["total"] == 1
    assert call("GET", "/calendars?search=gt").json()["items"][0]["type"] == "asset"
    assert call("GET", "/calendars?type=agent").json()["total"] == 1
    cancelled = call("GET", "/appointments?state=cancelled").json()
    assert [a["title"] for a in cancelled["items"]] == ["Cancelled visit"]
    assert call("GET", "/services?limit=101").status_code == 400


@pytest.mark.parametrize(
    "change, expected",
    [
        (
            lambda o: o["services"][0].update(duration=0),
            "onlive.services[0]: duration: 0 is less than the minimum of 1",
        ),
        (
            lambda o: o["services"][1].update(
                calendars=[{"calendarId": "7d3a5e4c-1b6f-4a0d-9e8f-3f4a5b6c7d8e", "active": True, "type": "agent"}]
            ),
            "onlive.services[1]: Invalid input (body.calendars.0.calendarId: calendar not found)",
        ),
        (
            lambda o: o["appointments"][0].update(organizationId="00000000-0000-4000-8000-000000000000"),
            "onlive.appointments[0]: organizationId 00000000-0000-4000-8000-000000000000 is not defined",
        ),
        (lambda o: o["accessKeys"].append(dict(o["accessKeys"][0])), "onlive.accessKeys[2]: duplicate"),
    ],
)
def test_bad_onlive_world_fails_naming_file_and_entry(tmp_path, change, expected):
    world = yaml.safe_load(DEFAULT_WORLD.read_text())
    change(world["onlive"])
    path = tmp_path / "world.yaml"
    path.write_text(yaml.safe_dump(world))
    with pytest.raises(WorldError) as caught:
        load_world(path)
    assert str(path) in str(caught.value) and expected in str(caught.value)


def test_O6_missing_credentials_are_401_before_the_body_is_read(call):
    response = call.client.post(
        "/api/v1/services", content=b'{"x": "' + b"x" * 70_000 + b'"}', headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 401
    signed_big = call("POST", "/services", {"x": "x" * 70_000})
    assert signed_big.status_code == 400 and "exceeds" in signed_big.json()["errors"][0]["message"]
