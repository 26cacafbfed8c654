"""The signing scheme, step by step as decisions.md states it."""

import hashlib
import hmac
from datetime import UTC, datetime, timedelta

import pytest

from bookingkit import signing

NOW = datetime(2025, 5, 26, 14, 30, 22, tzinfo=UTC)


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("", ""),
        ("b=2&a=1", "a=1&b=2"),
        ("a=2&a=1", "a=1&a=2"),
        ("q=a+b", "q=a%2Bb"),
        ("q=a%20b", "q=a%20b"),
        ("q=a b", "q=a%20b"),
        ("flag", "flag="),
        ("x=1=2", "x=1%3D2"),
        ("n%61me=%7e", "name=~"),
        ("e=%c3%a9", "e=%C3%A9"),
        ("z=1&Z=1", "Z=1&z=1"),
    ],
)
def test_canonical_query(raw, expected):
    assert signing.canonical_query(raw) == expected


def test_canonical_request_and_signature_follow_the_recipe():
    body = b'{"name": "Test Drive"}'
    canonical = signing.canonical_request("post", "/api/v1/services", "b=2&a=1", "20250526T143022Z", body)
    assert canonical == "\n".join(
        ["POST", "/api/v1/services", "a=1&b=2", "20250526T143022Z", hashlib.sha256(body).hexdigest()]
    )
    expected = hmac.new(b"secret", canonical.encode(), hashlib.sha256).hexdigest()
    assert signing.signature("secret", canonical) == expected
    empty = signing.canonical_request("GET", "/x", "", "20250526T143022Z", b"")
    assert empty.endswith("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")


def test_sign_builds_both_headers():
    signed = signing.sign("DELETE", "https://example.com/api/v1/booking-services/1?x=1", b"", "AKID", "s3cret", NOW)
    assert signed.date == "20250526T143022Z"
    key, signature = signing.parse_authorization(signed.authorization)
    assert key == "AKID" and signature == signing.signature("s3cret", signed.canonical_request)
    assert signed.authorization.startswith("ONLIVESITE Credential:AKID, Signature=")
    assert signed.canonical_request.split("\n")[1:3] == ["/api/v1/booking-services/1", "x=1"]


@pytest.mark.parametrize(
    "value",
    [
        None,
        "",
        "ONLIVESITE Credential=AKID, Signature=" + "a" * 64,
        "onlivesite Credential:AKID, Signature=" + "a" * 64,
        "ONLIVESITE Credential:AKID,Signature=" + "a" * 64,
        "ONLIVESITE Credential:AKID, Signature=" + "A" * 64,
        "ONLIVESITE Credential:AKID, Signature=abc",
        "Bearer x",
    ],
)
def test_malformed_authorization_is_refused(value):
    assert signing.parse_authorization(value) is None


@pytest.mark.parametrize(
    "value",
    [
        "2025-05-26T14:30:22Z",
        "20250526T143022",
        "20251326T143022Z",
        "20250526t143022z",
        "20250526T143022Z\n",
        "２0250526T143022Z",
        "",
    ],
)
def test_malformed_date_is_refused(value):
    assert signing.parse_date(value) is None


def test_window_is_fifteen_minutes_inclusive_both_sides():
    for delta, inside in ((0, True), (900, True), (-900, True), (901, False), (-901, False)):
        assert signing.within_window(NOW + timedelta(seconds=delta), NOW) is inside
