"""The ONLIVE.SITE `OnliveStore` on SQL, beside the memory store it must answer like: its tables and rows are
ONLIVE.SITE's alone, so they live with the API; the machinery it shares with Wingfield does not."""

import json
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, Table, bindparam, func, literal_column, select

from mock_server.onlive.models import AccessKey, Appointment, Calendar, Service
from mock_server.onlive.models import Organization as OnliveOrganization
from mock_server.store import sql_schema as s
from mock_server.store.sql_database import (
    READ,
    Params,
    Row,
    SqlStoreBase,
    by_key,
    dumps,
    instant,
    maybe_instant,
    maybe_micros,
    next_counter,
    read_counter,
)
from mock_server.timestamps import to_micros

CALENDAR_FIELDS = ["id", "organization_id", "fields", "created_us", "updated_us"]
CALENDAR_COLUMNS = [s.onlive_calendars.c[name] for name in CALENDAR_FIELDS]
SERVICE_FIELDS = ["id", "organization_id", "fields", "created_us", "updated_us", "deleted_us", "seq"]
SERVICE_COLUMNS = [s.onlive_services.c[name] for name in SERVICE_FIELDS]
APPOINTMENT_FIELDS = [
    "id",
    "organization_id",
    "service_id",
    "calendar_ids",
    "start_us",
    "end_us",
    "state",
    "created_us",
    "updated_us",
    "fields",
    "deleted_us",
]
APPOINTMENT_COLUMNS = [s.onlive_appointments.c[name] for name in APPOINTMENT_FIELDS]


def _calendar(row: Row) -> Calendar:
    id_, organization_id, fields, created_us, updated_us = row
    return Calendar(id_, organization_id, json.loads(fields), instant(created_us), instant(updated_us))


def calendar_row(calendar: Calendar) -> Params:
    return {
        "id": calendar.id,
        "organization_id": calendar.organization_id,
        "fields": dumps(calendar.fields),
        "created_us": to_micros(calendar.created_at),
        "updated_us": to_micros(calendar.updated_at),
    }


def _service(row: Row) -> Service:
    id_, organization_id, fields, created_us, updated_us, deleted_us, seq = row
    return Service(
        id_,
        organization_id,
        json.loads(fields),
        instant(created_us),
        instant(updated_us),
        maybe_instant(deleted_us),
        seq,
    )


def service_row(service: Service) -> Params:
    return {
        "id": service.id,
        "organization_id": service.organization_id,
        "fields": dumps(service.fields),
        "created_us": to_micros(service.created_at),
        "updated_us": to_micros(service.updated_at),
        "deleted_us": maybe_micros(service.deleted_at),
        "seq": service.seq,
    }


def _appointment(row: Row) -> Appointment:
    id_, organization_id, service_id, calendar_ids, start, end, state, created, updated, fields, deleted = row
    return Appointment(
        id_,
        organization_id,
        service_id,
        tuple(json.loads(calendar_ids)),
        instant(start),
        instant(end),
        state,
        instant(created),
        instant(updated),
        json.loads(fields),
        maybe_instant(deleted),
    )


def appointment_row(appointment: Appointment) -> Params:
    return {
        "id": appointment.id,
        "organization_id": appointment.organization_id,
        "service_id": appointment.service_id,
        "calendar_ids": dumps(list(appointment.calendar_ids)),
        "start_us": to_micros(appointment.start),
        "end_us": to_micros(appointment.end),
        "state": appointment.state,
        "created_us": to_micros(appointment.created_at),
        "updated_us": to_micros(appointment.updated_at),
        "fields": dumps(appointment.fields),
        "deleted_us": maybe_micros(appointment.deleted_at),
    }


class SqlOnliveStore(SqlStoreBase):
    """The ONLIVE.SITE `OnliveStore` (base.py) on SQL: the same answers and orders as OnliveMemoryStore."""

    def dump(self) -> dict[str, Any]:
        return self._db.do(READ, self._dump)

    def _dump(self, c: Connection) -> dict[str, Any]:
        def rows(table: Table, columns: list[Any]) -> list[Row]:
            return self._db.rows(c, self._db.sql(("dump", table.name), lambda: select(*columns).order_by(table.c.pos)))

        o, k = s.onlive_organizations, s.onlive_access_keys
        return {
            "organizations": [OnliveOrganization(*r) for r in rows(o, [o.c.id, o.c.name])],
            "access_keys": [AccessKey(*r) for r in rows(k, [k.c.id, k.c.secret, k.c.organization_id])],
            "calendars": [_calendar(r) for r in rows(s.onlive_calendars, CALENDAR_COLUMNS)],
            "services": [_service(r) for r in rows(s.onlive_services, SERVICE_COLUMNS)],
            "appointments": [_appointment(r) for r in rows(s.onlive_appointments, APPOINTMENT_COLUMNS)],
            "seq": read_counter(self._db, c, "onlive_seq"),
        }

    def add_organization(self, organization: OnliveOrganization) -> None:
        t = s.onlive_organizations
        self._write(
            "ol_add_organization",
            lambda: self._db.upsert(t, ["id"]),
            {"id": organization.id, "name": organization.name},
        )
        self._world.clear()

    def organizations(self) -> Iterable[OnliveOrganization]:
        t = s.onlive_organizations
        rows = self._rows("ol_organizations", lambda: select(t.c.id, t.c.name).order_by(t.c.pos))
        return [OnliveOrganization(*row) for row in rows]

    def add_access_key(self, key: AccessKey) -> None:
        t = s.onlive_access_keys
        values = {"id": key.id, "secret": key.secret, "organization_id": key.organization_id}
        self._write("ol_add_access_key", lambda: self._db.upsert(t, ["id"]), values)
        self._world.clear()

    def access_key(self, key_id: str) -> AccessKey | None:
        t = s.onlive_access_keys

        def fetch(key: str) -> AccessKey | None:
            row = self._first(
                "ol_access_key",
                lambda: select(t.c.id, t.c.secret, t.c.organization_id).where(by_key(t, "id")),
                {"id": key},
            )
            return None if row is None else AccessKey(*row)

        return self._world.get("access_keys", key_id, fetch)

    def access_keys(self) -> Iterable[AccessKey]:
        t = s.onlive_access_keys
        rows = self._rows("ol_access_keys", lambda: select(t.c.id, t.c.secret, t.c.organization_id).order_by(t.c.pos))
        return [AccessKey(*row) for row in rows]

    def next_seq(self) -> int:
        return next_counter(self._db, "onlive_seq")

    def put_calendar(self, calendar: Calendar) -> None:
        self._write("ol_put_calendar", lambda: self._db.upsert(s.onlive_calendars, ["id"]), calendar_row(calendar))

    def calendar(self, calendar_id: str) -> Calendar | None:
        t = s.onlive_calendars
        row = self._first("ol_calendar", lambda: select(*CALENDAR_COLUMNS).where(by_key(t, "id")), {"id": calendar_id})
        return None if row is None else _calendar(row)

    def calendars_of(self, organization_id: str) -> Iterable[Calendar]:
        t = s.onlive_calendars
        rows = self._rows(
            "ol_calendars_of",
            lambda: select(*CALENDAR_COLUMNS).where(by_key(t, "organization_id")).order_by(t.c.pos),
            {"organization_id": organization_id},
        )
        return [_calendar(row) for row in rows]

    def put_service(self, service: Service) -> None:
        self._write("ol_put_service", lambda: self._db.upsert(s.onlive_services, ["id"]), service_row(service))

    def service(self, service_id: str) -> Service | None:
        t = s.onlive_services
        row = self._first("ol_service", lambda: select(*SERVICE_COLUMNS).where(by_key(t, "id")), {"id": service_id})
        return None if row is None else _service(row)

    def services_of(self, organization_id: str) -> Iterable[Service]:
        t = s.onlive_services
        rows = self._rows(
            "ol_services_of",
            lambda: select(*SERVICE_COLUMNS).where(by_key(t, "organization_id")).order_by(t.c.pos),
            {"organization_id": organization_id},
        )
        return [_service(row) for row in rows]

    def put_appointment(self, appointment: Appointment) -> None:
        """A put moves the appointment to the end of its service's list, as in OnliveMemoryStore."""
        t = s.onlive_appointments
        if self._db.postgres:
            order: Any = s.ONLIVE_ORDER.next_value()
        else:
            order = (
                select(func.coalesce(func.max(t.c.service_pos), literal_column("0")) + literal_column("1"))
                .where(t.c.service_id == bindparam("service_id"))
                .scalar_subquery()
            )
        self._write(
            "ol_put_appointment",
            lambda: self._db.upsert(t, ["id"], {"service_pos": order}),
            appointment_row(appointment),
        )

    def appointment(self, appointment_id: str) -> Appointment | None:
        t = s.onlive_appointments
        row = self._first(
            "ol_appointment", lambda: select(*APPOINTMENT_COLUMNS).where(by_key(t, "id")), {"id": appointment_id}
        )
        return None if row is None else _appointment(row)

    def appointments_of(self, organization_id: str) -> Iterable[Appointment]:
        t = s.onlive_appointments
        rows = self._rows(
            "ol_appointments_of",
            lambda: select(*APPOINTMENT_COLUMNS).where(by_key(t, "organization_id")).order_by(t.c.pos),
            {"organization_id": organization_id},
        )
        return [_appointment(row) for row in rows]

    def appointments_of_service(self, service_id: str) -> Iterable[Appointment]:
        t = s.onlive_appointments
        rows = self._rows(
            "ol_appointments_of_service",
            lambda: select(*APPOINTMENT_COLUMNS).where(by_key(t, "service_id")).order_by(t.c.service_pos),
            {"service_id": service_id},
        )
        return [_appointment(row) for row in rows]
