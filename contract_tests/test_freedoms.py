"""Scenario tests of the implementation freedoms P1-P6: where the docs leave a choice, every allowed answer
passes and anything else fails (a 5xx, an answer outside the allowed ones, a change of state, a leaked secret).
"""

import base64
import binascii
import contextlib
import json
from urllib.parse import unquote, urlsplit

import pytest

from bookingkit import signing

from .onlive import Onlive
from .wingfield import every_page

documented, decision = pytest.mark.documented, pytest.mark.decision
ONE_MIB = b'{"padding": "' + b"x" * (1024 * 1024) + b'"}'


def kind(response) -> str:
    return response.json()["error"]["type"]


def onlive_validation_error(response) -> bool:
    body = response.json()
    return response.status_code == 400 and body.get("statusCode") == 400 and isinstance(body.get("errors"), list)


@decision
def test_P1_oversize_body_is_413_or_invalid_schema(api, scenario):
    response = api.call(
        "PUT", api.booking_path(scenario.id()), content=ONE_MIB, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413 or (response.status_code == 400 and kind(response) == "invalid_schema"), (
        response.status_code,
        response.text[:300],
    )
    assert api.get(scenario.id()).status_code == 404


@decision
def test_P1_oversize_onlive_body_is_413_or_a_validation_error(onlive: Onlive):
    response = onlive.http.post(
        onlive.url("/services"),
        content=ONE_MIB,
        headers={"Content-Type": "application/json", **signing_headers(onlive, "POST", "/services", ONE_MIB)},
    )
    assert response.status_code == 413 or onlive_validation_error(response), (response.status_code, response.text[:300])


def signing_headers(onlive: Onlive, method: str, path: str, body: bytes = b"") -> dict[str, str]:
    return signing.sign(method, onlive.url(path), body, onlive.key, onlive.secret).as_dict()


@decision
def test_P2_unknown_query_parameter_is_ignored_or_invalid_schema(api, scenario):
    assert api.upsert(scenario.id()).status_code == 200
    plain = api.list(externalCourtBookingId=scenario.id())
    response = api.list(externalCourtBookingId=scenario.id(), bookingkitUnknownParameter="1")
    if response.status_code == 200:
        assert response.json() == plain.json()
    else:
        assert response.status_code == 400 and kind(response) == "invalid_schema", response.text


@decision
def test_P2_unknown_onlive_query_parameter_is_ignored_or_a_validation_error(onlive: Onlive):
    service = onlive.create_service()
    assert service.status_code in (200, 201), service.text
    query = f"/services?name={onlive.prefix}%20service&limit=100"
    plain = onlive.request("GET", query)
    response = onlive.request("GET", query + "&bookingkitUnknownParameter=1")
    if response.status_code == 200:
        assert [s["id"] for s in response.json()["items"]] == [s["id"] for s in plain.json()["items"]]
    else:
        assert onlive_validation_error(response), response.text


def decoded(value: str) -> set[str]:
    """The ways a canonical request may travel in a header, which cannot hold a newline."""
    forms = {value, value.replace("\\n", "\n"), unquote(value)}
    with contextlib.suppress(binascii.Error, UnicodeDecodeError):
        forms.add(base64.b64decode(value, validate=True).decode("utf-8"))
    return forms


@decision
def test_P3_canonical_request_is_optional_correct_and_never_the_secret(onlive: Onlive):
    """On a wrong signature the implementation may show the canonical request it computed, in a header or a body
    field whose name says `canonical`; when it does, it must be the request as sent. The secret never shows."""
    path = "/services?limit=5&page=1"
    headers = signing_headers(onlive, "GET", path)
    headers["Authorization"] = headers["Authorization"][:-8] + "00000000"
    response = onlive.http.get(onlive.url(path), headers=headers)
    assert response.status_code == 401, response.text
    sent = urlsplit(onlive.url(path))
    expected = signing.canonical_request("GET", sent.path, sent.query, headers[signing.DATE_HEADER], b"")
    shown = [(f"header {name}", decoded(value)) for name, value in response.headers.items() if "canonical" in name]
    body = response.json()
    shown += [(f"body field {k}", {v}) for k, v in body.items() if "canonical" in k.lower() and isinstance(v, str)]
    for where, forms in shown:
        assert expected in forms, f"{where} is not the canonical request as sent: {forms}"
    everything = response.text + json.dumps(dict(response.headers)) + json.dumps([sorted(f) for _, f in shown])
    assert onlive.secret not in everything


@decision
def test_P4_onlive_paging_is_stable_and_complete(onlive: Onlive):
    """No order is asserted (none is documented): every page holds at most `limit` items, and walking the pages
    yields each of the test's services exactly once."""
    mine = []
    for _ in range(3):
        created = onlive.create_service()
        assert created.status_code in (200, 201), created.text
        mine.append(created.json()["id"])
    seen: list[str] = []
    for page in range(1, 50):
        items = onlive.request("GET", f"/services?name={onlive.prefix}%20service&limit=2&page={page}").json()["items"]
        assert len(items) <= 2
        seen += [s["id"] for s in items]
        if len(items) < 2:
            break
    assert sorted(seen) == sorted(mine)


@decision
def test_P4_wingfield_paging_is_stable_and_complete(api):
    """Court mappings: no order is documented; one page of everything and the pages of one hold the same."""
    whole = api.mappings(limit=100).json()
    items, totals = every_page(lambda **page: api.mappings(**page), limit=1)
    assert totals == {whole["totalCount"]}
    if whole["totalCount"] <= 100:
        assert sorted(m["courtId"] for m in items) == sorted(m["courtId"] for m in whole["items"])


@decision
def test_P5_a_bound_the_docs_do_not_state_may_be_enforced_or_not(api):
    """A very long partner booking id (the docs give no maximum): accepted, or refused in the envelope."""
    long_id = api.scenario.id("x" * 300)
    response = api.upsert(long_id)
    assert response.status_code == 200 or (response.status_code == 400 and kind(response) == "invalid_schema")
    if response.status_code == 200:
        assert api.get(long_id).json()["externalCourtBookingId"] == long_id


@decision
def test_P5_an_onlive_bound_the_docs_do_not_state_may_be_enforced_or_not(onlive: Onlive):
    """A very high page (the docs give no maximum): an empty page, or refused in the envelope."""
    high = onlive.request("GET", "/services?page=1000000&limit=5")
    assert (high.status_code == 200 and high.json()["items"] == []) or onlive_validation_error(high), high.text


@documented
def test_P6_wrong_method_is_405_with_allow(api):
    """RFC 9110: the answer names the methods the resource has; its body is free."""
    response = api.call("POST", f"/courts/{api.target.granted_courts[0]}", json={})
    assert response.status_code == 405 and "GET" in allowed(response), response.headers


@documented
def test_P6_wrong_onlive_method_is_405_with_allow(onlive: Onlive):
    response = onlive.http.patch(onlive.url("/services"), headers=signing_headers(onlive, "PATCH", "/services"))
    assert response.status_code == 405 and {"GET", "POST"} <= allowed(response), response.headers


def allowed(response) -> set[str]:
    return {method.strip().upper() for method in response.headers.get("allow", "").split(",") if method.strip()}
