"""Builds the mock: one connexion app from openapi.yaml, wired to the rules and a store."""

from pathlib import Path
from typing import Any

import connexion
from connexion.options import SwaggerUIOptions

from .clock import Clock
from .domain.bookings import CourtBookings
from .domain.courts import CourtMappings, Courts
from .errors import install_error_handlers
from .handlers.court_bookings import CourtBookingHandlers
from .handlers.court_mappings import CourtMappingHandlers
from .handlers.courts import CourtHandlers
from .resources import DEFAULT_FIXTURES, SPEC_PATH
from .security import token_gate
from .spec import SpecIndex, load_spec
from .store.base import Store
from .validation import VALIDATOR_MAP
from .world import load_world


class Mock:
    """The state and rules behind one app: tests and tools reach the store and clock through it."""

    def __init__(self, store: Store, clock: Clock) -> None:
        self.store = store
        self.clock = clock
        self.handlers = [
            CourtHandlers(Courts(store, clock)),
            CourtMappingHandlers(CourtMappings(store, clock)),
            CourtBookingHandlers(CourtBookings(store, clock)),
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
    store = load_world(fixtures or DEFAULT_FIXTURES, clock)
    spec = load_spec(spec_path)
    index = SpecIndex.build(spec)
    mock = Mock(store, clock)
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
        security_map={"bearer": token_gate(store, clock, index.scopes)},
        swagger_ui_options=SwaggerUIOptions(swagger_ui=True),
    )
    install_error_handlers(app, index)
    app.mock = mock  # type: ignore[attr-defined]
    return app
