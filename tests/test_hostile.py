"""Hostile input, slow clients and long runs (A6): never a 5xx, always the API's envelope, no change of state,
no stall of other requests, bounded memory, a clean stop. The limits are in mock_server/limits.py."""

import json
import logging
import socket
import subprocess
import sys
import threading
import time

import httpx
import pytest

from bookingkit import signing
from mock_server.app import create_app
from mock_server.control.journal import BODY_KEEP, CLIP, HEADERS_KEEP
from mock_server.limits import MAX_DEPTH, MAX_QUERY_PARAMETERS, MAX_TARGET_BYTES

from .conftest import COURT, SERVICE, TARGET, TOKENS
from .test_admin import ONLIVE

WRITE = {"Authorization": f"Bearer {TOKENS['write']}"}
ADMIN = {"Authorization": "Bearer admin"}
BOOKING = f"/api/v1/external-services/{SERVICE}/court-bookings/by-external-id/hostile"
BOOKINGS = f"/api/v1/external-services/{SERVICE}/court-bookings"
VALID_BOOKING = {
    "courtId": COURT,
    "startDate": "2091-01-01T10:00:00Z",
    "endDate": "2091-01-01T11:00:00Z",
    "externalUpdatedAt": "2031-01-01T00:00:00Z",
    "participants": [{"email": "h@example.com"}],
}
SERVICE_BODY = {
    "name": "Hostile",
    "duration": 30,
    "timeBetween": 0,
    "minTimeToSchedule": 0,
    "maxTimeToSchedule": 9,
    "incrementTime": 15,
}


@pytest.fixture(scope="module")
def app():
    return create_app(admin_token="admin", validate_responses=True)


@pytest.fixture
def http(app):
    app.mock.reset()
    with app.test_client(base_url="http://testserver") as client:
        yield client


def state(app) -> str:
    return json.dumps(app.mock.export_document(), sort_keys=True)


def signed_headers(method: str, path: str, body: bytes) -> dict[str, str]:
    url = f"http://testserver/api/v1{path}"
    return signing.sign(method, url, body, ONLIVE.access_key_id, ONLIVE.secret_access_key).as_dict()


def envelope_4xx(response: httpx.Response, api: str = "wingfield") -> None:
    assert 400 <= response.status_code < 500, (response.status_code, response.text[:300])
    body = response.json()
    if api == "wingfield":
        assert isinstance(body["error"]["type"], str) and isinstance(body["error"]["message"], str)
    else:
        assert body["statusCode"] == response.status_code and isinstance(body["message"], str)


# Every operation with a JSON body, partner and admin: (method, path, a valid body, api).
BODY_OPERATIONS = [
    ("PUT", BOOKING, VALID_BOOKING, "wingfield"),
    (
        "PUT",
        f"/api/v1/external-services/{SERVICE}/courts/{TARGET.scratch_court}/mapping",
        {"externalCourtId": "H"},
        "wingfield",
    ),
    ("POST", "/api/v1/services", SERVICE_BODY, "onlive"),
    ("PUT", "/api/v1/services/1610c525-f19a-40d0-8cd1-03daba3d2d98", {"duration": 45}, "onlive"),
    (
        "POST",
        "/api/v1/appointments",
        {"start": "2091-01-01T10:00:00Z", "end": "2091-01-01T10:30:00Z", "calendarIds": [ONLIVE.calendar_id]},
        "onlive",
    ),
    ("PUT", "/api/v1/appointments/7c9e6679-7425-40de-944b-e07fc1f90ae7", {"state": "cancelled"}, "onlive"),
    ("PUT", "/__admin/clock", {"freeze": True}, "wingfield"),
    ("PUT", "/__admin/faults", {}, "wingfield"),
    ("PUT", "/__admin/fixtures", {}, "wingfield"),
    ("PUT", "/__admin/state", {"format": "bookingkit-world/1"}, "wingfield"),
]
WRONG_BODIES = {
    "no Content-Type, not JSON": (b"courtId=1", None),
    "text/plain": (b'{"a": 1}', "text/plain"),
    "form": (b"a=1&b=2", "application/x-www-form-urlencoded"),
    "not JSON": (b"{nope", "application/json"),
    "NaN": (b'{"a": NaN}', "application/json"),
    "Infinity": (b'{"a": [Infinity, -Infinity]}', "application/json"),
    "empty": (b"", "application/json"),
}


def send(http, method, path, raw: bytes, content_type: str | None, api: str) -> httpx.Response:
    headers = dict(ADMIN if path.startswith("/__admin") else WRITE)
    if api == "onlive":
        headers = signed_headers(method, path.removeprefix("/api/v1"), raw)
    if content_type:
        headers["Content-Type"] = content_type
    return http.request(method, path, content=raw, headers=headers)


@pytest.mark.parametrize("case", WRONG_BODIES)
@pytest.mark.parametrize("method, path, valid, api", BODY_OPERATIONS, ids=[f"{m} {p}" for m, p, *_ in BODY_OPERATIONS])
def test_every_body_operation_refuses_a_body_it_cannot_read(app, http, method, path, valid, api, case):
    raw, content_type = WRONG_BODIES[case]
    before = state(app)
    envelope_4xx(send(http, method, path, raw, content_type, api), api)
    assert state(app) == before


@pytest.mark.parametrize("method, path, valid, api", BODY_OPERATIONS[:6], ids=[p for _, p, *_ in BODY_OPERATIONS[:6]])
def test_valid_json_without_a_content_type_is_read_as_json(http, method, path, valid, api):
    """Documented choice: with no Content-Type the body is taken as the operation's JSON."""
    response = send(http, method, path, json.dumps(valid).encode(), None, api)
    assert response.status_code < 400, response.text


@pytest.mark.parametrize("value", ["9223372036854775807", "9223372036854775808", str(10**30)])
def test_huge_offsets_are_an_empty_page(http, value):
    response = http.get(BOOKINGS, params={"offset": value}, headers=WRITE)
    assert response.status_code == 200 and response.json()["items"] == [], response.text
    assert response.json()["totalCount"] >= 1


@pytest.mark.parametrize("query", ["limit=" + str(10**30), "limit=-" + str(10**30), "offset=-" + str(10**30)])
def test_huge_integers_beyond_a_bound_are_invalid_schema(http, query):
    response = http.get(f"{BOOKINGS}?{query}", headers=WRITE)
    envelope_4xx(response)
    assert response.json()["error"]["type"] == "invalid_schema"


@pytest.mark.parametrize("query", ["page=" + str(10**30), "limit=" + str(10**30), "page=-" + str(10**30)])
def test_huge_onlive_integers_are_a_validation_error(http, query):
    headers = signed_headers("GET", f"/services?{query}", b"")
    envelope_4xx(http.get(f"/api/v1/services?{query}", headers=headers), "onlive")


def test_non_finite_numbers_are_refused_and_answers_are_strict_json(app, http):
    before = state(app)
    for body in (b'{"shiftSeconds": NaN}', b'{"shiftSeconds": Infinity}', b'{"shiftSeconds": 1e999}'):
        envelope_4xx(http.put("/__admin/clock", content=body, headers={**ADMIN, "Content-Type": "application/json"}))
    raw = json.dumps({**SERVICE_BODY, "extraFields": {"x": 1}}).replace("1}", "NaN}").encode()
    envelope_4xx(send(http, "POST", "/api/v1/services", raw, "application/json", "onlive"), "onlive")
    assert state(app) == before
    for path in ("/__admin/state", "/__admin/clock"):
        json.loads(http.get(path, headers=ADMIN).text, parse_constant=pytest.fail)


def nested(depth: int) -> dict:
    value: dict = {}
    for _ in range(depth - 1):
        value = {"a": value}
    return value


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 480, 100_000])
def test_deep_nesting_is_refused_and_the_export_still_works(app, http, depth):
    extra = nested(depth) if depth < 1000 else None
    raw = (
        json.dumps({**SERVICE_BODY, "extraFields": extra})
        if extra is not None
        else '{"name": "x", "extraFields": ' + '{"a": ' * depth + "1" + "}" * depth + "}"
    ).encode()
    before = state(app)
    envelope_4xx(send(http, "POST", "/api/v1/services", raw, "application/json", "onlive"), "onlive")
    assert state(app) == before
    assert http.get("/__admin/state", headers=ADMIN).status_code == 200


def test_nesting_within_the_limit_is_kept(http):
    body = {**SERVICE_BODY, "extraFields": nested(MAX_DEPTH - 2)}
    response = send(http, "POST", "/api/v1/services", json.dumps(body).encode(), "application/json", "onlive")
    assert response.status_code == 201, response.text
    assert http.get("/__admin/state", headers=ADMIN).status_code == 200


def test_too_many_query_parameters_are_refused_at_once(http):
    query = "&".join(f"p{n}=1" for n in range(11_000))[: MAX_TARGET_BYTES * 4]
    began = time.perf_counter()
    response = http.get(f"{BOOKINGS}?{query}", headers=WRITE)
    envelope_4xx(response)
    assert time.perf_counter() - began < 0.5
    few = "&".join(f"p{n}=1" for n in range(MAX_QUERY_PARAMETERS + 1))
    envelope_4xx(http.get(f"{BOOKINGS}?{few}", headers=WRITE))
    onlive = http.get(f"/api/v1/services?{few}", headers=signed_headers("GET", f"/services?{few}", b""))
    envelope_4xx(onlive, "onlive")


def test_long_urls_and_headers_are_refused(http):
    envelope_4xx(http.get(f"/api/v1/courts/{'x' * (MAX_TARGET_BYTES + 1)}", headers=WRITE))
    envelope_4xx(http.get(f"/api/v1/courts/{COURT}", headers={**WRITE, "X-Big": "y" * 20_000}))


def test_every_5xx_logs_its_traceback(app, caplog, monkeypatch):
    handlers = app.mock.handlers[0]

    async def broken(*args, **kwargs):
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(handlers.courts, "get", lambda *a: 1 / 0)
    with app.test_client(base_url="http://testserver") as client, caplog.at_level(logging.ERROR):
        response = client.get(f"/api/v1/courts/{COURT}", headers=WRITE)
    assert response.status_code == 500
    assert "Traceback" in caplog.text and "ZeroDivisionError" in caplog.text


def test_two_resets_give_byte_identical_answers(app, http):
    http.put(BOOKING, json=VALID_BOOKING, headers=WRITE)
    reads = ["/__admin/state", f"{BOOKINGS}?limit=100", f"{BOOKINGS}/by-external-id/demo-seed-1"]

    def answers() -> list[bytes]:
        return [http.get(path, headers=ADMIN if path.startswith("/__admin") else WRITE).content for path in reads]

    http.post("/__admin/reset", headers=ADMIN)
    first = answers()
    time.sleep(0.01)
    http.post("/__admin/reset", headers=ADMIN)
    assert answers() == first


def test_memory_stays_bounded_under_reversioning_and_long_queries(app, http):
    store = app.mock.store
    for version in range(300):  # a new participant e-mail each time: each old index entry must go
        body = {
            **VALID_BOOKING,
            "externalUpdatedAt": f"2031-01-01T00:{version // 60:02d}:{version % 60:02d}Z",
            "participants": [{"email": f"v{version}@example.com"}],
        }
        assert http.put(BOOKING, json=body, headers=WRITE).status_code == 200
    participant_lists = [key for key in store._lists if key[1:2] == ("participant",)]
    assert len(participant_lists) <= 10, len(participant_lists)
    long_query = "courtId=" + COURT + "&participantEmail=" + "a" * 6000 + "@x.io"
    for _ in range(50):
        http.get(f"{BOOKINGS}?{long_query}", headers=WRITE)
    entries = app.mock.backend.journal_last(1000)
    for entry in entries:  # every part of an entry bounded in bytes, the body too (base64 when not UTF-8)
        assert len(entry["path"]) + len(entry["query"]) < 2 * CLIP + 100
        assert sum(len(name) + len(value) for name, value in entry["headers"].items()) <= HEADERS_KEEP
        assert len((entry["body"] or "").encode()) <= BODY_KEEP * 4 // 3 + 4
    assert "more characters]" in entries[0]["query"]


# -- over a real socket: slow clients, stalls, the stop -------------------------------------------


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    log = tmp_path_factory.mktemp("hostile") / "mock.log"
    handle = log.open("w")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bookingkit.cli",
            "mock",
            "--port",
            str(port),
            "--admin-token",
            "admin",
            "--log-level",
            "warning",
        ],
        stdout=handle,
        stderr=subprocess.STDOUT,
    )
    for _ in range(300):
        try:
            httpx.get(f"http://127.0.0.1:{port}/api/v1/openapi.json", timeout=1).raise_for_status()
            break
        except httpx.HTTPError:
            time.sleep(0.1)
    yield port, process
    if process.poll() is None:
        process.kill()
        process.wait()
    handle.close()


def test_a_huge_query_does_not_stall_other_requests(server):
    port, _ = server
    query = "&".join(f"p{n}=1" for n in range(11_000))
    stalls = []

    def hammer() -> None:  # a raw socket: clients refuse to send such a URL, hostile ones do not
        for _ in range(50):
            with socket.create_connection(("127.0.0.1", port)) as raw:
                raw.sendall(f"GET {BOOKINGS}?{query} HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n".encode())
                raw.settimeout(10)
                while raw.recv(65536):
                    pass

    thread = threading.Thread(target=hammer)
    thread.start()
    with httpx.Client(base_url=f"http://127.0.0.1:{port}") as client:
        while thread.is_alive() or len(stalls) < 5:
            began = time.perf_counter()
            client.get(f"/api/v1/courts/{COURT}", headers=WRITE)
            stalls.append(time.perf_counter() - began)
    thread.join()
    assert max(stalls) < 0.1, max(stalls)


def test_partial_requests_are_closed_and_sigterm_exits_zero(server):
    port, process = server
    headers_only = socket.create_connection(("127.0.0.1", port))
    headers_only.sendall(b"GET /api/v1/courts/x HTTP/1.1\r\nHost: a\r\n")
    half_body = socket.create_connection(("127.0.0.1", port))
    half_body.sendall(
        f"PUT {BOOKING} HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer {TOKENS['write']}\r\n"
        'Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"courtId"'.encode()
    )
    began = time.monotonic()
    for connection in (headers_only, half_body):
        connection.settimeout(30)
        answer = connection.recv(200)
        assert answer == b"" or answer.startswith(b"HTTP/1.1 400"), answer
    assert time.monotonic() - began < 16
    still_partial = socket.create_connection(("127.0.0.1", port))
    still_partial.sendall(b"GET /api/v1/courts/x HTTP/1.1\r\nHost: a\r\n")
    began = time.monotonic()
    process.terminate()
    assert process.wait(timeout=15) == 0
    assert time.monotonic() - began < 11
    for connection in (headers_only, half_body, still_partial):
        connection.close()
