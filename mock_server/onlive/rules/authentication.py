"""O6: who signed a request, or why it is refused. Every refusal is the same 401 message."""

import hmac
from datetime import datetime

from bookingkit import signing
from mock_server.onlive.errors import ERRORS
from mock_server.onlive.models import AccessKey
from mock_server.onlive.store.base import OnliveStore
from mock_server.violations import RuleViolation


def refuse(why: str, canonical_request: str | None = None) -> RuleViolation:
    """`why` goes to the log only; a wrong signature also returns the canonical request the mock computed."""
    extra = {"canonicalRequest": canonical_request} if canonical_request is not None else None
    violation = RuleViolation("unauthorized", ERRORS["unauthorized"][1], extra=extra)
    violation.reason = why  # type: ignore[attr-defined]
    return violation


def check_credentials(
    store: OnliveStore, authorization: str | None, date: str | None, now: datetime
) -> tuple[AccessKey, str]:
    """Everything but the signature: the header shapes, the access key, the 15-minute window (no body needed)."""
    credentials = signing.parse_authorization(authorization)
    if credentials is None:
        raise refuse("missing or malformed Authorization")
    key_id, sent_signature = credentials
    key = store.access_key(key_id)
    if key is None:
        raise refuse("unknown access key")
    moment = signing.parse_date(date or "")
    if moment is None:
        raise refuse(f"missing or malformed {signing.DATE_HEADER}")
    if not signing.within_window(moment, now):
        raise refuse(f"{signing.DATE_HEADER} is more than 15 minutes from the server clock")
    return key, sent_signature


def check_signature(
    key: AccessKey, sent_signature: str, method: str, raw_path: str, raw_query: str, date: str, body: bytes
) -> None:
    canonical = signing.canonical_request(method, raw_path, raw_query, date, body)
    if not hmac.compare_digest(signing.signature(key.secret, canonical), sent_signature):
        raise refuse("signature mismatch", canonical)
