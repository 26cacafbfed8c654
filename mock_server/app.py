"""Builds the mock: one connexion app from openapi.yaml, wired to the rules and a store."""

import contextlib
import random
import secrets
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from connexion.middleware import MiddlewarePosition
from connexion.options import SwaggerUIOptions

from bookingkit.files import DEFAULT_WORLD, SPEC_PATH

from .clock import Clock
from .collector import paced_collector
from .control.access_log import AccessLog
from .control.admin import AdminHandlers, admin_gate
from .control.faults import FaultInjector, Faults
from .control.journal import Journal, JournalMiddleware
from .control.snapshot import export_state, import_state
from .domain.bookings import CourtBookings
from .domain.courts import CourtMappings, Courts
from .domain.onlive.appointments import Appointments
from .domain.onlive.calendars import Calendars
from .domain.onlive.services import BookingServices
from .engine import MockApp
from .errors import install_error_handlers
from .handlers.appointments import AppointmentHandlers
from .handlers.booking_services import BookingServiceHandlers
from .handlers.calendars import CalendarHandlers
from .handlers.court_bookings import CourtBookingHandlers
from .handlers.court_mappings import CourtMappingHandlers
from .handlers.courts import CourtHandlers
from .onlive_gate import SignatureGate, organization_gate
from .resources import ADMIN_SPEC_PATH
from .security import token_gate
from .spec import SpecIndex, load_spec
from .validation import VALIDATOR_MAP
from .world import World, build_world, load_world


class Mock:
    """The state and rules behind one app, and their controls: the admin API and tests act through it."""

    def __init__(
        self,
        world: World,
        clock: Clock,
        spec: dict[str, Any],
        world_source: Path | dict[str, Any],
        index: SpecIndex,
        seed: int | None = None,
    ) -> None:
        self.store, self.onlive_store, self.clock = world.wingfield, world.onlive, clock
        self.spec, self.world_source = spec, world_source
        self.faults, self.journal = Faults(index, seed), Journal()
        ids = random.Random(seed)

        def new_id() -> str:  # seeded: a repeated run creates the same ids
            return str(uuid.UUID(int=ids.getrandbits(128), version=4))

        store, onlive = world.wingfield, world.onlive
        self.handlers = [
            CourtHandlers(Courts(store, clock)),
            CourtMappingHandlers(CourtMappings(store, clock)),
            CourtBookingHandlers(CourtBookings(store, clock)),
            BookingServiceHandlers(BookingServices(onlive, clock, new_id)),
            AppointmentHandlers(Appointments(onlive, clock, new_id)),
            CalendarHandlers(Calendars(onlive)),
        ]

    def reset(self) -> None:
        self._adopt(self._build(self.world_source))

    def load_world_document(self, document: dict[str, Any]) -> None:
        world = self._build(document)  # raises WorldError, and the state stays
        self.world_source = document
        self._adopt(world)

    def export_state(self) -> dict[str, Any]:
        return export_state(self.store, self.onlive_store)

    def import_state(self, document: Any) -> None:
        wingfield, onlive = import_state(document)  # raises SnapshotError, and the state stays
        self._adopt(World(wingfield, onlive))

    def _build(self, source: Path | dict[str, Any]) -> World:
        if isinstance(source, dict):
            return build_world(source, "PUT /__admin/fixtures", self.clock, self.spec)
        return load_world(source, self.clock, self.spec)

    def _adopt(self, world: World) -> None:
        self.store.adopt(world.wingfield)
        self.onlive_store.adopt(world.onlive)

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
    admin_token: str | None = None,
    seed: int | None = None,
    access_log: AccessLog | None = None,
) -> MockApp:
    """`validate_responses` makes a response that breaks the spec a 500: for tests, not for partners.
    Without `admin_token`, one is generated (the CLI prints it)."""
    clock = clock or Clock()
    spec = load_spec(spec_path)
    source = fixtures or DEFAULT_WORLD
    world = load_world(source, clock, spec)
    index = SpecIndex.build(spec)
    mock = Mock(world, clock, spec, source, index, seed)
    mock.admin_token = admin_token or secrets.token_urlsafe(18)
    for item in spec["paths"].values():  # fail at start, not on the first request, when a handler is missing
        for operation in item.values():
            if isinstance(operation, dict) and "operationId" in operation:
                mock.resolve(operation["operationId"])

    @contextlib.asynccontextmanager
    async def lifespan(_: object) -> AsyncIterator[None]:
        async with paced_collector():
            try:
                yield
            finally:
                if access_log is not None:
                    access_log.flush()

    app = MockApp(__name__, validate_responses=validate_responses, lifespan=lifespan)
    app.add_api(
        spec,
        resolver=mock.resolve,
        strict_validation=True,
        validate_responses=validate_responses,
        validator_map=VALIDATOR_MAP,
        security_map={"bearer": token_gate(world.wingfield, clock, index.scopes), "apiKey": organization_gate()},
        swagger_ui_options=SwaggerUIOptions(swagger_ui=True),
    )
    admin = AdminHandlers(mock)
    app.add_api(
        ADMIN_SPEC_PATH,
        base_path="/__admin",
        resolver=lambda operation_id: getattr(admin, operation_id),
        strict_validation=True,
        validator_map=VALIDATOR_MAP,
        security_map={"bearer": admin_gate(mock.admin_token)},
        swagger_ui_options=SwaggerUIOptions(swagger_ui=True),
    )
    app.add_middleware(
        JournalMiddleware,
        position=MiddlewarePosition.BEFORE_EXCEPTION,
        journal=mock.journal,
        index=index,
        access_log=access_log,
    )
    app.add_middleware(
        SignatureGate, position=MiddlewarePosition.BEFORE_SECURITY, store=world.onlive, clock=clock, index=index
    )
    app.add_middleware(FaultInjector, position=MiddlewarePosition.BEFORE_VALIDATION, faults=mock.faults, index=index)
    install_error_handlers(app, index)
    app.mock = mock  # type: ignore[attr-defined]
    return app
