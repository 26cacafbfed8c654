"""ONLIVE.SITE appointments: createAppointment, listAppointments, getAppointment, updateAppointment."""

from typing import Any

from mock_server.onlive.handlers.representations import appointment_json, page_json
from mock_server.onlive.rules.appointments import Appointments


class AppointmentHandlers:
    def __init__(self, appointments: Appointments) -> None:
        self.appointments = appointments

    async def createAppointment(self, user: str, body: dict[str, Any]) -> tuple[dict[str, Any], int]:
        return appointment_json(self.appointments.create(user, body)), 201

    async def listAppointments(self, user: str, page: int = 1, limit: int = 20, **filters: Any) -> dict[str, Any]:
        return page_json(self.appointments.list(user, filters), appointment_json, page, limit)

    async def getAppointment(self, user: str, appointmentId: str) -> dict[str, Any]:
        return appointment_json(self.appointments.get(user, appointmentId))

    async def updateAppointment(self, user: str, appointmentId: str, body: dict[str, Any]) -> dict[str, Any]:
        return appointment_json(self.appointments.update(user, appointmentId, body))
