"""Scenario tests of the ONLIVE.SITE booking-service rules O1-O7 (docs/rules.md), named after them."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from bookingkit import signing

from .onlive import future

documented, decision = pytest.mark.documented, pytest.mark.decision
INVALID = "Invalid or missing authorization credentials"
NOT_FOUND = {"statusCode": 404, "message": "Service not found"}


def created(response) -> dict:
    assert response.status_code in (200, 201), response.text
    return response.json()


@documented
def test_O1_delete_soft_deletes_and_returns_the_service(onlive):
    service = created(onlive.create_service())
    response = onlive.request("DELETE", f"/booking-services/{service['id']}")
    assert response.status_code == 200, response.text
    deleted = response.json()
    assert deleted["id"] == service["id"] and deleted["name"] == service["name"]
    assert deleted["deletedAt"] is not None and service["deletedAt"] is None


@decision
def test_O2_deleted_service_is_not_found_anywhere(onlive):
    service = created(onlive.create_service())
    assert onlive.request("DELETE", f"/booking-services/{service['id']}").status_code == 200
    for method, path, body in (
        ("GET", f"/services/{service['id']}", None),
        ("PUT", f"/services/{service['id']}", {"duration": 45}),
        ("DELETE", f"/booking-services/{service['id']}", None),
    ):
        response = onlive.request(method, path, body)
        assert response.status_code == 404 and response.json() == NOT_FOUND, (method, path)
    listed = onlive.request("GET", f"/services?name={onlive.prefix}%20service&limit=100").json()
    assert service["id"] not in [s["id"] for s in listed["items"]]


@documented
def test_O3_service_with_active_appointment_cannot_be_deleted(onlive):
    service = created(onlive.create_service())
    created(onlive.create_appointment(service["id"], future()))
    response = onlive.request("DELETE", f"/booking-services/{service['id']}")
    assert response.status_code == 403
    assert response.json() == {"statusCode": 403, "message": "Cannot delete service with active appointments"}
    still = onlive.request("GET", f"/services/{service['id']}")
    assert still.status_code == 200 and still.json()["deletedAt"] is None


@decision
def test_O3_cancelling_the_appointment_unblocks_the_delete(onlive):
    service = created(onlive.create_service())
    appointment = created(onlive.create_appointment(service["id"], future()))
    assert onlive.request("DELETE", f"/booking-services/{service['id']}").status_code == 403
    cancelled = onlive.request("PUT", f"/appointments/{appointment['id']}", {"state": "cancelled"})
    assert cancelled.status_code == 200 and cancelled.json()["state"] == "cancelled"
    assert onlive.request("DELETE", f"/booking-services/{service['id']}").status_code == 200


@decision
def test_O3_appointment_that_has_ended_does_not_block(onlive):
    service = created(onlive.create_service())
    created(onlive.create_appointment(service["id"], datetime(2020, 1, 6, 10, tzinfo=UTC)))
    assert onlive.request("DELETE", f"/booking-services/{service['id']}").status_code == 200


@decision
def test_O3_appointments_of_other_services_do_not_block(onlive):
    service, busy = created(onlive.create_service()), created(onlive.create_service(name=f"{onlive.prefix} busy"))
    created(onlive.create_appointment(busy["id"], future()))
    assert onlive.request("DELETE", f"/booking-services/{service['id']}").status_code == 200


@decision
def test_O4_another_organizations_service_is_not_found(onlive, onlive_target):
    """Read-only: the suite never writes to a service it did not create (the next test covers the writes)."""
    if not onlive_target.other_org_service_id:
        pytest.skip("the target profile has no onlive.other_org_service_id")
    response = onlive.request("GET", f"/services/{onlive_target.other_org_service_id}")
    assert response.status_code == 404 and response.json() == NOT_FOUND
    listed = onlive.request("GET", "/services?limit=100").json()["items"]
    assert onlive_target.other_org_service_id not in [s["id"] for s in listed]


@documented
def test_O4_a_service_can_be_deleted_only_by_its_own_organization(onlive, onlive_target):
    if not (onlive_target.other_access_key_id and onlive_target.other_secret_access_key):
        pytest.skip("the target profile has no onlive.other_access_key_id / other_secret_access_key")
    service = created(onlive.create_service())
    other = onlive.as_(onlive_target.other_access_key_id, onlive_target.other_secret_access_key)
    assert other.request("PUT", f"/services/{service['id']}", {"duration": 45}).json() == NOT_FOUND
    assert other.request("DELETE", f"/booking-services/{service['id']}").status_code == 404
    assert other.request("GET", f"/services/{service['id']}").status_code == 404
    assert service["id"] not in [s["id"] for s in other.request("GET", "/services?limit=100").json()["items"]]
    unchanged = onlive.request("GET", f"/services/{service['id']}").json()
    assert unchanged["deletedAt"] is None and unchanged["duration"] == service["duration"]


@documented
def test_O5_errors_are_status_code_and_message(onlive):
    response = onlive.request("GET", f"/services/{uuid.uuid4()}")
    assert response.status_code == 404 and response.headers["content-type"].startswith("application/json")
    assert response.json() == NOT_FOUND


@documented
def test_O5_validation_errors_name_each_field(onlive):
    response = onlive.request("POST", "/services", {"name": "", "duration": "long"})
    assert response.status_code == 400
    body = response.json()
    assert body["statusCode"] == 400 and isinstance(body["message"], str)
    fields = {error["field"] for error in body["errors"]}
    assert {"name", "duration"} <= fields | {e["field"].split(".")[0] for e in body["errors"]}
    assert all(isinstance(e["message"], str) and e["message"] for e in body["errors"])


def refused(response) -> None:
    assert response.status_code == 401, response.text
    assert response.json()["statusCode"] == 401 and response.json()["message"] == INVALID


def signed_headers(onlive, method="GET", path="/services", body=b"", **changes) -> dict[str, str]:
    headers = signing.sign(method, onlive.url(path), body, onlive.key, onlive.secret).as_dict()
    headers.update(changes)
    return headers


@documented
@pytest.mark.parametrize(
    "case",
    [
        "no Authorization",
        "not ONLIVESITE",
        "Credential with =",
        "no Signature",
        "unknown access key",
        "no date header",
        "ISO 8601 date",
        "date 16 minutes early",
        "date 16 minutes late",
        "wrong signature",
    ],
)
def test_O6_every_authentication_failure_is_401(onlive, case):
    date = signing.DATE_HEADER
    good = signed_headers(onlive)
    key_part = good["Authorization"].split(", ")[1]
    headers = {
        "no Authorization": {"Authorization": ""},
        "not ONLIVESITE": {"Authorization": "Bearer " + key_part},
        "Credential with =": {"Authorization": good["Authorization"].replace("Credential:", "Credential=")},
        "no Signature": {"Authorization": good["Authorization"].split(",")[0]},
        "unknown access key": {"Authorization": f"ONLIVESITE Credential:UNKNOWN{uuid.uuid4().hex[:8]}, {key_part}"},
        "no date header": {date: ""},
        "ISO 8601 date": {date: datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")},
        "wrong signature": {"Authorization": good["Authorization"][:-8] + "00000000"},
    }.get(case)
    if case.startswith("date 16"):
        when = datetime.now(UTC) + timedelta(minutes=-16 if "early" in case else 16)
        response = onlive.request("GET", "/services", now=when)
    else:
        sent = {**good, **headers}
        response = onlive.http.get(onlive.url("/services"), headers={k: v for k, v in sent.items() if v})
    refused(response)


@decision
def test_O6_date_within_fifteen_minutes_is_accepted(onlive):
    for minutes in (-14, 14):
        response = onlive.request("GET", "/services?limit=1", now=datetime.now(UTC) + timedelta(minutes=minutes))
        assert response.status_code == 200, (minutes, response.text)


@decision
def test_O6_query_and_body_are_signed_as_sent(onlive):
    assert onlive.request("GET", "/services?search=a%20b&limit=3&page=1").status_code == 200
    service = created(onlive.create_service(extraFields={"area": "Barcelona"}))
    tampered = signed_headers(onlive, "PUT", f"/services/{service['id']}", b'{"duration": 45}')
    response = onlive.http.put(
        onlive.url(f"/services/{service['id']}"),
        content=b'{"duration": 60}',
        headers={**tampered, "Content-Type": "application/json"},
    )
    refused(response)


@decision
@pytest.mark.parametrize("path", ["/services/not-a-uuid", "/booking-services/123"])
def test_O7_malformed_service_id_is_400_naming_id(onlive, path):
    method = "DELETE" if path.startswith("/booking") else "GET"
    response = onlive.request(method, path)
    assert response.status_code == 400
    assert "id" in [error["field"] for error in response.json()["errors"]]
