"""Appointments: create, list, get, update; their state decides whether a service can be deleted (O3)."""

from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

from mock_server.clock import Clock
from mock_server.instants import instant
from mock_server.onlive.models import Appointment
from mock_server.onlive.rules.services import BookingServices, documented_error, invalid
from mock_server.onlive.store.base import OnliveStore
from mock_server.violations import RuleViolation

DEFAULTS = {
    "title": None,
    "description": None,
    "lang": None,
    "reminders": [],
    "guests": [],
    "extraFields": {},
    "origin": None,
    "externalId": None,
    "allowOverlapping": False,
    "classification": None,
    "event": None,
    "agentComment": None,
}
CORE = ("start", "end", "calendarIds", "serviceId", "state")


class Appointments:
    def __init__(self, store: OnliveStore, clock: Clock, new_id: Callable[[], str]) -> None:
        self.store, self.clock, self.new_id = store, clock, new_id
        self.services = BookingServices(store, clock, new_id)

    def create(self, organization_id: str, body: Mapping[str, Any]) -> Appointment:
        start, end = instant(body["start"], ["body", "start"]), instant(body["end"], ["body", "end"])
        if not start < end:
            raise invalid("end", "must be after start")
        for index, calendar_id in enumerate(body["calendarIds"]):
            calendar = self.store.calendar(calendar_id)
            if calendar is None or calendar.organization_id != organization_id:
                raise invalid(f"calendarIds.{index}", "calendar not found")
        service_id = body.get("serviceId")
        user_group = None
        if service_id is not None:
            try:
                service = self.services.get(organization_id, service_id)  # live and ours (O2, O4)
            except RuleViolation:
                raise invalid("serviceId", "service not found") from None
            user_group = service.fields.get("userGroupId")
        now = self.clock.now()
        fields = {**DEFAULTS, "userGroupId": user_group, **{k: v for k, v in body.items() if k not in CORE}}
        appointment = Appointment(
            self.new_id(),
            organization_id,
            service_id,
            tuple(body["calendarIds"]),
            start,
            end,
            "pending",
            now,
            now,
            fields,
        )
        self.store.put_appointment(appointment)
        return appointment

    def get(self, organization_id: str, appointment_id: str) -> Appointment:
        appointment = self.store.appointment(appointment_id)
        if appointment is None or appointment.deleted_at is not None or appointment.organization_id != organization_id:
            raise documented_error("appointment_not_found")
        return appointment

    def update(self, organization_id: str, appointment_id: str, body: Mapping[str, Any]) -> Appointment:
        """Partial; `state: cancelled` is how an appointment stops blocking its service's delete (O3)."""
        appointment = self.get(organization_id, appointment_id)
        start = instant(body["start"], ["body", "start"]) if "start" in body else appointment.start
        end = instant(body["end"], ["body", "end"]) if "end" in body else appointment.end
        if not start < end:
            raise invalid("end", "must be after start")
        fields = {**appointment.fields, **{k: v for k, v in body.items() if k not in CORE}}
        changed = replace(appointment, start=start, end=end, state=body.get("state", appointment.state), fields=fields)
        if changed == appointment:
            return appointment
        changed = replace(changed, updated_at=self.clock.now_after(appointment.updated_at))
        self.store.put_appointment(changed)
        return changed

    def list(self, organization_id: str, filters: Mapping[str, Any]) -> list[Appointment]:
        found = [
            a
            for a in self.store.appointments_of(organization_id)
            if a.deleted_at is None
            and (filters.get("serviceId") is None or a.service_id == filters["serviceId"])
            and (filters.get("calendarId") is None or filters["calendarId"] in a.calendar_ids)
            and (filters.get("state") is None or a.state == filters["state"])
        ]
        return sorted(found, key=lambda a: (a.start, a.id))
