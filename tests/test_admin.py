"""The admin API under /__admin, `Prefer: error=`, and the request journal, over HTTP against the mock."""

import json
import statistics
import time
from datetime import UTC, datetime

import pytest
import yaml

from bookingkit import signing
from bookingkit.files import DEFAULT_WORLD
from contract_tests.profile import BUNDLED_MOCK_PROFILE, load_profile
from mock_server.app import create_app

from .conftest import COURT, SERVICE, TOKENS

ADMIN = {"Authorization": "Bearer admin-secret"}
WRITE = {"Authorization": f"Bearer {TOKENS['write']}"}
BOOKINGS = f"/api/v1/external-services/{SERVICE}/court-bookings"
ONLIVE = load_profile(BUNDLED_MOCK_PROFILE).onlive_target
ADMIN_CALLS = [
    ("POST", "/reset"),
    ("PUT", "/fixtures"),
    ("GET", "/state"),
    ("PUT", "/state"),
    ("GET", "/clock"),
    ("PUT", "/clock"),
    ("GET", "/faults"),
    ("PUT", "/faults"),
    ("DELETE", "/faults"),
    ("GET", "/requests"),
    ("DELETE", "/requests"),
    ("POST", "/requests/find"),
    ("POST", "/requests/count"),
    ("POST", "/user-relations/answer"),
    ("POST", "/connect-tokens"),
]


def booking(hour: int = 10, version: str = "2031-01-01T00:00:00Z") -> dict:
    return {
        "courtId": COURT,
        "startDate": f"2031-03-01T{hour:02d}:00:00Z",
        "endDate": f"2031-03-01T{hour:02d}:30:00Z",
        "externalUpdatedAt": version,
        "participants": [{"email": "admin.test@example.com"}],
    }


@pytest.fixture
def http():
    app = create_app(validate_responses=True, admin_token="admin-secret", seed=42)
    with app.test_client() as client:
        yield client


def signed(http, method: str, path: str, body=None):
    raw = b"" if body is None else json.dumps(body).encode()
    headers = signing.sign(method, "/api/v1" + path, raw, ONLIVE.access_key_id, ONLIVE.secret_access_key).as_dict()
    return http.request(method, "/api/v1" + path, content=raw, headers={**headers, "Content-Type": "application/json"})


@pytest.mark.parametrize("method, path", ADMIN_CALLS)
@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}, WRITE], ids=["none", "wrong", "partner"])
def test_every_admin_call_needs_the_admin_token(http, method, path, headers):
    response = http.request(method, "/__admin" + path, headers=headers, json={} if method == "PUT" else None)
    assert response.status_code == 401 and response.json()["error"]["type"] == "invalid_admin_token"


def test_reset_goes_back_to_the_loaded_world(http):
    assert http.put(f"{BOOKINGS}/by-external-id/a1", json=booking(), headers=WRITE).status_code == 200
    assert http.post("/__admin/reset", headers=ADMIN).status_code == 200
    assert http.get(f"{BOOKINGS}/by-external-id/a1", headers=WRITE).status_code == 404
    assert http.get(f"{BOOKINGS}/by-external-id/demo-seed-1", headers=WRITE).status_code == 200


def test_fixtures_load_another_world_and_a_bad_one_changes_nothing(http):
    world = yaml.safe_load(DEFAULT_WORLD.read_text())
    world["courts"][0]["name"] = "Renamed by the test"
    world["courtBookings"] = []
    assert http.put("/__admin/fixtures", json=world, headers=ADMIN).status_code == 200
    assert http.get(f"/api/v1/courts/{COURT}", headers=WRITE).json()["name"] == "Renamed by the test"
    assert http.get(f"{BOOKINGS}/by-external-id/demo-seed-1", headers=WRITE).status_code == 404
    http.put(f"{BOOKINGS}/by-external-id/a1", json=booking(), headers=WRITE)
    world["courts"][1]["facilityId"] = "00000000-0000-4000-8000-000000000000"
    refused = http.put("/__admin/fixtures", json=world, headers=ADMIN)
    assert refused.status_code == 400 and "courts[1]: facilityId" in refused.json()["error"]["message"]
    assert http.get(f"{BOOKINGS}/by-external-id/a1", headers=WRITE).status_code == 200  # the state stayed
    http.post("/__admin/reset", headers=ADMIN)  # back to the world loaded last: the renamed one
    assert http.get(f"/api/v1/courts/{COURT}", headers=WRITE).json()["name"] == "Renamed by the test"


TRICKY = {"meta": {"@instant": "2020-01-01T00:00:00"}, "@type": "Tombstone", "@dict": 1}  # the codec's own keys
SERVICE_BODY = {"duration": 30, "timeBetween": 0, "minTimeToSchedule": 0, "maxTimeToSchedule": 9, "incrementTime": 15}


def every_read(http) -> dict[str, object]:
    reads = [
        f"{BOOKINGS}?limit=100",
        f"{BOOKINGS}/by-external-id/a1",
        f"{BOOKINGS}/by-external-id/a2",
        f"/api/v1/courts/{COURT}",
        f"/api/v1/external-services/{SERVICE}/court-mappings",
        "/api/v1/facilities/5f9c1d7e-2b4a-4c1e-9d3f-8a6b7c5d4e3f/courts",
    ]
    answers = {path: http.get(path, headers=WRITE).json() for path in reads}
    for path in ("/services?limit=100", "/appointments?limit=100", "/calendars?limit=100"):
        answers[path] = signed(http, "GET", path).json()
    return answers


def test_export_then_import_gives_the_same_answers_to_every_read(http):
    http.put(f"{BOOKINGS}/by-external-id/a1", json=booking(10), headers=WRITE)
    http.put(f"{BOOKINGS}/by-external-id/a2", json=booking(12), headers=WRITE)
    http.delete(f"{BOOKINGS}/by-external-id/a2", params={"externalUpdatedAt": "2031-02-01T00:00:00Z"}, headers=WRITE)
    service = signed(
        http,
        "POST",
        "/services",
        {
            "name": "Exported",
            "duration": 30,
            "timeBetween": 0,
            "minTimeToSchedule": 0,
            "maxTimeToSchedule": 9,
            "incrementTime": 15,
            "extraFields": TRICKY,
        },
    )
    kept = signed(http, "POST", "/services", {**SERVICE_BODY, "name": "Kept", "extraFields": TRICKY})
    signed(http, "DELETE", f"/booking-services/{service.json()['id']}")
    before, exported = every_read(http), http.get("/__admin/state", headers=ADMIN).json()
    http.post("/__admin/reset", headers=ADMIN)
    assert every_read(http) != before
    assert http.put("/__admin/state", json=json.loads(json.dumps(exported)), headers=ADMIN).status_code == 200
    assert every_read(http) == before
    # The tombstone came back too: a late upsert of the deleted booking is still stale (B21).
    late = http.put(f"{BOOKINGS}/by-external-id/a2", json=booking(12), headers=WRITE)
    assert late.status_code == 409 and late.json()["error"]["type"] == "stale_write"
    assert (
        http.put(
            "/__admin/state", json={"format": "bookingkit-state/1", "wingfield": {}, "onlive": {}}, headers=ADMIN
        ).status_code
        == 400
    )
    assert every_read(http)[f"{BOOKINGS}/by-external-id/a1"] == before[f"{BOOKINGS}/by-external-id/a1"]
    assert signed(http, "GET", f"/services/{kept.json()['id']}").json()["extraFields"] == TRICKY


def test_clock_freeze_shift_run_reset(http):
    frozen = http.put("/__admin/clock", json={"freezeAt": "2030-05-01T12:00:00Z"}, headers=ADMIN).json()
    assert frozen == {"now": "2030-05-01T12:00:00Z", "frozen": True, "offsetSeconds": frozen["offsetSeconds"]}
    created = http.put(f"{BOOKINGS}/by-external-id/a1", json=booking(), headers=WRITE).json()
    assert created["createdAt"] == "2030-05-01T12:00:00Z"
    assert http.put("/__admin/clock", json={"shiftSeconds": 90}, headers=ADMIN).json()["now"] == "2030-05-01T12:01:30Z"
    running = http.put("/__admin/clock", json={"run": True}, headers=ADMIN).json()
    assert running["frozen"] is False and running["now"].startswith("2030-05-01T12:01:3")
    real = http.put("/__admin/clock", json={"reset": True}, headers=ADMIN).json()
    assert real["offsetSeconds"] == 0 and real["now"].startswith(str(datetime.now(UTC).year))
    assert http.put("/__admin/clock", json={"run": True, "reset": True}, headers=ADMIN).status_code == 400


def test_frozen_clock_drives_signed_windows_and_active_appointments(http):
    http.put("/__admin/clock", json={"freezeAt": "2099-03-12T10:30:00Z"}, headers=ADMIN)
    late = signing.sign("GET", "/api/v1/services", b"", ONLIVE.access_key_id, ONLIVE.secret_access_key)
    assert http.get("/api/v1/services", headers=late.as_dict()).status_code == 401  # signed at real time: too far
    stamp = datetime(2099, 3, 12, 10, 30, tzinfo=UTC)
    headers = signing.sign(
        "DELETE",
        "/api/v1/booking-services/1610c525-f19a-40d0-8cd1-03daba3d2d98",
        b"",
        ONLIVE.access_key_id,
        ONLIVE.secret_access_key,
        now=stamp,
    ).as_dict()
    response = http.delete("/api/v1/booking-services/1610c525-f19a-40d0-8cd1-03daba3d2d98", headers=headers)
    assert response.status_code == 200  # its appointment ended at 10:30, by the mock's clock


def test_latency_is_seen_by_a_client_as_configured(http):
    rules = {
        "getCourtById": {"latency": {"distribution": "fixed", "ms": 40}},
        "listCourtBookings": {"latency": {"distribution": "uniform", "minMs": 10, "maxMs": 30}},
        "listCourtMappings": {"latency": {"distribution": "lognormal", "mu": 3.4, "sigma": 0.25}},  # median ~30 ms
    }
    assert http.put("/__admin/faults", json=rules, headers=ADMIN).status_code == 200

    def timings(path: str, count: int) -> list[float]:
        samples = []
        for _ in range(count):
            began = time.perf_counter()
            assert http.get(path, headers=WRITE).status_code == 200
            samples.append((time.perf_counter() - began) * 1000)
        return samples

    fixed = timings(f"/api/v1/courts/{COURT}", 15)
    assert min(fixed) >= 40 and statistics.median(fixed) < 40 + 60
    uniform = timings(BOOKINGS, 30)
    assert min(uniform) >= 10 and 15 <= statistics.median(uniform) <= 30 + 40
    lognormal = timings(f"/api/v1/external-services/{SERVICE}/court-mappings", 30)
    assert 22 <= statistics.median(lognormal) <= 30 + 40 and max(lognormal) > min(lognormal) + 5
    http.delete("/__admin/faults", headers=ADMIN)
    assert statistics.median(timings(f"/api/v1/courts/{COURT}", 10)) < 40


def error_sequence(http, count: int) -> list[int]:
    return [http.get(f"/api/v1/courts/{COURT}", headers=WRITE).status_code for _ in range(count)]


def test_errors_are_injected_at_the_configured_rate_and_repeat_with_the_seed(http):
    rules = {"getCourtById": {"error": {"type": "court_not_found", "probability": 0.3}}}
    http.put("/__admin/faults", json=rules, headers=ADMIN)
    statuses = error_sequence(http, 400)
    assert set(statuses) == {200, 404}
    assert 0.22 <= statuses.count(404) / len(statuses) <= 0.38
    again = create_app(admin_token="admin-secret", seed=42)
    with again.test_client() as other:
        other.put("/__admin/faults", json=rules, headers=ADMIN)
        assert error_sequence(other, 400) == statuses  # same seed, same run


def test_5xx_faults_on_every_operation_and_a_bad_rule_changes_nothing(http):
    http.put("/__admin/faults", json={"*": {"error": {"status": 503}}}, headers=ADMIN)
    response = http.get(f"/api/v1/courts/{COURT}", headers=WRITE)
    assert response.status_code == 503 and response.json()["error"]["type"] == "internal_error"
    onlive = signed(http, "GET", "/calendars")
    assert onlive.status_code == 503 and onlive.json()["statusCode"] == 503
    for bad in (
        {"noSuchOperation": {"error": {"status": 500}}},
        {"getCourtById": {"error": {"type": "stale_write"}}},
        {"getCourtById": {"latency": {"distribution": "fixed", "ms": -1}}},
    ):
        assert http.put("/__admin/faults", json=bad, headers=ADMIN).status_code == 400
    assert http.get("/__admin/faults", headers=ADMIN).json() == {"*": {"error": {"status": 503}}}
    assert http.delete("/__admin/faults", headers=ADMIN).json() == {}
    assert http.get(f"/api/v1/courts/{COURT}", headers=WRITE).status_code == 200


def test_prefer_answers_a_documented_error_without_changing_state(http):
    forced = http.put(f"{BOOKINGS}/by-external-id/p1", json=booking(), headers={**WRITE, "Prefer": "error=stale_write"})
    assert forced.status_code == 409 and forced.json()["error"]["type"] == "stale_write"
    assert http.get(f"{BOOKINGS}/by-external-id/p1", headers=WRITE).status_code == 404
    refused = http.get(f"/api/v1/courts/{COURT}", headers={**WRITE, "Prefer": "error=stale_write"})
    assert refused.status_code == 400
    assert "court_not_found" in refused.json()["error"]["issues"][0]["message"]
    onlive = http.get(
        "/api/v1/services/1610c525-f19a-40d0-8cd1-03daba3d2d98",
        headers={
            **signing.sign(
                "GET",
                "/api/v1/services/1610c525-f19a-40d0-8cd1-03daba3d2d98",
                b"",
                ONLIVE.access_key_id,
                ONLIVE.secret_access_key,
            ).as_dict(),
            "Prefer": "error=service_not_found",
        },
    )
    assert onlive.json() == {"statusCode": 404, "message": "Service not found"}


def test_request_journal_lists_the_last_requests_and_clears(http):
    http.get(f"/api/v1/courts/{COURT}", headers=WRITE)
    http.get("/api/v1/courts/00000000-0000-4000-8000-000000000000", headers=WRITE)
    entries = http.get("/__admin/requests?limit=2", headers=ADMIN).json()["items"]
    assert [(e["operationId"], e["status"], e["errorType"]) for e in entries] == [
        ("getCourtById", 404, "court_not_found"),
        ("getCourtById", 200, None),
    ]
    assert entries[0]["method"] == "GET" and entries[0]["durationMs"] >= 0
    assert http.delete("/__admin/requests", headers=ADMIN).status_code == 200
    assert http.get("/__admin/requests", headers=ADMIN).json()["items"] == []


@pytest.mark.parametrize(
    "body",
    [{"freezeAt": "0001-01-01T00:00:00+01:00"}, {"freezeAt": "9999-12-31T23:59:59Z"}, {"shiftSeconds": -3153600000}],
)
def test_clock_out_of_range_is_400_not_500(http, body):
    response = http.put("/__admin/clock", json=body, headers=ADMIN)
    assert response.status_code == 400 and response.json()["error"]["type"] == "invalid_schema"
    assert http.get("/__admin/clock", headers=ADMIN).json()["frozen"] is False  # nothing changed


BEN, FINN = "6d7e8f90-1a2b-4c3d-9e4f-5a6b7c8d9e0f", "5e6f7a8b-9c0d-4e1f-8a2b-3c4d5e6f7a8b"
HILLSIDE = "7c1e4b2a-9d3f-4e8a-b5c6-0d1e2f3a4b5c"


def test_R8_a_pending_relation_is_answered_through_the_admin_api(http):
    relation = f"/api/v1/external-services/{SERVICE}/users/{BEN}/relation"
    assert http.get(f"/api/v1/users/{BEN}", headers=WRITE).status_code == 403  # PENDING: not visible
    answer = {"externalServiceId": SERVICE, "userId": BEN, "status": "ACCEPTED"}
    response = http.post("/__admin/user-relations/answer", json=answer, headers=ADMIN)
    assert response.status_code == 200 and response.json()["status"] == "ACCEPTED"
    assert http.get(relation, headers=WRITE).json()["user"]["id"] == BEN
    assert http.get(f"/api/v1/users/{BEN}", headers=WRITE).status_code == 200
    refused = http.post("/__admin/user-relations/answer", json={**answer, "userId": FINN}, headers=ADMIN)
    assert refused.status_code == 400 and "user_relation_not_found" in refused.text  # no relation to answer


def test_G1_connect_tokens_are_issued_through_the_admin_api(http):
    claim = f"/api/v1/external-services/{SERVICE}/organization-relations/claim"
    issued = http.post("/__admin/connect-tokens", json={"organizationId": HILLSIDE}, headers=ADMIN).json()
    assert issued["state"] == "OPEN" and len(issued["connectToken"]) == 35
    expired = http.post(
        "/__admin/connect-tokens",
        json={"organizationId": HILLSIDE, "expiresAt": "2020-01-01T00:00:00Z"},
        headers=ADMIN,
    ).json()
    body = {"connectToken": expired["connectToken"], "externalOrganizationId": "hill"}
    assert http.post(claim, json=body, headers=WRITE).status_code == 410
    body = {"connectToken": issued["connectToken"], "externalOrganizationId": "hill"}
    assert http.post(claim, json=body, headers=WRITE).status_code == 200
    unknown = {"organizationId": "00000000-0000-4000-8000-000000000000"}
    response = http.post("/__admin/connect-tokens", json=unknown, headers=ADMIN)
    assert response.status_code == 400 and "organization_not_found" in response.text
