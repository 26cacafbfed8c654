"""Fixtures of the scenario tests: clients for the target's tokens, each test in its own corner."""

from collections.abc import Iterator

import pytest

from .onlive import Onlive
from .profile import OnliveTarget, Profile, WingfieldTarget
from .wingfield import Control, Scenario, Wingfield


@pytest.fixture(scope="session")
def wingfield_target(target_profile: Profile) -> WingfieldTarget:
    if target_profile.wingfield is None:
        pytest.skip(f"{target_profile.path} has no 'wingfield' section")
    return target_profile.wingfield


@pytest.fixture
def scenario(wingfield_target: WingfieldTarget) -> Scenario:
    return Scenario(wingfield_target.booking_window)


@pytest.fixture
def api(wingfield_target: WingfieldTarget, scenario: Scenario) -> Iterator[Wingfield]:
    """The write token's client; whatever the test created through any client is deleted afterwards."""
    client = Wingfield(wingfield_target, scenario, wingfield_target.tokens["write"])
    yield client
    client.cleanup()
    client.close()


def optional(target: WingfieldTarget, group: str, key: str) -> str:
    """A profile value a test needs; without it the test is skipped, saying which key to add."""
    groups = {
        "tokens": target.tokens,
        "users": target.users,
        "organizations": target.organizations,
        "connect_tokens": target.connect_tokens,
        "sessions": target.sessions,
    }
    value = groups.get(group, {}).get(key)
    if group == "courts":
        value = {"not_granted": target.not_granted_court, "scratch": target.scratch_court}.get(key)
    if group == "facilities":
        value = {"not_granted": target.not_granted_facility}.get(key)
    if group == "service":
        value = target.other_external_service_id
    if not value:
        pytest.skip(f"the target profile has no wingfield.{group}.{key}")
    return value


@pytest.fixture(scope="session")
def control(wingfield_target: WingfieldTarget) -> Iterator[Control]:
    """The target's control interface (profile: wingfield.control), for what happens outside the partner API."""
    if wingfield_target.control is None:
        pytest.skip(wingfield_target.no_control)
    client = Control(wingfield_target.control)
    yield client
    client.close()


@pytest.fixture
def other(api: Wingfield, wingfield_target: WingfieldTarget) -> Wingfield:
    """Another external service's client (profile: tokens.other_service, other_external_service_id)."""
    token = optional(wingfield_target, "tokens", "other_service")
    service = optional(wingfield_target, "service", "other_external_service_id")
    return api.as_(token, service)


@pytest.fixture(scope="session")
def onlive_target(target_profile: Profile) -> OnliveTarget:
    if target_profile.onlive_target is None:
        pytest.skip(f"{target_profile.path} has no 'onlive' section")
    return target_profile.onlive_target


@pytest.fixture
def onlive(onlive_target: OnliveTarget) -> Iterator[Onlive]:
    """The profile's access key; the services and appointments a test creates are removed afterwards."""
    client = Onlive(onlive_target)
    yield client
    client.cleanup()
