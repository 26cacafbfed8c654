"""The `mock_requests` fixture for partners' own tests: a `MockRequests` on the mock at `BOOKINGKIT_MOCK_URL`
(default http://127.0.0.1:8000), with the admin token from `BOOKINGKIT_ADMIN_TOKEN`, the variable
`bookingkit mock` reads too. The journal is cleared before each test, so a test sees only what it sent.

Registered as a pytest plugin with the package (entry point `bookingkit-verify`); a fixture of the same name in a
partner's conftest.py takes precedence.
"""

import os
from collections.abc import Iterator

import pytest

from bookingkit.verify import MockRequests

DEFAULT_MOCK_URL = "http://127.0.0.1:8000"


@pytest.fixture
def mock_requests() -> Iterator[MockRequests]:
    token = os.environ.get("BOOKINGKIT_ADMIN_TOKEN")
    if not token:
        pytest.fail(
            "mock_requests needs the mock's admin token: start the mock and pytest with the same "
            "BOOKINGKIT_ADMIN_TOKEN (and BOOKINGKIT_MOCK_URL when it is not at http://127.0.0.1:8000)",
            pytrace=False,
        )
    with MockRequests(os.environ.get("BOOKINGKIT_MOCK_URL", DEFAULT_MOCK_URL), token) as requests:
        requests.clear()
        yield requests
