"""The suite's view of what is documented (contract_tests.documented): negative data is asserted only where it
breaks a constraint the docs or decisions.md state (P5), and success responses are checked only against those."""

import json

import pytest

from contract_tests.documented import documented_responses, documented_violations
from contract_tests.spec import load_spec

BASE = "http://mock/api/v1"
SERVICE = "e8623a0d-39de-4963-9c6c-a25dc38e89c9"
BOOKINGS = f"{BASE}/external-services/{SERVICE}/court-bookings"
VALID_BOOKING = {
    "courtId": "79ae2927-a9bc-46ed-8f9e-079af32b7616",
    "startDate": "2031-01-01T10:00:00Z",
    "endDate": "2031-01-01T11:00:00Z",
    "externalUpdatedAt": "2031-01-01T00:00:00Z",
    "participants": [{"email": "a@example.com"}],
}


def violations(operation: str, url: str, body=None, where=("path", "query", "header", "body")) -> list[str]:
    raw = None if body is None else json.dumps(body).encode()
    return documented_violations(operation, url, {}, raw, set(where))


@pytest.mark.parametrize(
    "operation, url",
    [
        ("listServices", f"{BASE}/services?page=1000000"),  # the spec's maximum, not the docs'
        ("listServices", f"{BASE}/services?page=0&limit=1000"),
        ("listServices", f"{BASE}/services?userGroupId="),
        ("listCourtBookings", f"{BOOKINGS}?limit=5&unknown=1"),  # P2
        ("listCourtBookings", f"{BOOKINGS}?limit=5&limit=6"),
        ("getCourtBooking", f"{BOOKINGS}/by-external-id/{'x' * 300}"),  # no documented maximum length
    ],
)
def test_spec_only_constraints_are_not_documented_violations(operation, url):
    assert violations(operation, url) == []


@pytest.mark.parametrize(
    "operation, url, expected",
    [
        ("listCourtBookings", f"{BOOKINGS}?limit=0", "limit"),  # B24
        ("listCourtBookings", f"{BOOKINGS}?limit=101", "limit"),
        ("listCourtBookings", f"{BOOKINGS}?offset=-1", "offset"),
        ("listCourtBookings", f"{BOOKINGS}?limit=ten", "limit"),
        ("listCourtBookings", f"{BOOKINGS}?courtId=abc", "courtId"),  # uuid, as the docs say
        ("deleteCourtBooking", f"{BOOKINGS}/by-external-id/b1", "externalUpdatedAt"),  # B22: required
        ("deleteCourtBooking", f"{BOOKINGS}/by-external-id/b1?externalUpdatedAt=soon", "externalUpdatedAt"),
        ("getCourtById", f"{BASE}/courts/not-a-uuid", "courtId"),
    ],
)
def test_documented_parameter_constraints_are_violations(operation, url, expected):
    found = violations(operation, url)
    assert found and all(expected in problem for problem in found), found


def test_only_the_negative_locations_are_looked_at():
    assert violations("listCourtBookings", f"{BOOKINGS}?limit=0", where=("body",)) == []


@pytest.mark.parametrize(
    "change, documented",
    [
        ({"participants": []}, True),  # B8
        ({"participants": [{}]}, True),  # B9
        ({"participants": [{"email": "a@example.com"}] * 5}, True),
        ({"courtId": "nope"}, True),
        ({"startDate": 5}, True),
        ({"courtId": None}, True),
        ({"unknownField": 1}, False),  # refusing unknown fields is the spec's choice
        ({"courtId": ...}, False),  # so is requiring every field
    ],
)
def test_body_constraints(change, documented):
    body = {**VALID_BOOKING, **change}
    body = {k: v for k, v in body.items() if v is not ...}
    url = f"{BOOKINGS}/by-external-id/b1"
    assert bool(violations("upsertCourtBooking", url, body, where=("body",))) is documented
    assert violations("upsertCourtBooking", url, VALID_BOOKING, where=("body",)) == []


def test_a_body_that_is_not_json_is_a_violation():
    found = documented_violations("upsertCourtBooking", f"{BOOKINGS}/by-external-id/b1", {}, b"{not json", {"body"})
    assert found == ["the body is not JSON"]


def test_documented_responses_keep_requests_and_drop_marked_response_keywords():
    spec = load_spec()
    relaxed = documented_responses(spec)
    assert json.dumps(relaxed["paths"]) != json.dumps(spec["paths"])
    assert "x-undocumented-constraints" not in json.dumps(
        [
            op["responses"]["200"]
            for item in relaxed["paths"].values()
            for op in item.values()
            if "200" in op.get("responses", {})
        ]
    )
    assert relaxed["components"] == spec["components"]  # request schemas are referenced, unchanged
