"""O6: who signed a request, or why it is refused. Every refusal is the same 401 message."""

import hmac
from datetime import datetime

from bookingkit import signing

from ...store.base import OnliveStore
from ..errors import RuleViolation
from .errors import ERRORS
from .models import AccessKey


def refuse(why: str, canonical_request: str | None = None) -> RuleViolation:
    """`why` goes to the log only; a wrong signature also returns the canonical request the mock computed."""
    extra = {"canonicalRequest": canonical_request} if canonical_request is not None else None
    violation = RuleViolation("unauthorized", ERRORS["unauthorized"][1], extra=extra)
    violation.reason = why  # type: ignore[attr-defined]
    return violation


def verify_signed_request(
    store: OnliveStore,
    method: str,
    raw_path: str,
    raw_query: str,
    authorization: str | None,
    date: str | None,
    body: bytes,
    now: datetime,
) -> AccessKey:
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
    canonical = signing.canonical_request(method, raw_path, raw_query, date or "", body)
    if not hmac.compare_digest(signing.signature(key.secret, canonical), sent_signature):
        raise refuse("signature mismatch", canonical)
    return key
