"""Verify what an integration sent to a running bookingkit mock, from the partner's own tests (like WireMock's
verify): "exactly one PUT of booking X with this body".

Plain HTTP against the mock's admin API (`POST /__admin/requests/find|count`, `DELETE /__admin/requests`), so it
works with a mock started any way (`bookingkit mock`, a container, several workers on a SQL store):

    # BOOKINGKIT_ADMIN_TOKEN=secret bookingkit mock &    then    BOOKINGKIT_ADMIN_TOKEN=secret pytest
    def test_booking_is_pushed(mock_requests):  # the fixture comes with the package (bookingkit/pytest_verify.py)
        push_booking("b-1")  # the partner's code under test
        mock_requests.assert_received(
            method="PUT", path_pattern=r"/api/v1/external-services/[^/]+/court-bookings/by-external-id/b-1",
            body={"courtId": COURT, "participants": [{"email": "ann@example.com"}]},
        )

Elsewhere: `with MockRequests("http://127.0.0.1:8000", admin_token="secret") as requests: ...`.

Matcher keys (the admin API's, in camelCase or snake_case): operationId, method, path, pathPattern (a regular
expression matching the whole path), status, headers (name -> the recorded value; credentials are recorded
masked, e.g. "Bearer ***"), body (the JSON body contains this: objects by the keys given, recursively; arrays item
by item, of the same length), bodyContains (a substring of the body text).
"""

import json
from typing import Any

import httpx

SNAKE_CASE = {"operation_id": "operationId", "path_pattern": "pathPattern", "body_contains": "bodyContains"}
NEAR_KEYS = ("operationId", "method", "path", "pathPattern")  # what a failure lists the received requests by
LISTED = 10  # received requests shown in a failure message
BODY_SHOWN = 300  # characters of a body shown in a failure message


class MockRequests:
    """The requests a running mock received, read through its admin API. `base_url` is where the mock listens
    (a trailing `/api/v1` is allowed); `client` replaces the HTTP client (e.g. a test client of the app)."""

    def __init__(
        self, base_url: str, admin_token: str, *, client: httpx.Client | None = None, timeout: float = 10.0
    ) -> None:
        root = base_url.rstrip("/").removesuffix("/api/v1")
        self._owned = client is None
        self._http = client if client is not None else httpx.Client(timeout=timeout)
        self._admin = f"{root}/__admin"
        self._headers = {"Authorization": f"Bearer {admin_token}"}

    def find(self, **matcher: Any) -> list[dict[str, Any]]:
        """The journal entries (method, path, query, operationId, status, headers, body, ...) matching, newest
        first; no keys: every request the mock keeps (its last 1000)."""
        return self._post("find", matcher)["items"]

    def count(self, **matcher: Any) -> int:
        return self._post("count", matcher)["count"]

    def assert_received(self, times: int | None = 1, **matcher: Any) -> list[dict[str, Any]]:
        """Exactly `times` requests match (`times=None`: at least one); the matching entries, newest first.
        On failure the AssertionError lists what was received for the same operationId, method and path."""
        found = self.find(**matcher)
        if (times is None and found) or len(found) == times:
            return found
        expected = "at least 1 request" if times is None else f"{times} request{'s' * (times != 1)}"
        lines = [f"expected {expected} matching {_shown(_camel_case(matcher))}, the mock received {len(found)}."]
        near = {key: value for key, value in _camel_case(matcher).items() if key in NEAR_KEYS}
        received = self.find(**near)
        scope = f"matching {_shown(near)}" if near else "in all"
        if not received:
            lines.append(f"Requests received {scope}: none.")
        else:
            lines.append(f"Requests received {scope} ({len(received)}, newest first):")
            lines += [f"  {_describe(entry)}" for entry in received[:LISTED]]
            if len(received) > LISTED:
                lines.append(f"  ... and {len(received) - LISTED} more")
        raise AssertionError("\n".join(lines))

    def clear(self) -> None:
        """Forget every request received so far (the mock's journal, for every client of the mock)."""
        self._http.delete(f"{self._admin}/requests", headers=self._headers).raise_for_status()

    def close(self) -> None:
        if self._owned:
            self._http.close()

    def __enter__(self) -> "MockRequests":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _post(self, what: str, matcher: dict[str, Any]) -> dict[str, Any]:
        response = self._http.post(f"{self._admin}/requests/{what}", json=_camel_case(matcher), headers=self._headers)
        if response.status_code == 400:  # a bad matcher: say which key, as the mock did
            raise ValueError(f"the mock refused the matcher {_shown(matcher)}: {_problem(response)}")
        response.raise_for_status()
        return response.json()


def body_json(entry: dict[str, Any]) -> Any:
    """The recorded body parsed as JSON (None without a body); ValueError when it is cut, base64 or not JSON."""
    if entry.get("body") is None:
        return None
    if entry.get("bodyCut") or entry.get("bodyBase64"):
        raise ValueError(f"the recorded body is not whole JSON text ({entry.get('bodyBytes')} bytes, cut or binary)")
    return json.loads(entry["body"])


def _camel_case(matcher: dict[str, Any]) -> dict[str, Any]:
    return {SNAKE_CASE.get(key, key): value for key, value in matcher.items()}


def _shown(matcher: dict[str, Any]) -> str:
    return json.dumps(matcher, sort_keys=True, default=str)


def _problem(response: httpx.Response) -> str:
    try:
        error = response.json()["error"]
    except (ValueError, KeyError, TypeError):
        return response.text
    issues = [
        f"{'.'.join(map(str, issue.get('path', [])))}: {issue.get('message')}" for issue in error.get("issues", [])
    ]
    return "; ".join(issues) or error.get("message", response.text)


def _describe(entry: dict[str, Any]) -> str:
    """One line a person can compare with the matcher: method, path, status, operation and body."""
    target = entry.get("path", "") + (f"?{entry['query']}" if entry.get("query") else "")
    line = f"{entry.get('method')} {target} -> {entry.get('status')} ({entry.get('operationId')})"
    body = entry.get("body")
    if body is not None:
        shown = body if len(body) <= BODY_SHOWN else f"{body[:BODY_SHOWN]}... ({entry.get('bodyBytes')} bytes)"
        line += f" body{' (base64)' if entry.get('bodyBase64') else ''}: {shown}"
    return line
