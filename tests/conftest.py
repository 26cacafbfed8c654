"""Shared fixtures: a fresh mock per test, seen through the contract suite's client, on its default world."""

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from contract_tests.profile import BUNDLED_MOCK_PROFILE, load_profile
from contract_tests.wingfield import Scenario, Wingfield, check_error_contract
from mock_server.app import create_app

__all__ = ["check_error_contract"]

ROOT = Path(__file__).resolve().parent.parent
TARGET = load_profile(BUNDLED_MOCK_PROFILE, base_url="http://testserver/api/v1").wingfield
PROFILE = load_profile(BUNDLED_MOCK_PROFILE).raw["wingfield"]
SERVICE = TARGET.external_service_id
OTHER_SERVICE = TARGET.other_external_service_id
TOKENS = TARGET.tokens
COURT, COURT_2 = TARGET.granted_courts
COURT_NOT_GRANTED = TARGET.not_granted_court
USERS = TARGET.users


@pytest.fixture
def app():
    return create_app(validate_responses=True)


@pytest.fixture
def client(app) -> Iterator[httpx.Client]:
    """In-process client; every error response is checked against the envelope and documented types (A5)."""
    with app.test_client(base_url=TARGET.base_url) as test_client:
        test_client.event_hooks["response"] = [check_error_contract]
        yield test_client


@pytest.fixture
def api(client) -> Wingfield:
    return Wingfield(TARGET, Scenario(), TOKENS["write"], http=client)


# -- stores on every backend: memory, SQLite, PostgreSQL (tests/databases.py says how PostgreSQL is found) --------


@pytest.fixture(scope="session")
def postgres_backend():
    """One PostgreSQL database and backend for the session's store tests: each test empties it (`adopt` of empty
    stores), far cheaper than a database and a migration per test. The database is dropped at the end."""
    from mock_server.store.sql import SqlBackend

    from .databases import fresh_postgres

    with fresh_postgres() as url:
        backend = SqlBackend(url)
        try:
            yield backend
        finally:
            backend.close()


@pytest.fixture(params=["memory", "sqlite", "postgresql"])
def store_kind(request) -> str:
    return request.param


@pytest.fixture
def fresh_backend(store_kind, tmp_path, request):
    """A function giving the test's backend of `store_kind`, emptied on each call (each hypothesis example calls
    it). SQLite: a file of this test; PostgreSQL: the session's database."""
    from mock_server.onlive.store.memory import OnliveMemoryStore
    from mock_server.store.backend import MemoryBackend
    from mock_server.store.sql import SqlBackend
    from mock_server.wingfield.store.memory import MemoryStore

    if store_kind == "memory":
        backend = MemoryBackend()
    elif store_kind == "sqlite":
        backend = SqlBackend(f"sqlite:///{tmp_path / 'store.db'}")
    else:
        backend = request.getfixturevalue("postgres_backend")

    def fresh():
        backend.adopt(MemoryStore(), OnliveMemoryStore())
        return backend

    yield fresh
    if store_kind == "sqlite":
        backend.close()
