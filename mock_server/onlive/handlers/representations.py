"""JSON shapes of ONLIVE.SITE resources, as the spec's read schemas describe them (UTC, milliseconds, Z)."""

from typing import Any

from mock_server.onlive.models import Appointment, Calendar, Service
from mock_server.timestamps import format_instant_ms


def _when(moment: Any) -> str | None:
    return None if moment is None else format_instant_ms(moment)


SERVICE_ORDER = (
    "name",
    "duration",
    "timeBetween",
    "minTimeToSchedule",
    "maxTimeToSchedule",
    "incrementTime",
    "condition",
    "extraFields",
)  # the docs' example order; the other fields follow


def service_json(service: Service) -> dict[str, Any]:
    documented = {name: service.fields[name] for name in SERVICE_ORDER}
    return {
        "id": service.id,
        "deletedAt": _when(service.deleted_at),
        "createdAt": _when(service.created_at),
        "updatedAt": _when(service.updated_at),
        **documented,
        **service.fields,
        "organizationId": service.organization_id,
    }


def appointment_json(appointment: Appointment) -> dict[str, Any]:
    return {
        "id": appointment.id,
        "deletedAt": _when(appointment.deleted_at),
        "createdAt": _when(appointment.created_at),
        "updatedAt": _when(appointment.updated_at),
        **appointment.fields,
        "start": _when(appointment.start),
        "end": _when(appointment.end),
        "calendarIds": list(appointment.calendar_ids),
        "serviceId": appointment.service_id,
        "state": appointment.state,
        "blocked": False,
        "organizationId": appointment.organization_id,
    }


def calendar_json(calendar: Calendar) -> dict[str, Any]:
    return {
        "id": calendar.id,
        **calendar.fields,
        "organizationId": calendar.organization_id,
        "createdAt": _when(calendar.created_at),
        "updatedAt": _when(calendar.updated_at),
    }


def page_json(items: list[Any], render: Any, page: int, limit: int) -> dict[str, Any]:
    start = (page - 1) * limit
    return {
        "items": [render(item) for item in items[start : start + limit]],
        "page": page,
        "limit": limit,
        "total": len(items),
    }
