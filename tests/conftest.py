"""Shared fixtures: a fresh mock per test, its default world as the target profile describes it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from contract_tests.spec import error_contract_problems
from mock_server.app import create_app

ROOT = Path(__file__).resolve().parent.parent
PROFILE = yaml.safe_load((ROOT / "contract_tests" / "targets" / "mock.yaml").read_text())["wingfield"]
SERVICE = PROFILE["external_service_id"]
OTHER_SERVICE = PROFILE["other_external_service_id"]
TOKENS = PROFILE["tokens"]
COURT, COURT_2 = PROFILE["courts"]["granted"]
COURT_NOT_GRANTED = PROFILE["courts"]["not_granted"]
USERS = PROFILE["users"]
BASE = "/api/v1"


def check_error_contract(response: httpx.Response) -> None:
    """Every error any test provokes must match the envelope and its operation's documented types (A5)."""
    if response.status_code < 400:
        return
    response.read()
    body = response.json()
    path = response.request.url.path.removeprefix(BASE)
    problems = error_contract_problems(
        response.request.method, path, response.status_code, response.headers.get("content-type", ""), body
    )
    assert not problems, problems


class Wingfield:
    """A partner's view of the API: one call per operation, bodies built from sensible defaults."""

    def __init__(self, client: httpx.Client, token: str = TOKENS["write"], service: str = SERVICE) -> None:
        self.client, self.token, self.service = client, token, service

    def as_(self, token: str, service: str | None = None) -> Wingfield:
        return Wingfield(self.client, token, service or self.service)

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def booking_url(self, external_id: str) -> str:
        return f"{BASE}/external-services/{self.service}/court-bookings/by-external-id/{external_id}"

    def upsert(self, external_id: str, **fields: Any) -> httpx.Response:
        body = booking_body(**fields)
        return self.client.put(self.booking_url(external_id), json=body, headers=self.headers)

    def delete(self, external_id: str, external_updated_at: str | None) -> httpx.Response:
        params = {} if external_updated_at is None else {"externalUpdatedAt": external_updated_at}
        return self.client.delete(self.booking_url(external_id), params=params, headers=self.headers)

    def get(self, external_id: str) -> httpx.Response:
        return self.client.get(self.booking_url(external_id), headers=self.headers)

    def list(self, **params: Any) -> httpx.Response:
        url = f"{BASE}/external-services/{self.service}/court-bookings"
        return self.client.get(url, params=params, headers=self.headers)

    def ids(self, **params: Any) -> list[str]:
        response = self.list(**params)
        assert response.status_code == 200, response.text
        return [b["externalCourtBookingId"] for b in response.json()["items"]]

    def call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return self.client.request(method, BASE + path, headers={**self.headers, **kwargs.pop("headers", {})}, **kwargs)


def booking_body(**fields: Any) -> dict[str, Any]:
    body = {
        "courtId": COURT,
        "startDate": "2031-05-01T10:00:00Z",
        "endDate": "2031-05-01T11:00:00Z",
        "externalUpdatedAt": "2031-01-01T00:00:00Z",
        "participants": [{"userId": USERS["related"]}, {"email": "guest@example.com"}],
    }
    body.update(fields)
    return {k: v for k, v in body.items() if v is not None}


@pytest.fixture
def app():
    return create_app(validate_responses=True)


@pytest.fixture
def client(app) -> Iterator[httpx.Client]:
    with app.test_client() as test_client:
        test_client.event_hooks["response"] = [check_error_contract]
        yield test_client


@pytest.fixture
def api(client) -> Wingfield:
    return Wingfield(client)
