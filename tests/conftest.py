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
