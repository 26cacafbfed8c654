"""A partner's view of the ONLIVE.SITE API over HTTP: every request signed over the bytes it sends."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from bookingkit import signing

from .profile import OnliveTarget
from .wingfield import check_error_contract


class Onlive:
    """Signs as one access key; remembers the services and appointments it created, to remove them after."""

    def __init__(
        self, target: OnliveTarget, key: str | None = None, secret: str | None = None, http: httpx.Client | None = None
    ) -> None:
        self.target = target
        self.key, self.secret = key or target.access_key_id, secret or target.secret_access_key
        self.http = http or httpx.Client(timeout=30, event_hooks={"response": [check_error_contract]})
        self.prefix = f"ct-{uuid.uuid4().hex[:12]}"
        self.services: list[str] = []
        self.appointments: list[str] = []

    def as_(self, key: str, secret: str) -> Onlive:
        other = Onlive(self.target, key, secret, self.http)
        other.prefix, other.services, other.appointments = self.prefix, self.services, self.appointments
        return other

    def url(self, path: str) -> str:
        return self.target.base_url + path

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        headers: dict[str, str] | None = None,
        signed: bool = True,
        now: datetime | None = None,
    ) -> httpx.Response:
        """`path` may carry a query, sent and signed exactly as written."""
        raw = b"" if body is None else json.dumps(body).encode()
        sent = {"Content-Type": "application/json"}
        if signed:
            sent.update(signing.sign(method, self.url(path), raw, self.key, self.secret, now).as_dict())
        sent.update(headers or {})
        return self.http.request(method, self.url(path), content=raw, headers=sent)

    def create_service(self, **fields: Any) -> httpx.Response:
        body = {
            "name": f"{self.prefix} service",
            "duration": 30,
            "timeBetween": 0,
            "minTimeToSchedule": 0,
            "maxTimeToSchedule": 90,
            "incrementTime": 30,
            **fields,
        }
        response = self.request("POST", "/services", body)
        if response.status_code in (200, 201):
            self.services.append(response.json()["id"])
        return response

    def create_appointment(self, service_id: str | None, start: datetime, minutes: int = 30) -> httpx.Response:
        body = {
            "start": start.isoformat().replace("+00:00", "Z"),
            "end": (start + timedelta(minutes=minutes)).isoformat().replace("+00:00", "Z"),
            "calendarIds": [self.target.calendar_id],
            "title": f"{self.prefix} appointment",
        }
        if service_id:
            body["serviceId"] = service_id
        response = self.request("POST", "/appointments", body)
        if response.status_code in (200, 201):
            self.appointments.append(response.json()["id"])
        return response

    def cleanup(self) -> None:
        """v1 has no appointment delete: what the test made is cancelled, then its services deleted."""
        for appointment_id in self.appointments:
            self.request("PUT", f"/appointments/{appointment_id}", {"state": "cancelled"})
        for service_id in self.services:
            self.request("DELETE", f"/booking-services/{service_id}")
        self.http.close()


def future(days: int = 400) -> datetime:
    return (datetime.now(UTC) + timedelta(days=days)).replace(microsecond=0)
