"""The contract suite's schemathesis hooks keep generated ONLIVE.SITE writes on resources the run created.

A write aimed at anybody else's resource goes to the newest one of ours instead, never to a made-up id:
schemathesis reads a changed path parameter as one taken from a link, and a 404 after a create then fails
the run as "created resource not found" (ST302), at random.
"""

import uuid

import hypothesis
import pytest
import schemathesis
from schemathesis.core.parameters import ParameterLocation

from contract_tests import checks
from contract_tests.spec import SPEC_PATH

UPDATE_APPOINTMENT = schemathesis.openapi.from_path(SPEC_PATH)["/appointments/{appointmentId}"]["PUT"]


@pytest.fixture(autouse=True)
def confined(monkeypatch):
    monkeypatch.setenv("BOOKINGKIT_CONFINE_PREFIX", "st-test-")
    monkeypatch.setattr(checks, "_created_here", {"service": {}, "appointment": {}})


def _generated_updates(test):
    strategy = UPDATE_APPOINTMENT.as_strategy()
    settings = hypothesis.settings(max_examples=10, deadline=None, suppress_health_check=list(hypothesis.HealthCheck))
    return settings(hypothesis.given(case=strategy)(test))


def _prepare(case) -> str:
    hypothesis.assume(case.meta is not None and not case.meta.is_negative_at(ParameterLocation.PATH))
    case.headers = {}
    checks.before_call(None, case, {})
    return case.path_parameters["appointmentId"]


@_generated_updates
def test_a_write_to_a_resource_not_ours_goes_to_our_newest(case):
    older, newest = str(uuid.uuid4()), str(uuid.uuid4())
    checks._created_here["appointment"].update({older: None, newest: None})
    assert _prepare(case) == newest


@_generated_updates
def test_a_write_to_our_own_resource_is_left_alone(case):
    ours, newer = str(uuid.uuid4()), str(uuid.uuid4())
    checks._created_here["appointment"].update({ours: None, newer: None})
    case.path_parameters["appointmentId"] = ours
    assert _prepare(case) == ours


@_generated_updates
def test_before_anything_is_created_a_write_goes_to_a_fresh_id(case):
    generated = case.path_parameters["appointmentId"]
    sent = _prepare(case)
    assert sent != generated and uuid.UUID(sent)
