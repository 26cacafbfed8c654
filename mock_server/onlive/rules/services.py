"""Booking services: create, list, get, update, and the soft delete with rules O1-O4."""

from collections.abc import Callable, Mapping
from typing import Any

from mock_server.clock import Clock
from mock_server.onlive.errors import ERRORS
from mock_server.onlive.models import Service
from mock_server.onlive.store.base import OnliveStore
from mock_server.violations import RuleViolation

DEFAULTS = {
    "extraFields": {},
    "deniedMultipleAppointment": False,
    "allowOverlapping": False,
    "hasICall": False,
    "active": True,
    "condition": "one",
    "calendars": [],
    "dateRanges": [],
    "image": None,
    "userGroupId": None,
    "typeId": None,
}


def documented_error(kind: str) -> RuleViolation:
    return RuleViolation(kind, ERRORS[kind][1])


def invalid(field: str, message: str) -> RuleViolation:
    return RuleViolation(
        "invalid_schema", ERRORS["invalid_schema"][1], [{"path": ["body", *field.split(".")], "message": message}]
    )


class BookingServices:
    def __init__(self, store: OnliveStore, clock: Clock, new_id: Callable[[], str]) -> None:
        self.store, self.clock, self.new_id = store, clock, new_id

    def create(self, organization_id: str, body: Mapping[str, Any]) -> Service:
        fields = {**DEFAULTS, **body}
        self._check(organization_id, fields)
        now = self.clock.now()
        service = Service(self.new_id(), organization_id, fields, now, now, seq=self.store.next_seq())
        self.store.put_service(service)
        return service

    def get(self, organization_id: str, service_id: str) -> Service:
        """O2, O4: deleted and other organizations' services do not exist for the caller."""
        service = self.store.service(service_id)
        if service is None or service.deleted_at is not None or service.organization_id != organization_id:
            raise documented_error("service_not_found")
        return service

    def update(self, organization_id: str, service_id: str, body: Mapping[str, Any]) -> Service:
        service = self.get(organization_id, service_id)
        fields = {**service.fields, **body}
        self._check(organization_id, fields)
        if fields == service.fields:
            return service
        updated = Service(
            service.id,
            organization_id,
            fields,
            service.created_at,
            self.clock.now_after(service.updated_at),
            seq=service.seq,
        )
        self.store.put_service(updated)
        return updated

    def delete(self, organization_id: str, service_id: str) -> Service:
        """O1: soft delete, 200 with `deletedAt`; O3: refused while an appointment is active."""
        service = self.get(organization_id, service_id)
        now = self.clock.now()
        if any(a.blocks_service_delete(now) for a in self.store.appointments_of_service(service.id)):
            raise documented_error("service_has_active_appointments")
        deleted = Service(
            service.id,
            organization_id,
            service.fields,
            service.created_at,
            self.clock.now_after(service.updated_at),
            deleted_at=now,
            seq=service.seq,
        )
        self.store.put_service(deleted)
        return deleted

    def list(self, organization_id: str, filters: Mapping[str, Any]) -> list[Service]:
        search = (filters.get("search") or "").casefold()
        matches = []
        for service in self.store.services_of(organization_id):
            f = service.fields
            if service.deleted_at is not None or search not in f["name"].casefold():
                continue
            if any(filters.get(k) is not None and f.get(k) != filters[k] for k in ("name", "userGroupId", "typeId")):
                continue
            matches.append(service)
        return matches

    def _check(self, organization_id: str, fields: Mapping[str, Any]) -> None:
        if fields["maxTimeToSchedule"] < fields["minTimeToSchedule"]:
            raise invalid("maxTimeToSchedule", "must not be below minTimeToSchedule")
        for index, entry in enumerate(fields.get("calendars") or []):
            calendar = self.store.calendar(entry["calendarId"])
            if calendar is None or calendar.organization_id != organization_id:
                raise invalid(f"calendars.{index}.calendarId", "calendar not found")
