"""Several worker processes on one SQL store: the parent prepares the store (schema, world), uvicorn starts the
workers, and each builds its app from the settings the parent put in the environment."""

import json
import os
import sys
from pathlib import Path
from typing import Any

from mock_server.control.access_log import AccessLog

SETTINGS = "BOOKINGKIT_WORKER_SETTINGS"


def settings_for_workers(**settings: Any) -> None:
    os.environ[SETTINGS] = json.dumps(settings)


def app_from_environment() -> Any:
    """uvicorn's factory in each worker; the store is already seeded, so the world is not loaded again."""
    from mock_server.app import create_app

    settings = json.loads(os.environ[SETTINGS])
    return create_app(
        Path(settings["fixtures"]),
        store=settings["store"],
        admin_token=settings["admin_token"],
        # Each worker draws its own ids: one seed in every worker would give two workers the same new ids.
        seed=None if settings["seed"] is None else settings["seed"] * 1_000_003 + os.getpid(),
        access_log=AccessLog(sys.stderr) if settings["access_log"] else None,
        seed_world=False,
        cors_origins=settings["cors"],
    )


def serve_workers(*, host: str, port: int, workers: int, log_level: str) -> None:
    """uvicorn starts `workers` processes from the settings above; this process only supervises them (and, with
    `--watch`, reloads the world into the shared store: the workers never load it)."""
    from mock_server.server import serve

    serve(
        "mock_server.workers:app_from_environment",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=log_level,
    )
