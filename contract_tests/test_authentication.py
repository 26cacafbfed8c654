"""Scenario tests of authentication, scopes, check order and errors: A1-A6 (docs/rules.md)."""

import pytest

from .conftest import optional

documented, decision = pytest.mark.documented, pytest.mark.decision
UNKNOWN_COURT = "00000000-0000-4000-8000-000000000000"


def kind(response) -> str:
    return response.json()["error"]["type"]


@documented
@pytest.mark.parametrize(
    "header, expected",
    [
        (None, "missing_api_token"),
        ("Basic dXNlcjpwYXNz", "missing_api_token"),
        ("Bearer tok_ext_v1_bookingkit.unknown-token", "invalid_api_token"),
    ],
)
def test_A1_missing_or_unknown_token_is_401(api, header, expected):
    headers = {} if header is None else {"Authorization": header}
    response = api.http.get(f"/courts/{api.target.granted_courts[0]}", headers=headers)
    assert response.status_code == 401 and kind(response) == expected


@documented
def test_A1_expired_token_is_invalid_api_token(api):
    response = api.as_(optional(api.target, "tokens", "expired")).list()
    assert response.status_code == 401 and kind(response) == "invalid_api_token"


@documented
def test_A2_read_level_cannot_write(api, scenario):
    read_only = api.as_(optional(api.target, "tokens", "read_only"))
    assert read_only.list().status_code == 200
    response = read_only.upsert(scenario.id())
    assert response.status_code == 403 and kind(response) == "scope_permission_denied"
    assert api.get(scenario.id()).status_code == 404


@documented
def test_A2_write_level_implies_read(api):
    assert api.list().status_code == 200
    assert api.call("GET", f"/courts/{api.target.granted_courts[0]}").status_code == 200


@documented
def test_A2_no_level_cannot_read(api):
    response = api.as_(optional(api.target, "tokens", "no_scope")).list()
    assert response.status_code == 403 and kind(response) == "scope_permission_denied"


def court_area_operations(api, scenario) -> list[tuple[str, str, dict | None, str]]:
    court = api.target.granted_courts[0]
    facility = api.call("GET", f"/courts/{court}").json()["facilityId"]
    scratch = api.target.scratch_court or UNKNOWN_COURT  # a write that slips through must not touch real data
    service = f"/external-services/{api.service}"
    return [
        ("GET", f"/courts/{court}", None, "read"),
        ("GET", f"/facilities/{facility}/courts", None, "read"),
        ("GET", f"{service}/court-mappings", None, "read"),
        ("GET", f"{service}/courts/{court}/mapping", None, "read"),
        ("PUT", f"{service}/courts/{scratch}/mapping", {"externalCourtId": scenario.id()}, "write"),
        ("DELETE", f"{service}/courts/{scratch}/mapping", None, "write"),
        ("GET", f"{service}/court-bookings", None, "read"),
        ("GET", api.booking_path(scenario.id()), None, "read"),
        ("PUT", api.booking_path(scenario.id()), api.body(), "write"),
        ("DELETE", api.booking_path(scenario.id()) + f"?externalUpdatedAt={scenario.version(1)}", None, "write"),
    ]


@decision
@pytest.mark.parametrize("token", ["read_only", "no_scope"])
def test_A3_court_area_needs_court_booking_scope(api, scenario, token):
    limited = api.as_(optional(api.target, "tokens", token))
    for method, path, body, level in court_area_operations(api, scenario):
        response = limited.call(method, path, json=body)
        if token == "read_only" and level == "read":
            assert response.status_code in (200, 404), (method, path, response.text)
        else:
            assert response.status_code == 403 and kind(response) == "scope_permission_denied", (method, path)


@decision
def test_A4_token_before_scope_before_service_before_shape(api, scenario):
    bad = {"courtId": "not-a-uuid"}
    unknown = api.as_("tok_ext_v1_bookingkit.unknown-token", "not-a-service")
    assert kind(unknown.call("PUT", unknown.booking_path(scenario.id()), json=bad)) == "invalid_api_token"
    read_only = api.target.tokens.get("read_only")
    if read_only:
        wrong_service = api.as_(read_only, "00000000-0000-4000-8000-00000000abcd")
        assert kind(wrong_service.call("PUT", wrong_service.booking_path(scenario.id()), json=bad)) == (
            "scope_permission_denied"
        )
    elsewhere = api.as_(api.token, "00000000-0000-4000-8000-00000000abcd")
    assert kind(elsewhere.call("PUT", elsewhere.booking_path(scenario.id()), json=bad)) == (
        "external_service_access_denied"
    )


@decision
def test_A4_shape_before_resources_before_versions_before_overlap(api, scenario):
    reversed_range = {"startDate": scenario.at(1), "endDate": scenario.at(0)}
    assert kind(api.upsert(scenario.id(), courtId="x", **reversed_range)) == "invalid_schema"
    assert kind(api.upsert(scenario.id(), courtId=UNKNOWN_COURT, **reversed_range)) == "invalid_time_range"
    api.upsert(scenario.id(), externalUpdatedAt=scenario.version(5))
    assert kind(api.upsert(scenario.id(), courtId=UNKNOWN_COURT)) == "court_not_found"
    unrelated = api.target.users.get("unrelated")
    if unrelated:
        assert kind(api.upsert(scenario.id(), participants=[{"userId": unrelated}])) == "user_access_denied"
    second = api.target.granted_courts[1]
    api.upsert(scenario.id("blocker"), courtId=second)
    assert kind(api.upsert(scenario.id(), courtId=second)) == "stale_write"
    newer = api.upsert(scenario.id(), courtId=second, externalUpdatedAt=scenario.version(6))
    assert kind(newer) == "court_booking_overlap"


@documented
def test_A5_errors_are_the_json_envelope(api):
    response = api.call("GET", f"/courts/{UNKNOWN_COURT}")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/json")
    error = response.json()["error"]
    assert error["type"] == "court_not_found" and isinstance(error["message"], str)


@decision
def test_A5_invalid_schema_lists_every_issue(api, scenario):
    """Four documented problems at once: a court id that is no UUID, dates that are no date-times, no participant
    (B8). Unknown fields are left out: whether they are refused is the implementation's choice (P5)."""
    response = api.upsert(scenario.id(), courtId="nope", startDate="soon", endDate=7, participants=[])
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["type"] == "invalid_schema" and len(error["issues"]) >= 4
    for issue in error["issues"]:
        assert isinstance(issue["path"], list) and isinstance(issue["message"], str) and issue["message"]
    named = {str(part) for issue in error["issues"] for part in issue["path"]}
    assert {"courtId", "startDate"} <= named


MALFORMED = {
    "truncated JSON": (b'{"courtId": ', "application/json"),
    "invalid UTF-8": (b'{"courtId": "\xc3\x28"}', "application/json"),
    "not an object": (b"[1, 2, 3]", "application/json"),
    "null": (b"null", "application/json"),
    "wrong types": (
        b'{"courtId": 1, "startDate": [], "endDate": {}, "externalUpdatedAt": true, "participants": "x"}',
        "application/json",
    ),
    "deep nesting": (b'{"participants": [' + b"[" * 5000 + b"]" * 5000 + b"]}", "application/json"),
    "form body": (b"courtId=1", "application/x-www-form-urlencoded"),
    "no body": (b"", "application/json"),
}


@decision
@pytest.mark.parametrize("case", MALFORMED)
def test_A6_malformed_requests_never_get_a_5xx(api, scenario, case):
    """Oversize bodies and unknown parameters have tests of their own (P1, P2)."""
    raw, content_type = MALFORMED[case]
    response = api.call("PUT", api.booking_path(scenario.id()), content=raw, headers={"Content-Type": content_type})
    assert 400 <= response.status_code < 500, response.text[:300]
    assert api.get(scenario.id()).status_code == 404


@decision
@pytest.mark.parametrize(
    "query",
    [
        "from=2031-01-01T00:00:00%2B99:00",
        "from=0001-01-01T00:00:00%2B01:00",
        "to=9999-12-31T23:59:59-01:00",
        "limit=99999999999999999999999",
        "courtId=%00",
    ],
)
def test_A6_malformed_parameters_never_get_a_5xx(api, query):
    response = api.call("GET", f"/external-services/{api.service}/court-bookings?{query}")
    assert 400 <= response.status_code < 500, response.text[:300]
