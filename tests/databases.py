"""Databases for the store tests: SQLite files in a temporary folder, and PostgreSQL when a server is given.

PostgreSQL: BOOKINGKIT_TEST_POSTGRES_URL names a server (e.g. postgresql://postgres@127.0.0.1:5432/test); each
test gets a database of its own, dropped afterwards. Without it the PostgreSQL cases are skipped, saying why,
unless CI is set (.ci/run sets both): then they fail, as a CI run must not pass without them.
"""

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

POSTGRES = os.environ.get("BOOKINGKIT_TEST_POSTGRES_URL")
STORES = ["memory", "sqlite", "postgresql"]


def need_postgres() -> str:
    if POSTGRES:
        return POSTGRES
    message = "PostgreSQL cases need BOOKINGKIT_TEST_POSTGRES_URL (e.g. postgresql://postgres@127.0.0.1:5432/test)"
    if os.environ.get("CI"):
        pytest.fail(message + "; CI is set, so this is a failure, not a skip")
    pytest.skip(message)


@contextmanager
def fresh_postgres() -> Iterator[str]:
    """A new, empty database on the test server; its URL."""
    import psycopg

    server = need_postgres()
    name = f"bookingkit_{uuid.uuid4().hex[:12]}"
    admin = server.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    base, _, _ = admin.rpartition("/")
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def store_url(kind: str, folder) -> Iterator[str]:
    """A store URL of the kind, empty."""
    if kind == "memory":
        yield "memory"
    elif kind == "sqlite":
        yield f"sqlite:///{folder / f'store-{uuid.uuid4().hex[:8]}.db'}"
    else:
        with fresh_postgres() as url:
            yield url
