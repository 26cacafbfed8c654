"""Builds the mock: one connexion app from openapi.yaml, wired to the rules and a backend."""

import contextlib
import secrets
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

from connexion.middleware import MiddlewarePosition
from connexion.options import SwaggerUIOptions

from bookingkit.files import DEFAULT_WORLD, SPEC_PATH
from mock_server.clock import Clock
from mock_server.collector import paced_collector
from mock_server.control.access_log import AccessLog
from mock_server.control.admin import AdminHandlers, admin_gate
from mock_server.control.faults import FaultInjector
from mock_server.control.journal import JournalMiddleware
from mock_server.control.watch import watching
from mock_server.cors import Cors
from mock_server.engine import MockApp
from mock_server.errors import install_error_handlers
from mock_server.limits import RequestLimits
from mock_server.onlive.gate import SignatureGate, organization_gate
from mock_server.resources import ADMIN_SPEC_PATH
from mock_server.runtime import Runtime
from mock_server.spec import ONLIVE_SCHEME, SpecIndex, load_spec
from mock_server.store.backend import Backend, open_backend
from mock_server.validation import ADMIN_VALIDATOR_MAP, VALIDATOR_MAP
from mock_server.wingfield.gate import token_gate


def create_app(
    fixtures: Path | None = None,
    *,
    store: str | Backend = "memory",
    validate_responses: bool = False,
    clock: Clock | None = None,
    spec_path: Path = SPEC_PATH,
    admin_token: str | None = None,
    seed: int | None = None,
    access_log: AccessLog | None = None,
    reset_store: bool = False,
    seed_world: bool = True,
    cors_origins: Sequence[str] | None = ("*",),
    watch: Path | None = None,
) -> MockApp:
    """`store` is `memory`, a SQL URL or a backend. The world seeds an empty store (`reset_store`: any store);
    `seed_world=False` leaves that to whoever prepared the store (the parent of several workers).
    `validate_responses` makes a response that breaks the spec a 500: for tests, not for partners.
    Without `admin_token`, one is generated (the CLI prints it). `cors_origins=None` turns CORS off.
    `watch`: a world file reloaded while the app serves (`--watch`, control/watch.py)."""
    spec = load_spec(spec_path)
    index = SpecIndex.build(spec)
    backend = open_backend(store) if isinstance(store, str) else store
    runtime = Runtime(backend, spec, index, fixtures or DEFAULT_WORLD, clock=clock, seed=seed)
    if seed_world:
        runtime.seed(reset=reset_store)
    runtime.admin_token = admin_token or secrets.token_urlsafe(18)
    runtime.access_log = access_log
    for item in spec["paths"].values():  # fail at start, not on the first request, when a handler is missing
        for operation in item.values():
            if isinstance(operation, dict) and "operationId" in operation:
                runtime.resolve(operation["operationId"])
    partner_operations = {
        operation["operationId"]
        for item in spec["paths"].values()
        for operation in item.values()
        if isinstance(operation, dict) and "operationId" in operation
    }

    @contextlib.asynccontextmanager
    async def lifespan(_: object) -> AsyncIterator[None]:
        async with paced_collector(), watching(runtime, watch):
            try:
                yield
            finally:
                if access_log is not None:
                    access_log.flush()

    app = MockApp(
        __name__,
        validate_responses=validate_responses,
        lifespan=lifespan,
        run=backend.run,
        transactional=partner_operations,
    )
    app.add_api(
        spec,
        resolver=runtime.resolve,
        strict_validation=True,
        validate_responses=validate_responses,
        validator_map=VALIDATOR_MAP,
        security_map={
            "bearer": token_gate(runtime.store, runtime.clock, index.scopes),
            "apiKey": organization_gate(),
        },
        # the docs page signs this scheme's requests in the browser (mock_server/docs_page/onlive-signing.js)
        swagger_ui_options=SwaggerUIOptions(
            swagger_ui=True, swagger_ui_template_arguments={"signed_scheme": ONLIVE_SCHEME}
        ),
    )
    admin = AdminHandlers(runtime)
    app.add_api(
        ADMIN_SPEC_PATH,
        base_path="/__admin",
        resolver=lambda operation_id: getattr(admin, operation_id),
        strict_validation=True,
        validator_map=ADMIN_VALIDATOR_MAP,
        security_map={"bearer": admin_gate(runtime.admin_token)},
        swagger_ui_options=SwaggerUIOptions(swagger_ui=True),
    )
    app.add_middleware(
        JournalMiddleware,
        position=MiddlewarePosition.BEFORE_EXCEPTION,
        runtime=runtime,
        index=index,
        access_log=access_log,
    )
    app.add_middleware(RequestLimits, position=MiddlewarePosition.BEFORE_SWAGGER)
    if cors_origins is not None:  # outermost: a preflight never reaches routing (no 405) or authentication
        app.add_middleware(Cors, position=MiddlewarePosition.BEFORE_EXCEPTION, origins=cors_origins)
    app.add_middleware(
        SignatureGate,
        position=MiddlewarePosition.BEFORE_SECURITY,
        store=runtime.onlive_store,
        clock=runtime.clock,
        index=index,
    )
    app.add_middleware(FaultInjector, position=MiddlewarePosition.BEFORE_VALIDATION, faults=runtime.faults, index=index)
    install_error_handlers(app, index)
    app.mock = runtime  # type: ignore[attr-defined]
    return app
