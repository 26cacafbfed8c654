"""schemathesis over every operation of openapi.yaml, in-process, with a valid token: all phases, then stateful.

The checks are schemathesis' defaults plus contract_tests.checks (envelope and documented error types, no 401
with a token), configured by schemathesis.toml like `st run`.
"""

import hypothesis
import schemathesis

import contract_tests.checks  # noqa: F401  (registers the custom checks)
from mock_server.app import create_app

from .conftest import TOKENS

app = create_app(validate_responses=True)
schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", app)


@schema.auth()
class WriteToken:
    def get(self, case, ctx):
        return TOKENS["write"]

    def set(self, case, data, ctx):
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}


@schema.parametrize()
@hypothesis.settings(max_examples=40, deadline=None, suppress_health_check=list(hypothesis.HealthCheck))
def test_every_operation_keeps_the_contract(case):
    case.call_and_validate()


TestStatefulContract = schema.as_state_machine().TestCase
TestStatefulContract.settings = hypothesis.settings(
    max_examples=40, stateful_step_count=6, deadline=None, suppress_health_check=list(hypothesis.HealthCheck)
)
