"""Request verification (issue 14, item 5): the journal keeps headers (credentials masked) and bodies, bounded in
bytes; `POST /__admin/requests/find|count` select them by a matcher; `bookingkit.verify.MockRequests` asserts
with it from a partner's test. On every store, and once over a real socket as a partner would run it."""

import base64
import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator

import httpx
import pytest

from bookingkit import signing
from bookingkit.verify import MockRequests, body_json
from mock_server.app import create_app
from mock_server.control.journal import BODY_KEEP, HEADER_VALUE_KEEP, HEADERS_KEEP, json_contains
from mock_server.validation import MAX_BODY_BYTES

from . import live
from .conftest import COURT, SERVICE, TOKENS
from .databases import STORES, store_url
from .test_admin import ONLIVE, booking

ADMIN_TOKEN = "admin-secret"
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
WRITE = {"Authorization": f"Bearer {TOKENS['write']}"}
BOOKINGS = f"/api/v1/external-services/{SERVICE}/court-bookings"
BOOKING_PATH = f"{BOOKINGS}/by-external-id/verify-1"


@pytest.fixture(params=STORES)
def app(request, tmp_path):
    with store_url(request.param, tmp_path) as url:
        app = create_app(store=url, admin_token=ADMIN_TOKEN, validate_responses=True)
        yield app
        app.mock.backend.close()


@pytest.fixture
def http(app) -> Iterator[httpx.Client]:
    with app.test_client(base_url="http://testserver") as client:
        yield client


@pytest.fixture
def received(http) -> MockRequests:
    """The helper as a partner uses it, here over the in-process client instead of a socket."""
    return MockRequests("http://testserver/api/v1", ADMIN_TOKEN, client=http)


# -- the helper, as a partner's test uses it ---------------------------------------------------------------------


def test_exactly_one_put_of_the_booking_with_this_body(http, received):
    sent = booking(hour=11)
    raw = json.dumps(sent).encode()
    assert http.put(BOOKING_PATH, content=raw, headers={**WRITE, "Content-Type": "application/json"}).status_code == 200
    http.get(f"{BOOKINGS}/by-external-id/verify-1", headers=WRITE)  # other requests do not count
    http.put(f"{BOOKINGS}/by-external-id/verify-2", json=booking(hour=14), headers=WRITE)

    [entry] = received.assert_received(
        times=1,
        method="PUT",
        path=BOOKING_PATH,
        status=200,
        body={"courtId": COURT, "participants": [{"email": "admin.test@example.com"}]},
    )
    assert entry["operationId"] == "upsertCourtBooking" and body_json(entry) == sent
    assert entry["body"] == raw.decode() and entry["bodyBytes"] == len(raw) and entry["bodyCut"] is False
    assert received.count(operation_id="upsertCourtBooking") == 2
    assert received.count(path_pattern=r"/api/v1/external-services/[^/]+/court-bookings/by-external-id/verify-\d") == 3
    assert received.count(method="get") == 1  # the method in any case
    assert [e["path"] for e in received.find(method="PUT")] == [f"{BOOKINGS}/by-external-id/verify-2", BOOKING_PATH]


def test_the_assertion_fails_when_the_request_was_not_sent(http, received):
    http.put(BOOKING_PATH, json=booking(hour=11), headers=WRITE)
    with pytest.raises(AssertionError) as failure:  # sent, but with another court
        received.assert_received(method="PUT", path=BOOKING_PATH, body={"courtId": "another-court"})
    message = str(failure.value)
    assert "expected 1 request matching" in message and "the mock received 0" in message
    assert f"PUT {BOOKING_PATH} -> 200 (upsertCourtBooking) body: " in message  # what was received instead
    assert COURT in message

    with pytest.raises(AssertionError, match="none"):  # never sent at all
        received.assert_received(operation_id="deleteCourtBooking")
    with pytest.raises(AssertionError, match="expected 2 requests"):
        received.assert_received(times=2, operation_id="upsertCourtBooking")
    assert received.assert_received(times=0, operation_id="deleteCourtBooking") == []
    assert received.assert_received(times=None, method="PUT")


def test_clear_forgets_what_was_received(http, received):
    http.get(f"/api/v1/courts/{COURT}", headers=WRITE)
    assert received.count() == 1
    received.clear()
    assert received.count() == 0 and received.find() == []


# -- what the journal keeps ------------------------------------------------------------------------------------


def test_credentials_are_masked_and_matched_masked(http, received):
    http.put(
        BOOKING_PATH,
        json=booking(),
        headers={**WRITE, "Cookie": "session=s3cr3t; theme=dark", "X-Hub-Signature": "sha256=abcdef", "X-Trace": "t-1"},
    )
    [entry] = received.find(operationId="upsertCourtBooking")
    headers = entry["headers"]
    assert headers["authorization"] == "Bearer ***"
    assert headers["cookie"] == "session=***; theme=***"
    assert headers["x-hub-signature"] == "***"
    assert headers["x-trace"] == "t-1" and headers["content-type"] == "application/json"
    assert TOKENS["write"] not in json.dumps(entry) and "s3cr3t" not in json.dumps(entry)
    assert received.count(headers={"Authorization": "Bearer ***", "X-TRACE": "t-1"}) == 1  # names in any case
    assert received.count(headers={"authorization": f"Bearer {TOKENS['write']}"}) == 0  # the secret is not kept


def test_a_signed_onlive_request_keeps_the_scheme_only(http, received):
    service = {"name": "Verify", "duration": 30, "timeBetween": 0, "minTimeToSchedule": 0, "maxTimeToSchedule": 9}
    raw = json.dumps({**service, "incrementTime": 15}).encode()
    headers = signing.sign("POST", "/api/v1/services", raw, ONLIVE.access_key_id, ONLIVE.secret_access_key)
    created = http.post(
        "/api/v1/services", content=raw, headers={**headers.as_dict(), "Content-Type": "application/json"}
    )
    assert created.status_code == 201
    [entry] = received.find(method="POST", path="/api/v1/services", status=201, bodyContains='"Verify"')
    assert entry["headers"]["authorization"] == "ONLIVESITE ***"
    assert entry["headers"][signing.DATE_HEADER.lower()] == headers.date
    assert ONLIVE.access_key_id not in json.dumps(entry)


def test_a_body_beyond_the_kept_bytes_is_cut_and_marked(http, received):
    big = {**booking(), "extraFields": {"note": "é" * 25_000}}  # 50 KB: within the 64 KiB limit, beyond 16 KiB kept
    raw = json.dumps(big, ensure_ascii=False).encode()
    assert BODY_KEEP < len(raw) < MAX_BODY_BYTES
    http.put(BOOKING_PATH, content=raw, headers={**WRITE, "Content-Type": "application/json"})
    [entry] = received.find(method="PUT")
    assert entry["bodyCut"] is True and entry["bodyBytes"] == len(raw) and entry["bodyBase64"] is False
    kept = entry["body"].encode()
    assert BODY_KEEP - 3 <= len(kept) <= BODY_KEEP and raw.startswith(kept)  # a character split by the cut is dropped
    assert received.count(bodyContains='"courtId"') == 1
    assert received.count(body={"courtId": COURT}) == 0  # a cut body is no JSON to compare with
    with pytest.raises(ValueError, match="cut"):
        body_json(entry)


def test_a_megabyte_body_is_refused_and_journaled_bounded(http, received):
    megabyte = b'{"a": "' + b"x" * (1024 * 1024) + b'"}'
    declared = http.put(BOOKING_PATH, content=megabyte, headers={**WRITE, "Content-Type": "application/json"})
    assert declared.status_code == 400  # refused by its Content-Length before it is read
    [entry] = received.find(method="PUT")
    assert entry["body"] is None and entry["bodyBytes"] == 0 and entry["bodyCut"] is True
    assert entry["headers"]["content-length"] == str(len(megabyte))


def test_a_body_that_is_not_utf8_is_kept_as_base64(http, received):
    raw = b"\xff\xfe" + bytes(range(256))
    http.put(BOOKING_PATH, content=raw, headers={**WRITE, "Content-Type": "application/json"})
    [entry] = received.find(method="PUT")
    assert entry["bodyBase64"] is True and base64.b64decode(entry["body"]) == raw and entry["bodyCut"] is False
    assert received.count(bodyContains="/") == 0  # base64 text is not the body's text


def test_headers_are_bounded_in_bytes(http, received):
    many = {f"x-filler-{n}": "v" * 900 for n in range(10)}
    http.get(f"/api/v1/courts/{COURT}", headers={**WRITE, "X-Long": "y" * 5000, **many})
    [entry] = received.find()
    headers = entry["headers"]
    assert headers["x-long"] == "y" * HEADER_VALUE_KEEP + "…[cut, 5000 bytes]"
    assert sum(len(name) + len(value) for name, value in headers.items()) <= HEADERS_KEEP
    assert entry["headersLeftOut"] >= 1 and len(headers) + entry["headersLeftOut"] == 5 + 2 + 10  # 5 of httpx's


def test_a_request_refused_before_its_body_was_read_has_none(http, received):
    http.put(BOOKING_PATH, json=booking())  # no token: 401 before the body is read
    [entry] = received.find(status=401)
    assert entry["body"] is None and entry["bodyCut"] is True and "authorization" not in entry["headers"]


# -- the matcher: semantics and refusals ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "expected, actual, matches",
    [
        ({"a": 1}, {"a": 1, "b": 2}, True),  # other keys may be there
        ({"a": {"b": 1}}, {"a": {"b": 1, "c": 2}}, True),  # recursively
        ({"a": 1}, {"b": 1}, False),
        ({"a": None}, {}, False),  # a key given must be there, even with null
        ({"a": None}, {"a": None}, True),
        ([{"e": 1}], [{"e": 1, "f": 2}], True),  # arrays item by item, each a subset
        ([1], [1, 2], False),  # of the same length
        ([1, 2], [2, 1], False),  # in order
        (1, 1.0, True),  # numbers by value
        (True, 1, False),  # JSON's true is not 1
        ("1", 1, False),
    ],
)
def test_body_matching_is_a_recursive_subset(expected, actual, matches):
    assert json_contains(expected, actual) is matches


def test_a_bad_matcher_is_400_naming_the_key(http, received):
    unknown = http.post("/__admin/requests/find", json={"operation": "x"}, headers=ADMIN)
    assert unknown.status_code == 400 and unknown.json()["error"]["type"] == "invalid_schema"
    assert "'operation'" in json.dumps(unknown.json())
    regex = http.post("/__admin/requests/count", json={"pathPattern": "(unclosed"}, headers=ADMIN)
    assert regex.status_code == 400 and regex.json()["error"]["issues"][0]["path"] == ["body", "pathPattern"]
    wrong_type = http.post("/__admin/requests/count", json={"status": "200"}, headers=ADMIN)
    assert wrong_type.status_code == 400 and wrong_type.json()["error"]["issues"][0]["path"] == ["body", "status"]
    with pytest.raises(ValueError, match="pathPattern"):
        received.count(path_pattern="(unclosed")
    assert http.post("/__admin/requests/count", json={}).status_code == 401


def test_path_pattern_matches_the_whole_path(http, received):
    http.get(f"/api/v1/courts/{COURT}", headers=WRITE)
    assert received.count(pathPattern="/api/v1/courts/[0-9a-f-]+") == 1
    assert received.count(pathPattern="courts") == 0  # not a search: the whole path


# -- over a real socket, as a partner runs it -----------------------------------------------------------------


@pytest.fixture(scope="module")
def running_mock(tmp_path_factory) -> Iterator[str]:
    log = tmp_path_factory.mktemp("verify") / "mock.log"
    with live.running_mock(log, "--admin-token", ADMIN_TOKEN) as url:
        yield f"{url}/api/v1"


def test_a_partner_test_verifies_what_it_sent_to_a_running_mock(running_mock):
    with MockRequests(running_mock, ADMIN_TOKEN) as received, httpx.Client(base_url=running_mock) as partner:
        received.clear()
        path = f"/external-services/{SERVICE}/court-bookings/by-external-id/socket-1"
        assert partner.put(path, json=booking(hour=9), headers=WRITE).status_code == 200
        received.assert_received(
            method="PUT", path=f"/api/v1{path}", body={"startDate": "2031-03-01T09:00:00Z"}, status=200
        )
        with pytest.raises(AssertionError, match="socket-1"):
            received.assert_received(method="PUT", path=f"/api/v1{path}", body={"startDate": "2031-03-01T10:00:00Z"})

        def streamed() -> Iterator[bytes]:  # a megabyte in chunks, no Content-Length: refused past 64 KiB
            yield b'{"a": "'
            for _ in range(64):
                yield b"x" * 16384
            yield b'"}'

        refused = partner.put(path, content=streamed(), headers={**WRITE, "Content-Type": "application/json"})
        assert refused.status_code == 400
        [entry] = received.find(method="PUT", status=400)
        assert entry["bodyCut"] is True and MAX_BODY_BYTES < entry["bodyBytes"] < 1024 * 1024
        assert len(entry["body"]) == BODY_KEEP and entry["headers"]["transfer-encoding"] == "chunked"
        assert partner.get(f"/courts/{COURT}", headers=WRITE).status_code == 200  # the mock is still well


def test_the_packaged_fixture_verifies_a_partner_test(running_mock, tmp_path):
    """A partner's test file, run by pytest as they would, with the fixture the package registers."""
    (tmp_path / "test_partner.py").write_text(
        textwrap.dedent(
            f"""
            import httpx

            def test_pushes_one_booking(mock_requests):
                path = "/external-services/{SERVICE}/court-bookings/by-external-id/fixture-1"
                body = {booking(hour=11)!r}
                httpx.put("{running_mock}" + path, json=body, headers={WRITE!r}).raise_for_status()
                expected = {{"startDate": body["startDate"]}}
                mock_requests.assert_received(method="PUT", path="/api/v1" + path, body=expected)

            def test_sees_only_its_own_requests(mock_requests):
                mock_requests.assert_received(times=0, method="PUT")

            def test_a_request_never_sent_fails(mock_requests):
                mock_requests.assert_received(method="DELETE")
            """
        )
    )
    env = {**os.environ, "BOOKINGKIT_ADMIN_TOKEN": ADMIN_TOKEN, "BOOKINGKIT_MOCK_URL": running_mock}
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path / "test_partner.py")],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "1 failed, 2 passed" in run.stdout, run.stdout + run.stderr
    assert "test_a_request_never_sent_fails" in run.stdout and "expected 1 request" in run.stdout
