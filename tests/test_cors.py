"""CORS: on by default for any origin, limited with --cors-origin, off with --no-cors (mock_server/cors.py)."""

import pytest

from mock_server.app import create_app

from .conftest import COURT, TOKENS

COURT_PATH = f"/api/v1/courts/{COURT}"
PREFLIGHT = {
    "Origin": "http://front.example:3000",
    "Access-Control-Request-Method": "PUT",
    "Access-Control-Request-Headers": "authorization, content-type, prefer, x-onlive-site-date",
}


def client(origins):
    return create_app(cors_origins=origins).test_client(base_url="http://testserver")


def test_a_preflight_is_204_with_the_methods_and_headers_both_apis_read():
    with client(("*",)) as http:
        response = http.options(COURT_PATH, headers=PREFLIGHT)
    assert response.status_code == 204 and response.content == b""
    assert response.headers["access-control-allow-origin"] == "*"
    assert {"GET", "POST", "PUT", "PATCH", "DELETE"} <= set(
        response.headers["access-control-allow-methods"].split(", ")
    )
    allowed = {h.strip().lower() for h in response.headers["access-control-allow-headers"].split(",")}
    assert {"authorization", "content-type", "prefer", "x-onlive-site-date"} <= allowed


@pytest.mark.parametrize("token, status", [(TOKENS["write"], 200), (None, 401)])
def test_every_answer_carries_the_allowed_origin(token, status):
    headers = {"Origin": "http://front.example:3000"} | ({"Authorization": f"Bearer {token}"} if token else {})
    with client(("*",)) as http:
        response = http.get(COURT_PATH, headers=headers)
    assert response.status_code == status and response.headers["access-control-allow-origin"] == "*"


def test_listed_origins_only():
    with client(["http://front.example:3000"]) as http:
        allowed = http.get(COURT_PATH, headers={"Origin": "http://front.example:3000"})
        other = http.options(COURT_PATH, headers={**PREFLIGHT, "Origin": "http://evil.example"})
    assert allowed.headers["access-control-allow-origin"] == "http://front.example:3000"
    assert other.status_code == 400 and "access-control-allow-origin" not in other.headers


def test_no_cors_answers_no_preflight_and_no_origin():
    with client(None) as http:
        preflight = http.options(COURT_PATH, headers=PREFLIGHT)
        answer = http.get(COURT_PATH, headers={"Origin": "http://front.example:3000"})
    assert preflight.status_code == 405 and preflight.headers["allow"] == "GET"
    assert "access-control-allow-origin" not in answer.headers


def test_an_options_request_that_is_not_a_preflight_is_still_405():
    with client(("*",)) as http:
        response = http.options(COURT_PATH)
    assert response.status_code == 405 and response.headers["allow"] == "GET"
