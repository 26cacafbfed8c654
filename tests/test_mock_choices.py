"""The mock's own choices where decisions.md ("Implementation freedom", P1-P6) leaves implementations free.

The contract suite asserts only documented rules and decisions, so a real implementation may answer these
cases differently; the mock's answers are pinned here instead, exactly (status, envelope, issue, header):

- P1: a body over 64 KiB (`validation.MAX_BODY_BYTES`) is 400 `invalid_schema` naming the body, stores nothing;
- P2: an unknown query parameter is 400 `invalid_schema` naming it;
- P3: a wrong ONLIVE signature's 401 carries the mock's `canonicalRequest`, no other 401 does;
- P4: the list orders the mock chose (court mappings, facility courts, ONLIVE services, appointments, calendars);
- P6: a wrong method is 405 with the path's exact `Allow` and the path's API envelope, before authentication.
"""

import copy
import hashlib
import json
from typing import Any

import anyio
import httpx
import pytest
import yaml

from bookingkit import signing
from bookingkit.files import DEFAULT_WORLD, SPEC_PATH
from contract_tests.profile import BUNDLED_MOCK_PROFILE, load_profile
from mock_server.app import create_app
from mock_server.spec import VERBS
from mock_server.validation import MAX_BODY_BYTES

from .conftest import COURT, COURT_2, SERVICE, TOKENS, check_error_contract

ONLIVE = load_profile(BUNDLED_MOCK_PROFILE).onlive_target
DEMO_KEY = (ONLIVE.access_key_id, ONLIVE.secret_access_key)
BASE = "/api/v1"
COURT_3 = "1a2b3c4d-5e6f-4a1b-8c2d-3e4f5a6b7c8d"  # Riverside, unmapped in the default world
FACILITY = "5f9c1d7e-2b4a-4c1e-9d3f-8a6b7c5d4e3f"  # Riverside Center
DEMO_ORG = "a3c1e5f7-2b4d-4f6a-8c9e-0d1f2a3b4c5d"  # Demo Motors, the organization of ONLIVE's demo key
DEMO_SERVICES = ["1610c525-f19a-40d0-8cd1-03daba3d2d98", "2721d636-0a2b-41e1-9de2-14ebcb5e3ea9"]
DEFAULT_DOCUMENT = yaml.safe_load(DEFAULT_WORLD.read_text(encoding="utf-8"))
UNAUTHORIZED = {"statusCode": 401, "message": "Invalid or missing authorization credentials"}
TOO_BIG = f"the body exceeds {MAX_BODY_BYTES} bytes"


@pytest.fixture(scope="module")
def shared_app():
    """One app per module (building one costs more than a test's requests); each test loads a fresh world."""
    return create_app(validate_responses=True)


@pytest.fixture
def app(shared_app):
    """Overrides conftest's `app`: the shared app, put back to the default world before each test."""
    shared_app.mock.load_world_document(copy.deepcopy(DEFAULT_DOCUMENT))
    return shared_app


def onlive(client: httpx.Client, app, method: str, target: str, body: Any = None, **options: Any) -> httpx.Response:
    """An ONLIVE request signed with the demo key at the mock's time; `content` sends raw bytes as they are,
    `signed_content` signs other bytes than those sent, `headers` override the signed ones."""
    content = options.get("content", b"" if body is None else json.dumps(body).encode())
    signed_over = options.get("signed_content", content)
    signed = signing.sign(method, BASE + target, signed_over, *options.get("key", DEMO_KEY), now=app.mock.clock.now())
    headers = {**signed.as_dict(), "Content-Type": "application/json", **options.get("headers", {})}
    return client.request(method, target, content=content, headers=headers)


def wingfield_error(kind: str, message: str, issues: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    error: dict[str, Any] = {"type": kind, "message": message}
    if issues is not None:
        error["issues"] = issues
    return {"error": error}


def onlive_invalid(*fields: tuple[str, str]) -> dict[str, Any]:
    return {
        "statusCode": 400,
        "message": "Invalid input",
        "errors": [{"field": field, "message": message} for field, message in fields],
    }


def padded(body: Any, size: int) -> bytes:
    """`body` as JSON followed by spaces up to exactly `size` bytes: still the same valid document."""
    raw = json.dumps(body).encode()
    assert len(raw) <= size
    return raw + b" " * (size - len(raw))


def asgi_request(
    app, method: str, path: str, headers: dict[str, str], chunks: list[bytes]
) -> tuple[httpx.Response, int]:
    """A request straight to the ASGI app, its body in `chunks` (one `http.request` message each), and how many
    of them the app read. The test client joins a streamed body into one message; this one does not."""
    sent: list[dict[str, Any]] = []
    read = 0

    async def receive() -> dict[str, Any]:
        nonlocal read
        if read == len(chunks):
            return {"type": "http.disconnect"}
        read += 1
        return {"type": "http.request", "body": chunks[read - 1], "more_body": read < len(chunks)}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver"), *((k.lower().encode(), v.encode()) for k, v in headers.items())],
        "client": ("testclient", 50000),
        "server": ("testserver", 80),
        "extensions": {},
    }
    anyio.run(app, scope, receive, send)
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    response = httpx.Response(
        start["status"],
        headers=start["headers"],
        content=body,
        request=httpx.Request(method, "http://testserver" + path),
    )
    check_error_contract(response)
    return response, read


# -- P1: the body size limit -----------------------------------------------------------------------

WINGFIELD_TOO_BIG = wingfield_error(
    "invalid_schema", "request validation failed", [{"path": ["body"], "message": TOO_BIG}]
)
ONLIVE_TOO_BIG = onlive_invalid(("body", TOO_BIG))
SERVICE_BODY = {
    "name": "Sized",
    "duration": 30,
    "timeBetween": 0,
    "minTimeToSchedule": 0,
    "maxTimeToSchedule": 1,
    "incrementTime": 30,
}


def test_P1_limit_is_64_kib():
    assert MAX_BODY_BYTES == 65536


def stored_services(client, app) -> list[str]:
    response = onlive(client, app, "GET", "/services?limit=100")
    assert response.status_code == 200
    return [s["id"] for s in response.json()["items"]]


def test_P1_wingfield_upsert_of_exactly_64_kib_is_accepted_one_byte_more_is_400(api):
    """Declared Content-Length: 65536 bytes are stored; 65537 are refused for their size and store nothing."""
    path = api.booking_path(api.scenario.id("exact"))
    exact = api.call("PUT", path, content=padded(api.body(), 65536), headers={"Content-Type": "application/json"})
    assert exact.request.headers["content-length"] == "65536"
    assert exact.status_code == 200, exact.text
    assert api.get(api.scenario.id("exact")).status_code == 200

    over = api.call(
        "PUT",
        path.replace("exact", "over"),
        content=padded(api.body(), 65537),
        headers={"Content-Type": "application/json"},
    )
    assert over.request.headers["content-length"] == "65537"
    assert over.status_code == 400 and over.json() == WINGFIELD_TOO_BIG
    missing = api.get(api.scenario.id("over"))
    assert missing.status_code == 404 and missing.json()["error"]["type"] == "court_booking_not_found"


def test_P1_wingfield_limit_counts_bytes_not_characters(api):
    """32 769 two-byte characters: fewer than 65536 characters, more than 65536 bytes."""
    body = json.dumps({**api.body(), "courtName": "é" * 32769}, ensure_ascii=False).encode()
    assert len(body.decode()) < MAX_BODY_BYTES < len(body)
    response = api.call(
        "PUT", api.booking_path(api.scenario.id()), content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400 and response.json() == WINGFIELD_TOO_BIG  # the size issue alone
    assert api.get(api.scenario.id()).status_code == 404


def test_P1_wingfield_upsert_streamed_without_content_length_is_400(api):
    def stream():
        yield padded(api.body(), 65537)

    response = api.call(
        "PUT", api.booking_path(api.scenario.id()), content=stream(), headers={"Content-Type": "application/json"}
    )
    assert "content-length" not in response.request.headers  # chunked: the mock has to count
    assert response.status_code == 400 and response.json() == WINGFIELD_TOO_BIG
    assert api.get(api.scenario.id()).status_code == 404


def test_P1_wingfield_stream_is_refused_as_soon_as_it_passes_the_limit(app, api):
    """Ten 16 KiB messages without Content-Length: the fifth passes 64 KiB, the other five are never read."""
    chunks = [b" " * 16384] * 10
    headers = {"Authorization": f"Bearer {TOKENS['write']}", "Content-Type": "application/json"}
    response, read = asgi_request(app, "PUT", BASE + api.booking_path(api.scenario.id()), headers, chunks)
    assert response.status_code == 400 and response.json() == WINGFIELD_TOO_BIG
    assert read == 5
    assert api.get(api.scenario.id()).status_code == 404


def test_P1_wingfield_declared_content_length_over_the_limit_is_refused_unread(app, api):
    """The declaration alone decides: the (small, valid) body is not even read."""
    body = json.dumps(api.body()).encode()
    headers = {
        "Authorization": f"Bearer {TOKENS['write']}",
        "Content-Type": "application/json",
        "Content-Length": str(MAX_BODY_BYTES + 1),
    }
    response, read = asgi_request(app, "PUT", BASE + api.booking_path(api.scenario.id()), headers, [body])
    assert response.status_code == 400 and response.json() == WINGFIELD_TOO_BIG
    assert read == 0
    assert api.get(api.scenario.id()).status_code == 404


def test_P1_onlive_create_of_exactly_64_kib_is_accepted_one_byte_more_is_400(client, app):
    before = stored_services(client, app)
    over = onlive(client, app, "POST", "/services", content=padded(SERVICE_BODY, 65537))
    assert over.request.headers["content-length"] == "65537"
    assert over.status_code == 400 and over.json() == ONLIVE_TOO_BIG
    assert stored_services(client, app) == before

    exact = onlive(client, app, "POST", "/services", content=padded(SERVICE_BODY, 65536))
    assert exact.status_code == 201, exact.text
    assert stored_services(client, app) == [*before, exact.json()["id"]]


def test_P1_onlive_create_streamed_without_content_length_is_400(client, app):
    before = stored_services(client, app)
    raw = padded(SERVICE_BODY, 65537)

    def stream():
        yield raw

    signed = signing.sign("POST", BASE + "/services", raw, *DEMO_KEY, now=app.mock.clock.now())
    response = client.post(
        "/services", content=stream(), headers={**signed.as_dict(), "Content-Type": "application/json"}
    )
    assert "content-length" not in response.request.headers
    assert response.status_code == 400 and response.json() == ONLIVE_TOO_BIG
    assert stored_services(client, app) == before


def test_P1_onlive_stream_in_many_messages_is_refused_as_soon_as_it_passes_the_limit(client, app):
    before = stored_services(client, app)
    chunks = [b" " * 16384] * 10
    signed = signing.sign("POST", BASE + "/services", b"".join(chunks), *DEMO_KEY, now=app.mock.clock.now())
    headers = {**signed.as_dict(), "Content-Type": "application/json"}
    response, read = asgi_request(app, "POST", BASE + "/services", headers, chunks)
    assert response.status_code == 400 and response.json() == ONLIVE_TOO_BIG
    assert read == 5
    assert stored_services(client, app) == before


def test_P1_onlive_declared_content_length_over_the_limit_is_refused(client, app):
    """A correctly signed small body whose declared Content-Length says more than 64 KiB."""
    before = stored_services(client, app)
    body = json.dumps(SERVICE_BODY).encode()
    signed = signing.sign("POST", BASE + "/services", body, *DEMO_KEY, now=app.mock.clock.now())
    headers = {**signed.as_dict(), "Content-Type": "application/json", "Content-Length": str(MAX_BODY_BYTES + 1)}
    response, _ = asgi_request(app, "POST", BASE + "/services", headers, [body])
    assert response.status_code == 400 and response.json() == ONLIVE_TOO_BIG
    assert stored_services(client, app) == before


# -- P2: unknown query parameters ------------------------------------------------------------------

WINGFIELD_LISTS = [
    f"/external-services/{SERVICE}/court-mappings",
    f"/facilities/{FACILITY}/courts",
    f"/external-services/{SERVICE}/court-bookings",
]
ONLIVE_LISTS = ["/services", "/appointments", "/calendars"]
UNKNOWN_QUERIES = [
    ("bogus=1", ["bogus"]),
    ("bogus", ["bogus"]),  # a name without a value
    ("limit=1&bogus=2", ["bogus"]),  # next to a known one
    ("Limit=1", ["Limit"]),  # names are case-sensitive
    ("zzz=1&aaa=2", ["aaa", "zzz"]),  # every one, sorted by name
]


@pytest.mark.parametrize("query, names", UNKNOWN_QUERIES)
@pytest.mark.parametrize("path", WINGFIELD_LISTS)
def test_P2_wingfield_list_refuses_unknown_query_parameters(api, path, query, names):
    response = api.call("GET", f"{path}?{query}")
    issues = [{"path": ["query", name], "message": "unknown query parameter"} for name in names]
    assert response.status_code == 400
    assert response.json() == wingfield_error("invalid_schema", "request validation failed", issues)


@pytest.mark.parametrize("query, names", UNKNOWN_QUERIES)
@pytest.mark.parametrize("path", ONLIVE_LISTS)
def test_P2_onlive_list_refuses_unknown_query_parameters(client, app, path, query, names):
    response = onlive(client, app, "GET", f"{path}?{query}")
    assert response.status_code == 400
    assert response.json() == onlive_invalid(*((name, "unknown query parameter") for name in names))


# -- P3: the canonical request of a wrong ONLIVE signature -----------------------------------------


def canonical_as_sent(response: httpx.Response) -> str:
    """What bookingkit.signing computes from the request exactly as it went out."""
    sent = response.request
    path, _, query = sent.url.raw_path.decode("ascii").partition("?")
    return signing.canonical_request(sent.method, path, query, sent.headers[signing.DATE_HEADER], sent.content)


def wrong_signature() -> dict[str, str]:
    return {"Authorization": f"ONLIVESITE Credential:{ONLIVE.access_key_id}, Signature={'0' * 64}"}


@pytest.mark.parametrize(
    "method, target, options",
    [
        ("GET", "/services?page=1&search=a%20b&limit=5", {"headers": wrong_signature()}),  # query not canonical
        ("GET", f"/services/{DEMO_SERVICES[0].replace('-', '%2D', 1)}", {"headers": wrong_signature()}),  # raw path
        ("POST", "/services", {"content": json.dumps(SERVICE_BODY).encode(), "headers": wrong_signature()}),
        ("GET", "/services?limit=6", {"headers": {}, "key": (ONLIVE.access_key_id, "not-the-secret")}),
    ],
    ids=["query", "raw-path", "body", "other-secret"],
)
def test_P3_wrong_signature_401_carries_the_canonical_request_as_sent(client, app, method, target, options):
    response = onlive(client, app, method, target, **options)
    expected = canonical_as_sent(response)
    assert response.status_code == 401
    assert response.json() == {**UNAUTHORIZED, "canonicalRequest": expected}
    assert expected.split("\n")[1].startswith(BASE) and expected.endswith(
        hashlib.sha256(response.request.content).hexdigest()
    )
    assert ONLIVE.secret_access_key not in response.text
    assert not any(ONLIVE.secret_access_key in value for value in response.headers.values())


def test_P3_tampered_body_shows_the_canonical_request_of_the_body_received(client, app):
    sent, signed_over = b'{"name": "sent"}', b'{"name": "signed"}'
    response = onlive(client, app, "POST", "/services", content=sent, signed_content=signed_over)
    date = response.request.headers[signing.DATE_HEADER]
    assert response.status_code == 401
    canonical = signing.canonical_request("POST", BASE + "/services", "", date, sent)
    assert response.json() == {**UNAUTHORIZED, "canonicalRequest": canonical}
    assert response.json()["canonicalRequest"] != signing.canonical_request(
        "POST", BASE + "/services", "", date, signed_over
    )


@pytest.mark.parametrize(
    "headers",
    [
        {"Authorization": ""},
        {"Authorization": f"ONLIVESITE Credential:UNKNOWNKEY, Signature={'0' * 64}"},
        {"Authorization": f"Bearer {TOKENS['write']}"},
        {signing.DATE_HEADER: "2031-01-01T00:00:00Z"},  # not YYYYMMDDTHHMMSSZ
        {signing.DATE_HEADER: ""},
        {signing.DATE_HEADER: "20000101T000000Z"},  # outside the 15-minute window
    ],
    ids=["no-authorization", "unknown-key", "bearer", "iso-date", "no-date", "old-date"],
)
def test_P3_other_401s_carry_no_canonical_request(client, app, headers):
    signed = signing.sign("GET", BASE + "/services", b"", *DEMO_KEY, now=app.mock.clock.now()).as_dict()
    sent = {k: v for k, v in {**signed, **headers}.items() if v}
    response = client.get("/services", headers=sent)
    assert response.status_code == 401
    assert response.json() == UNAUTHORIZED


# -- P4: list orders -------------------------------------------------------------------------------
# Already pinned in tests/test_courts_http.py, not repeated here:
# - court mappings by externalCourtId, a replace moving its mapping, "RIV-10" before "RIV-2":
#   test_list_mappings_is_sorted_by_external_court_id (the courtId tie-break cannot be seen over HTTP:
#   an externalCourtId is unique within a service);
# - facility courts by name, then id whatever the stored order: test_facility_courts_are_sorted_by_name_each_
#   with_mapping_or_null, test_facility_courts_sort_by_name_then_id_whatever_the_stored_order.
# What is added: both compare code points (case-sensitive, upper-case first), and the ONLIVE lists.


def test_P4_court_mappings_compare_external_court_ids_by_code_point(app, api):
    """Upper case first; neither case-insensitive, nor by courtId, nor in the order they were written."""
    document = copy.deepcopy(DEFAULT_DOCUMENT)
    document["courtMappings"] = [m for m in document["courtMappings"] if m["externalServiceId"] != SERVICE]
    app.mock.load_world_document(document)
    for court_id, external in ((COURT_2, "b-2"), (COURT, "C-1"), (COURT_3, "a-3")):
        put = api.call(
            "PUT", f"/external-services/{SERVICE}/courts/{court_id}/mapping", json={"externalCourtId": external}
        )
        assert put.status_code == 200, put.text
    response = api.call("GET", f"/external-services/{SERVICE}/court-mappings")
    assert [(m["externalCourtId"], m["courtId"]) for m in response.json()["items"]] == [
        ("C-1", COURT),
        ("a-3", COURT_3),
        ("b-2", COURT_2),
    ]


def test_P4_facility_courts_compare_names_by_code_point(app, api):
    """A facility of its own in Riverside's organization, its courts stored neither by name nor by id."""
    document = copy.deepcopy(DEFAULT_DOCUMENT)
    riverside = next(f for f in document["facilities"] if f["id"] == FACILITY)
    facility = "fa000000-0000-4000-8000-000000000000"
    document["facilities"].append({"id": facility, "organizationId": riverside["organizationId"], "name": "Annex"})
    names = (("d", "alpha"), ("e", "Zeta"), ("c", "court 0"), ("f", "Court 1"), ("b", "Court 1"))
    document["courts"] += [
        {"id": f"{c * 8}-0000-4000-8000-000000000000", "facilityId": facility, "name": name} for c, name in names
    ]
    app.mock.load_world_document(document)
    response = api.call("GET", f"/facilities/{facility}/courts")
    assert response.status_code == 200, response.text
    assert [(c["name"], c["id"][0]) for c in response.json()["items"]] == [
        ("Court 1", "b"),
        ("Court 1", "f"),
        ("Zeta", "e"),
        ("alpha", "d"),
        ("court 0", "c"),
    ]


def uid(first: str, kind: str) -> str:
    return f"{first * 8}-{kind}-4000-8000-000000000000"


def calendar(first: str, name: str) -> dict[str, Any]:
    return {
        "id": uid(first, "ca1e"),
        "organizationId": DEMO_ORG,
        "externalId": f"ext-{first}",
        "name": name,
        "timezone": "Europe/Madrid",
        "type": "agent",
    }


def service(first: str, name: str) -> dict[str, Any]:
    return {"id": uid(first, "5e5e"), "organizationId": DEMO_ORG, **SERVICE_BODY, "name": name}


def appointment(first: str, start: str, end: str) -> dict[str, Any]:
    return {
        "id": uid(first, "a990"),
        "organizationId": DEMO_ORG,
        "calendarIds": [uid("f", "ca1e")],
        "start": start,
        "end": end,
    }


@pytest.fixture
def ordered_world(app):
    """Demo Motors' ONLIVE records stored neither in id order nor in name or start order."""
    document = copy.deepcopy(DEFAULT_DOCUMENT)
    onlive_part = document["onlive"]
    other = [e for e in onlive_part["calendars"] if e["organizationId"] != DEMO_ORG]
    onlive_part["calendars"] = [
        calendar("f", "Zeta"),
        calendar("e", "alpha"),
        calendar("d", "Beta"),
        calendar("c", "Beta"),  # same name as d, smaller id
        *other,
    ]
    other = [e for e in onlive_part["services"] if e["organizationId"] != DEMO_ORG]
    onlive_part["services"] = [service("2", "Mid"), service("3", "Alpha"), service("1", "Zulu"), *other]
    onlive_part["appointments"] = [
        appointment("3", "2099-01-02T10:00:00Z", "2099-01-02T11:00:00Z"),
        appointment("2", "2099-01-01T10:00:00Z", "2099-01-01T11:00:00Z"),
        appointment("1", "2099-01-02T10:00:00Z", "2099-01-02T10:30:00Z"),  # same start as 3, smaller id
        appointment("4", "2020-01-01T10:00:00Z", "2020-01-01T11:00:00Z"),
        appointment("5", "2099-01-01T11:00:00+02:00", "2099-01-01T11:30:00+02:00"),  # 09:00Z: the instant counts
    ]
    app.mock.load_world_document(document)
    return app


def listed(client, app, target: str) -> list[str]:
    response = onlive(client, app, "GET", target)
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


def test_P4_onlive_services_are_listed_in_creation_order(client, ordered_world):
    """Not by name (Alpha, Mid, Zulu), id or updatedAt: the order they were created in, deleted ones left out."""
    app = ordered_world
    assert listed(client, app, "/services") == [uid("2", "5e5e"), uid("3", "5e5e"), uid("1", "5e5e")]
    created = onlive(client, app, "POST", "/services", {**SERVICE_BODY, "name": "Aardvark"}).json()["id"]
    assert onlive(client, app, "PUT", f"/services/{uid('2', '5e5e')}", {"duration": 45}).status_code == 200
    assert onlive(client, app, "DELETE", f"/booking-services/{uid('3', '5e5e')}").status_code == 200
    later = onlive(client, app, "POST", "/services", {**SERVICE_BODY, "name": "0"}).json()["id"]
    assert listed(client, app, "/services") == [uid("2", "5e5e"), uid("1", "5e5e"), created, later]
    assert listed(client, app, "/services?page=2&limit=2") == [created, later]


def test_P4_onlive_appointments_are_listed_by_start_instant_then_id(client, ordered_world):
    app = ordered_world
    expected = [uid(c, "a990") for c in "45213"]
    assert listed(client, app, "/appointments") == expected
    moved = onlive(
        client,
        app,
        "PUT",
        f"/appointments/{uid('4', 'a990')}",
        {"start": "2099-02-01T10:00:00Z", "end": "2099-02-01T11:00:00Z"},
    )
    assert moved.status_code == 200, moved.text
    assert listed(client, app, "/appointments") == [*expected[1:], expected[0]]  # a new start moves it
    assert listed(client, app, "/appointments?page=2&limit=2") == [uid("1", "a990"), uid("3", "a990")]


def test_P4_onlive_calendars_are_listed_by_name_code_point_then_id(client, ordered_world):
    """Same name: smaller id first; "Zeta" before "alpha"; not in the order they were stored (f, e, d, c)."""
    assert listed(client, ordered_world, "/calendars") == [uid(c, "ca1e") for c in "cdfe"]


# -- P6: a wrong method on a known path ------------------------------------------------------------

METHODS = ("GET", "PUT", "POST", "DELETE", "PATCH", "OPTIONS")
BOOKING = f"/external-services/{SERVICE}/court-bookings/by-external-id/ct-405"
KNOWN_PATHS = [  # (spec path, a concrete path, the exact Allow header, the API)
    ("/courts/{courtId}", f"/courts/{COURT}", "GET", "wingfield"),
    ("/facilities/{facilityId}/courts", f"/facilities/{FACILITY}/courts", "GET", "wingfield"),
    (
        "/external-services/{externalServiceId}/court-mappings",
        f"/external-services/{SERVICE}/court-mappings",
        "GET",
        "wingfield",
    ),
    (
        "/external-services/{externalServiceId}/courts/{courtId}/mapping",
        f"/external-services/{SERVICE}/courts/{COURT}/mapping",
        "DELETE, GET, PUT",
        "wingfield",
    ),
    (
        "/external-services/{externalServiceId}/court-bookings",
        f"/external-services/{SERVICE}/court-bookings",
        "GET",
        "wingfield",
    ),
    (
        "/external-services/{externalServiceId}/court-bookings/by-external-id/{externalCourtBookingId}",
        BOOKING,
        "DELETE, GET, PUT",
        "wingfield",
    ),
    ("/users/{userId}", "/users/2c4a230c-5085-4924-a3e1-25fb4fc5965b", "GET, PATCH", "wingfield"),
    ("/external-services/{externalServiceId}/users", f"/external-services/{SERVICE}/users", "GET, POST", "wingfield"),
    (
        "/external-services/{externalServiceId}/user-relations/request",
        f"/external-services/{SERVICE}/user-relations/request",
        "POST",
        "wingfield",
    ),
    (
        "/external-services/{externalServiceId}/user-relations",
        f"/external-services/{SERVICE}/user-relations",
        "GET",
        "wingfield",
    ),
    (
        "/external-services/{externalServiceId}/users/{userId}/relation",
        f"/external-services/{SERVICE}/users/2c4a230c-5085-4924-a3e1-25fb4fc5965b/relation",
        "DELETE, GET, PATCH",
        "wingfield",
    ),
    (
        "/external-services/{externalServiceId}/organization-relations/claim",
        f"/external-services/{SERVICE}/organization-relations/claim",
        "POST",
        "wingfield",
    ),
    (
        "/external-services/{externalServiceId}/organizations/{organizationId}/relation",
        f"/external-services/{SERVICE}/organizations/3fa85f64-5717-4562-b3fc-2c963f66afa6/relation",
        "DELETE",
        "wingfield",
    ),
    (
        "/organizations/{organizationId}/users/{userId}/subscription",
        "/organizations/3fa85f64-5717-4562-b3fc-2c963f66afa6/users/2c4a230c-5085-4924-a3e1-25fb4fc5965b/subscription",
        "PUT",
        "wingfield",
    ),
    ("/users/{userId}/sessions", "/users/2c4a230c-5085-4924-a3e1-25fb4fc5965b/sessions", "GET", "wingfield"),
    ("/sessions/{sessionId}", "/sessions/9b2f6c1e-7d3a-4e5b-8c9d-0a1b2c3d4e5f", "GET", "wingfield"),
    ("/sessions/{sessionId}/videos", "/sessions/9b2f6c1e-7d3a-4e5b-8c9d-0a1b2c3d4e5f/videos", "GET", "wingfield"),
    ("/services", "/services", "GET, POST", "onlive"),
    ("/services/{id}", f"/services/{DEMO_SERVICES[0]}", "GET, PUT", "onlive"),
    ("/booking-services/{id}", f"/booking-services/{DEMO_SERVICES[0]}", "DELETE", "onlive"),
    ("/appointments", "/appointments", "GET, POST", "onlive"),
    ("/appointments/{appointmentId}", "/appointments/7c9e6679-7425-40de-944b-e07fc1f90ae7", "GET, PUT", "onlive"),
    ("/calendars", "/calendars", "GET", "onlive"),
    ("/calendars/{id}", f"/calendars/{ONLIVE.calendar_id}", "GET", "onlive"),
]


def test_P6_the_405_table_covers_every_path_of_the_spec():
    spec = yaml.safe_load(SPEC_PATH.read_text(encoding="utf-8"))
    documented = {
        path: ", ".join(sorted(verb.upper() for verb in item if verb in VERBS)) for path, item in spec["paths"].items()
    }
    assert {spec_path: allow for spec_path, _, allow, _ in KNOWN_PATHS} == documented


@pytest.mark.parametrize("spec_path, path, allow, api_name", KNOWN_PATHS, ids=[p[0] for p in KNOWN_PATHS])
def test_P6_wrong_method_is_405_with_exact_allow_and_the_apis_envelope(client, app, spec_path, path, allow, api_name):
    """Every other method, with and without credentials (405 comes before authentication); nothing changes."""
    before = app.mock.export_document()
    for method in (m for m in METHODS if m not in allow.split(", ")):
        if api_name == "wingfield":
            credentials = [{}, {"Authorization": f"Bearer {TOKENS['write']}"}]
            expected = wingfield_error("method_not_allowed", f"{method} is not allowed here")
        else:
            signed = signing.sign(method, BASE + path, b"", *DEMO_KEY, now=app.mock.clock.now()).as_dict()
            credentials = [{}, signed]
            expected = {"statusCode": 405, "message": f"{method} is not allowed here"}
        for headers in credentials:
            response = client.request(method, path, headers=headers)
            assert response.status_code == 405, (method, headers, response.text)
            assert response.headers["Allow"] == allow
            assert response.json() == expected
    assert app.mock.export_document() == before
