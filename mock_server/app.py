"""Builds the mock: one connexion app from openapi.yaml, wired to the rules and a store."""

import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import connexion
from connexion.middleware import MiddlewarePosition
from connexion.options import SwaggerUIOptions

from .clock import Clock
from .domain.bookings import CourtBookings
from .domain.courts import CourtMappings, Courts
from .domain.onlive.appointments import Appointments
from .domain.onlive.calendars import Calendars
from .domain.onlive.services import BookingServices
from .errors import install_error_handlers
from .handlers.appointments import AppointmentHandlers
from .handlers.booking_services import BookingServiceHandlers
from .handlers.calendars import CalendarHandlers
from .handlers.court_bookings import CourtBookingHandlers
from .handlers.court_mappings import CourtMappingHandlers
from .handlers.courts import CourtHandlers
from .onlive_gate import SignatureGate, organization_gate
from .resources import DEFAULT_FIXTURES, SPEC_PATH
from .security import token_gate
from .spec import SpecIndex, load_spec
from .validation import VALIDATOR_MAP
from .world import World, load_world


class Mock:
    """The state and rules behind one app: tests and tools reach the stores and clock through it."""

    def __init__(self, world: World, clock: Clock, new_id: Callable[[], str] = lambda: str(uuid.uuid4())) -> None:
        self.store, self.onlive_store, self.clock = world.wingfield, world.onlive, clock
        store, onlive = world.wingfield, world.onlive
        self.handlers = [
            CourtHandlers(Courts(store, clock)),
            CourtMappingHandlers(CourtMappings(store, clock)),
            CourtBookingHandlers(CourtBookings(store, clock)),
            BookingServiceHandlers(BookingServices(onlive, clock, new_id)),
            AppointmentHandlers(Appointments(onlive, clock, new_id)),
            CalendarHandlers(Calendars(onlive)),
        ]

    def resolve(self, operation_id: str) -> Any:
        for group in self.handlers:
            if hasattr(group, operation_id):
                return getattr(group, operation_id)
        raise LookupError(f"openapi.yaml names operationId {operation_id!r}, which no handler implements")


def create_app(
    fixtures: Path | None = None,
    *,
    validate_responses: bool = False,
    clock: Clock | None = None,
    spec_path: Path = SPEC_PATH,
) -> connexion.AsyncApp:
    """`validate_responses` makes a response that breaks the spec a 500: for tests, not for partners."""
    clock = clock or Clock()
    spec = load_spec(spec_path)
    world = load_world(fixtures or DEFAULT_FIXTURES, clock, spec)
    index = SpecIndex.build(spec)
    mock = Mock(world, clock)
    for item in spec["paths"].values():  # fail at start, not on the first request, when a handler is missing
        for operation in item.values():
            if isinstance(operation, dict) and "operationId" in operation:
                mock.resolve(operation["operationId"])

    app = connexion.AsyncApp(__name__)
    app.add_api(
        spec,
        resolver=mock.resolve,
        strict_validation=True,
        validate_responses=validate_responses,
        validator_map=VALIDATOR_MAP,
        security_map={"bearer": token_gate(world.wingfield, clock, index.scopes), "apiKey": organization_gate()},
        swagger_ui_options=SwaggerUIOptions(swagger_ui=True),
    )
    app.add_middleware(
        SignatureGate, position=MiddlewarePosition.BEFORE_SECURITY, store=world.onlive, clock=clock, index=index
    )
    install_error_handlers(app, index)
    app.mock = mock  # type: ignore[attr-defined]
    return app
