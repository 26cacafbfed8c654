"""A partner's view of the Wingfield court-booking API over HTTP, as the scenario tests use it."""

from __future__ import annotations

import contextlib
import random
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from .profile import DEFAULT_BOOKING_WINDOW, WingfieldTarget
from .spec import error_contract_problems

FAR_FUTURE_VERSION = "2999-12-31T23:59:59Z"  # what cleanup deletes with: newer than anything a test writes


class ErrorContractViolation(AssertionError):
    pass


def check_error_contract(response: httpx.Response) -> None:
    """Every error a scenario provokes must be the envelope with a type its operation documents (A5)."""
    if response.status_code < 400:
        return
    response.read()
    try:
        body = response.json()
    except ValueError:
        body = response.text
    base_path = httpx.URL(str(response.request.url)).path
    path = base_path.split("/api/v1", 1)[-1] if "/api/v1" in base_path else base_path
    problems = error_contract_problems(
        response.request.method,
        path,
        response.status_code,
        response.headers.get("content-type", ""),
        body,
        response.headers.get("allow"),
    )
    if problems:
        raise ErrorContractViolation(f"{response.request.method} {base_path} -> {response.status_code}: {problems}")


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


class Scenario:
    """One test's own corner of a shared environment: unique ids, a random day of the profile's booking window
    (by default in the 2090s), cleanup."""

    def __init__(self, booking_window: tuple[datetime, datetime] = DEFAULT_BOOKING_WINDOW) -> None:
        self.prefix = f"ct-{uuid.uuid4().hex[:12]}"
        first = booking_window[0].replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
        days = (booking_window[1] - first).days - 1  # a whole day inside the window, with a margin on each side
        self.day = first + timedelta(days=random.randrange(max(days, 1)))
        self.created: list[tuple[Wingfield, str]] = []
        self.mapped: list[tuple[Wingfield, str]] = []  # (client, court) whose mapping the test wrote

    def id(self, name: str = "b") -> str:
        return f"{self.prefix}-{name}"

    def at(self, hours: float) -> str:
        return iso(self.day + timedelta(hours=hours))

    @staticmethod
    def version(n: int) -> str:
        """Ordered externalUpdatedAt values: version(1) < version(2) < ..."""
        return iso(datetime(2030, 1, 1, tzinfo=UTC) + timedelta(minutes=n))

    def guest(self, name: str = "guest") -> dict[str, str]:
        return {"email": f"{name}.{self.prefix}@example.com"}


class Wingfield:
    """Calls as one token, for one external service; remembers what it created so it can be removed."""

    def __init__(
        self,
        target: WingfieldTarget,
        scenario: Scenario,
        token: str,
        service: str | None = None,
        http: httpx.Client | None = None,
    ) -> None:
        self.target, self.scenario, self.token = target, scenario, token
        self.service = service or target.external_service_id
        self.http = http or httpx.Client(
            base_url=target.base_url, timeout=30, event_hooks={"response": [check_error_contract]}
        )

    def as_(self, token: str, service: str | None = None) -> Wingfield:
        """The same connection, another token (and service)."""
        return Wingfield(self.target, self.scenario, token, service or self.service, self.http)

    def close(self) -> None:
        self.http.close()

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {**self.headers, **kwargs.pop("headers", {})}
        return self.http.request(method, path, headers=headers, **kwargs)

    def booking_path(self, external_id: str) -> str:
        return f"/external-services/{self.service}/court-bookings/by-external-id/{external_id}"

    def body(self, **fields: Any) -> dict[str, Any]:
        body = {
            "courtId": self.target.granted_courts[0],
            "startDate": self.scenario.at(0),
            "endDate": self.scenario.at(1),
            "externalUpdatedAt": self.scenario.version(1),
            "participants": [self.scenario.guest()],
        }
        body.update(fields)
        return {k: v for k, v in body.items() if v is not None}

    def upsert(self, external_id: str, **fields: Any) -> httpx.Response:
        response = self.call("PUT", self.booking_path(external_id), json=self.body(**fields))
        if response.status_code == 200:
            self.scenario.created.append((self, external_id))
        return response

    def delete(self, external_id: str, external_updated_at: str | None) -> httpx.Response:
        params = {} if external_updated_at is None else {"externalUpdatedAt": external_updated_at}
        return self.call("DELETE", self.booking_path(external_id), params=params)

    def get(self, external_id: str) -> httpx.Response:
        return self.call("GET", self.booking_path(external_id))

    def list(self, **params: Any) -> httpx.Response:
        return self.call("GET", f"/external-services/{self.service}/court-bookings", params=params)

    def own_ids(self, **params: Any) -> list[str]:
        """The ids of this scenario's bookings in a list answer, in its order (others' data is ignored)."""
        response = self.list(**params)
        assert response.status_code == 200, response.text
        ids = [b["externalCourtBookingId"] for b in response.json()["items"]]
        return [i for i in ids if i.startswith(self.scenario.prefix)]

    # -- courts and court mappings ---------------------------------------------------------------------

    def court(self, court_id: str) -> httpx.Response:
        return self.call("GET", f"/courts/{court_id}")

    def facility_courts(self, facility_id: str, **params: Any) -> httpx.Response:
        return self.call("GET", f"/facilities/{facility_id}/courts", params=params)

    def mapping_path(self, court_id: str) -> str:
        return f"/external-services/{self.service}/courts/{court_id}/mapping"

    def mapping(self, court_id: str) -> httpx.Response:
        return self.call("GET", self.mapping_path(court_id))

    def put_mapping(self, court_id: str, body: Any) -> httpx.Response:
        """Any 200 is remembered: the court's mapping is deleted after the test."""
        response = self.call("PUT", self.mapping_path(court_id), json=body)
        if response.status_code == 200:
            self.scenario.mapped.append((self, court_id))
        return response

    def delete_mapping(self, court_id: str) -> httpx.Response:
        return self.call("DELETE", self.mapping_path(court_id))

    def mappings(self, **params: Any) -> httpx.Response:
        return self.call("GET", f"/external-services/{self.service}/court-mappings", params=params)

    def cleanup(self) -> None:
        for client, external_id in reversed(self.scenario.created):
            client.delete(external_id, FAR_FUTURE_VERSION)
        for client, court_id in reversed(self.scenario.mapped):
            with contextlib.suppress(ErrorContractViolation):  # best effort: M3 has tests of its own
                client.delete_mapping(court_id)


def every_page(fetch: Any, limit: int = 1) -> tuple[list[dict[str, Any]], set[int]]:
    """Walk a Wingfield list page by page (`fetch(offset=, limit=)`): its items in page order, and every
    `totalCount` seen (one value when the list held still). P4: only that paging is stable and complete."""
    items: list[dict[str, Any]] = []
    totals: set[int] = set()
    offset = 0
    while True:
        response = fetch(offset=offset, limit=limit)
        assert response.status_code == 200, response.text
        page = response.json()
        totals.add(page["totalCount"])
        assert len(page["items"]) <= limit, f"a page of limit {limit} held {len(page['items'])} items"
        items += page["items"]
        offset += limit
        if offset >= page["totalCount"] or not page["items"]:
            return items, totals
