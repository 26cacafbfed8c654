"""JSON shapes of the domain objects, as the spec's read schemas describe them (B28: UTC with Z)."""

from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from mock_server.timestamps import format_instant
from mock_server.wingfield.models import Booking, Court, CourtMapping, Facility


def court_json(court: Court, facility: Facility, mapping: CourtMapping | None) -> dict[str, Any]:
    return {
        "id": court.id,
        "name": court.name,
        "facilityId": facility.id,
        "facilityName": facility.name,
        "systemInstalled": court.system_installed,
        "mapping": None
        if mapping is None
        else {
            "externalCourtId": mapping.external_court_id,
            "externalCourtName": mapping.external_court_name,
            "updatedAt": format_instant(mapping.updated_at),
        },
    }


def mapping_json(mapping: CourtMapping) -> dict[str, Any]:
    return {
        "externalServiceId": mapping.service_id,
        "courtId": mapping.court_id,
        "externalCourtId": mapping.external_court_id,
        "externalCourtName": mapping.external_court_name,
        "createdAt": format_instant(mapping.created_at),
        "updatedAt": format_instant(mapping.updated_at),
    }


class _Views:
    """The JSON of immutable records, built once and kept for the most recently shown ones: a list page shows
    the same bookings again and again. Keyed by identity; an entry holds its record, so its id stays its own."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._entries: OrderedDict[int, tuple[Any, dict[str, Any]]] = OrderedDict()

    def get(self, record: Any, render: Callable[[Any], dict[str, Any]]) -> dict[str, Any]:
        key = id(record)
        entry = self._entries.get(key)
        if entry is not None and entry[0] is record:
            self._entries.move_to_end(key)
            return entry[1]
        view = render(record)
        self._entries[key] = (record, view)
        if len(self._entries) > self.size:
            self._entries.popitem(last=False)
        return view


_BOOKINGS = _Views(4096)  # enough for the pages in flight; bounded whatever is stored


def booking_json(booking: Booking) -> dict[str, Any]:
    """Shared between answers: the caller must not change it."""
    return _BOOKINGS.get(booking, _booking_json)


def _booking_json(booking: Booking) -> dict[str, Any]:
    return {
        "externalServiceId": booking.service_id,
        "courtId": booking.court_id,
        "externalCourtBookingId": booking.external_id,
        "startDate": format_instant(booking.start),
        "endDate": format_instant(booking.end),
        "externalUpdatedAt": format_instant(booking.external_updated_at),
        "participants": [{"userId": p.user_id} if p.user_id else {"email": p.email} for p in booking.participants],
        "createdAt": format_instant(booking.created_at),
        "updatedAt": format_instant(booking.updated_at),
    }


def page_json(items: list[dict[str, Any]], total: int) -> dict[str, Any]:
    return {"items": items, "totalCount": total}
