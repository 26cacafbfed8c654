"""schemathesis over every operation of openapi.yaml, in-process, with a valid token (Wingfield) and signed
requests (ONLIVE.SITE): all phases, then stateful.

The checks are schemathesis' defaults plus contract_tests.checks (envelope and documented error types, no 401
with a token), configured by schemathesis.toml like `st run`.
"""

import hypothesis
import schemathesis

from contract_tests.checks import OnliveSignatureAuth, sign_onlive_with
from contract_tests.profile import BUNDLED_MOCK_PROFILE, load_profile
from mock_server.app import create_app

from .conftest import TOKENS

ONLIVE = load_profile(BUNDLED_MOCK_PROFILE).onlive
sign_onlive_with(ONLIVE["access_key_id"], ONLIVE["secret_access_key"])  # ONLIVE.SITE operations are signed
app = create_app(validate_responses=True)
schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", app)


WINGFIELD_TAGS = ["courts", "court-mappings", "court-bookings", "users", "user-relations", "organizations", "sessions"]
schema.auth().apply_to(tag=["booking-services", "appointments", "calendars"])(OnliveSignatureAuth)


@schema.auth().apply_to(tag=WINGFIELD_TAGS)
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
