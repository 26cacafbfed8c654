"""Court bookings: listCourtBookings, getCourtBooking, upsertCourtBooking, deleteCourtBooking."""

from typing import Any

from mock_server.wingfield.handlers.representations import booking_json, page_json
from mock_server.wingfield.rules.bookings import CourtBookings


class CourtBookingHandlers:
    def __init__(self, bookings: CourtBookings) -> None:
        self.bookings = bookings

    async def listCourtBookings(self, user: str, externalServiceId: str, **filters: Any) -> dict[str, Any]:
        found, total = self.bookings.list(user, filters)
        return page_json([booking_json(b) for b in found], total)

    async def getCourtBooking(self, user: str, externalServiceId: str, externalCourtBookingId: str) -> dict[str, Any]:
        return booking_json(self.bookings.get(user, externalCourtBookingId))

    async def upsertCourtBooking(
        self, user: str, externalServiceId: str, externalCourtBookingId: str, body: dict[str, Any]
    ) -> dict[str, Any]:
        return booking_json(self.bookings.upsert(user, externalCourtBookingId, body))

    async def deleteCourtBooking(
        self, user: str, externalServiceId: str, externalCourtBookingId: str, externalUpdatedAt: str
    ) -> dict[str, Any]:
        self.bookings.delete(user, externalCourtBookingId, externalUpdatedAt)
        return {}
