"""ONLIVE.SITE booking services: createService, listServices, getService, updateService, deleteBookingService."""

from typing import Any

from mock_server.onlive.handlers.representations import page_json, service_json
from mock_server.onlive.rules.services import BookingServices


class BookingServiceHandlers:
    def __init__(self, services: BookingServices) -> None:
        self.services = services

    async def createService(self, user: str, body: dict[str, Any]) -> tuple[dict[str, Any], int]:
        return service_json(self.services.create(user, body)), 201

    async def listServices(self, user: str, page: int = 1, limit: int = 20, **filters: Any) -> dict[str, Any]:
        return page_json(self.services.list(user, filters), service_json, page, limit)

    async def getService(self, user: str, id: str) -> dict[str, Any]:  # noqa: A002 - the spec's name
        return service_json(self.services.get(user, id))

    async def updateService(self, user: str, id: str, body: dict[str, Any]) -> dict[str, Any]:  # noqa: A002
        return service_json(self.services.update(user, id, body))

    async def deleteBookingService(self, user: str, id: str) -> dict[str, Any]:  # noqa: A002
        return service_json(self.services.delete(user, id))
