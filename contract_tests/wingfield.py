"""A partner's view of the Wingfield Partner API over HTTP, as the scenario tests use it; and the target's control
interface, for what happens outside that API."""

from __future__ import annotations

import contextlib
import random
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from .profile import DEFAULT_BOOKING_WINDOW, ControlTarget, WingfieldTarget
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
        self.related: list[tuple[Wingfield, str]] = []  # (client, user) whose relation the test made
        self.subscribed: list[tuple[Wingfield, str, str]] = []  # (client, organization, user) made PRO by the test

    def id(self, name: str = "b") -> str:
        return f"{self.prefix}-{name}"

    def at(self, hours: float) -> str:
        return iso(self.day + timedelta(hours=hours))

    @staticmethod
    def version(n: int) -> str:
        """Ordered externalUpdatedAt values: version(1) < version(2) < ..."""
        return iso(datetime(2030, 1, 1, tzinfo=UTC) + timedelta(minutes=n))

    def guest(self, name: str = "guest") -> dict[str, str]:
        return {"email": self.email(name)}

    def email(self, name: str = "user") -> str:
        """An e-mail address no other test, run or user has."""
        return f"{name}.{self.prefix}@example.com"


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

    # -- users and user relations ---------------------------------------------------------------------

    def user(self, user_id: str) -> httpx.Response:
        return self.call("GET", f"/users/{user_id}")

    def create_user(self, body: Any) -> httpx.Response:
        """A 200 is remembered: the new user's relation is deleted after the test (users cannot be deleted)."""
        response = self.call("POST", f"/external-services/{self.service}/users", json=body)
        if response.status_code == 200:
            self.scenario.related.append((self, response.json()["id"]))
        return response

    def new_user(self, name: str = "user", **fields: Any) -> dict[str, Any]:
        """Setup: a user of this test's own, created by (so managed by and related to) the service."""
        body = {
            "email": self.scenario.email(name),
            "externalUserId": self.scenario.id(name),
            "firstName": name.title(),
            "lastName": "Tester",
            **fields,
        }
        response = self.create_user(body)
        assert response.status_code == 200, response.text
        return response.json()

    def patch_user(self, user_id: str, body: Any) -> httpx.Response:
        return self.call("PATCH", f"/users/{user_id}", json=body)

    def users(self, **params: Any) -> httpx.Response:
        return self.call("GET", f"/external-services/{self.service}/users", params=params)

    def relation_path(self, user_id: str) -> str:
        return f"/external-services/{self.service}/users/{user_id}/relation"

    def request_relation(self, email: str, external_user_id: str, *, remove_after: bool = True) -> httpx.Response:
        """A 200 is remembered unless `remove_after` is false (a relation that existed before the test): the
        relation is deleted after the test."""
        body = {"email": email, "externalUserId": external_user_id}
        response = self.call("POST", f"/external-services/{self.service}/user-relations/request", json=body)
        if response.status_code == 200 and remove_after:
            self.scenario.related.append((self, response.json()["userId"]))
        return response

    def relation(self, user_id: str) -> httpx.Response:
        return self.call("GET", self.relation_path(user_id))

    def patch_relation(self, user_id: str, body: Any) -> httpx.Response:
        return self.call("PATCH", self.relation_path(user_id), json=body)

    def delete_relation(self, user_id: str) -> httpx.Response:
        return self.call("DELETE", self.relation_path(user_id))

    def relations(self, **params: Any) -> httpx.Response:
        return self.call("GET", f"/external-services/{self.service}/user-relations", params=params)

    # -- organizations ---------------------------------------------------------------------------------

    def claim(self, connect_token: Any, external_organization_id: Any) -> httpx.Response:
        """The caller removes a relation it created (a claim may also confirm a relation that existed before)."""
        body = {"connectToken": connect_token, "externalOrganizationId": external_organization_id}
        return self.call("POST", f"/external-services/{self.service}/organization-relations/claim", json=body)

    def delete_organization_relation(self, organization_id: str) -> httpx.Response:
        return self.call("DELETE", f"/external-services/{self.service}/organizations/{organization_id}/relation")

    def subscribe(self, organization_id: str, user_id: str, subscription: Any) -> httpx.Response:
        """A 200 to `PRO` is remembered: the subscription is set to `NONE` after the test."""
        response = self.call(
            "PUT", f"/organizations/{organization_id}/users/{user_id}/subscription", json={"subscription": subscription}
        )
        if response.status_code == 200 and subscription == "PRO":
            self.scenario.subscribed.append((self, organization_id, user_id))
        return response

    # -- sessions --------------------------------------------------------------------------------------

    def sessions(self, user_id: str, **params: Any) -> httpx.Response:
        return self.call("GET", f"/users/{user_id}/sessions", params=params)

    def session(self, session_id: str) -> httpx.Response:
        return self.call("GET", f"/sessions/{session_id}")

    def videos(self, session_id: str, **params: Any) -> httpx.Response:
        return self.call("GET", f"/sessions/{session_id}/videos", params=params)

    def cleanup(self) -> None:
        for client, external_id in reversed(self.scenario.created):
            client.delete(external_id, FAR_FUTURE_VERSION)
        for client, court_id in reversed(self.scenario.mapped):
            with contextlib.suppress(ErrorContractViolation):  # best effort: M3 has tests of its own
                client.delete_mapping(court_id)
        # Subscriptions and relations are removed with this client's token (a write token of the same service),
        # also those a more limited token made where the target let it.
        for client, organization_id, user_id in reversed(self.scenario.subscribed):  # before the user is invisible
            with contextlib.suppress(ErrorContractViolation):
                (self if client.service == self.service else client).subscribe(organization_id, user_id, "NONE")
        for client, user_id in reversed(dict.fromkeys(self.scenario.related)):
            with contextlib.suppress(ErrorContractViolation):  # a test may have deleted it already (404)
                (self if client.service == self.service else client).delete_relation(user_id)


class ControlError(AssertionError):
    pass


class Control:
    """The target's control interface (bookingkit's mock: its admin API, mock_server/admin.yaml): a user answers
    a relation request inside Wingfield (R8), an organization issues a connect token (G1). Not the partner API:
    its answers are not held to the partner API's error contract, and a refusal stops the test as a setup error."""

    def __init__(self, target: ControlTarget) -> None:
        self.http = httpx.Client(base_url=target.url, timeout=30, headers={"Authorization": f"Bearer {target.token}"})

    def close(self) -> None:
        self.http.close()

    def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        try:
            response = self.http.post(path, json=body)
        except httpx.HTTPError as exc:
            raise ControlError(f"wingfield.control: {self.http.base_url}{path} cannot be reached: {exc}") from None
        if response.status_code != 200:
            where = f"{self.http.base_url}{path}"
            raise ControlError(f"wingfield.control refused POST {where}: {response.status_code} {response.text[:300]}")
        return response.json()

    def answer_relation(self, service: str, user_id: str, status: str) -> dict[str, Any]:
        """The user's answer (ACCEPTED or REJECTED) to the service's relation request."""
        return self._post("/user-relations/answer", {"externalServiceId": service, "userId": user_id, "status": status})

    def issue_connect_token(self, organization_id: str, expires_at: str | None = None, state: str | None = None) -> str:
        """A new connect token of the organization: OPEN by default; `expires_at` in the past or `state` CLAIMED
        or CANCELLED make an unusable one."""
        body: dict[str, Any] = {"organizationId": organization_id}
        if expires_at is not None:
            body["expiresAt"] = expires_at
        if state is not None:
            body["state"] = state
        return self._post("/connect-tokens", body)["connectToken"]


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
