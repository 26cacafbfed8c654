"""The ONLIVE.SITE request-signing scheme (docs/rules.md, "The ONLIVE.SITE signing scheme").

One module, used by the mock to verify, by the contract suite and `bookingkit sign` to sign. The public docs
describe an AWS-SigV4-like scheme without its recipe; this is the project's:

    canonical request = METHOD \\n path-as-sent \\n canonical-query \\n x-onlive-site-date \\n hex(sha256(body))
    signature         = hex(hmac_sha256(secret, canonical request))
    Authorization: ONLIVESITE Credential:<AccessKeyId>, Signature=<signature>

Written here because no library implements this scheme (it is the project's own, not SigV4).
"""

import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import quote, unquote, urlsplit

DATE_HEADER = "x-onlive-site-date"
DATE_FORMAT = "%Y%m%dT%H%M%SZ"
WINDOW = timedelta(minutes=15)
_DATE_SHAPE = re.compile(r"[0-9]{8}T[0-9]{6}Z")
_AUTHORIZATION = re.compile(r"ONLIVESITE Credential:(?P<key>[^\s,]+), Signature=(?P<signature>[0-9a-f]{64})")


def format_date(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime(DATE_FORMAT)


def parse_date(value: str) -> datetime | None:
    """The header's instant, or None when it is not exactly `YYYYMMDDTHHMMSSZ`."""
    if not _DATE_SHAPE.fullmatch(value or ""):
        return None
    try:
        return datetime.strptime(value, DATE_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        return None


def within_window(moment: datetime, now: datetime) -> bool:
    """15 minutes either side of the server clock, bounds included."""
    return abs(moment - now) <= WINDOW


def _encode(text: str) -> str:
    return quote(text, safe="-._~")  # RFC 3986: unreserved characters stay, the rest is %XX upper-case


def canonical_query(raw_query: str) -> str:
    """Split on `&` and the first `=`, percent-decode (`+` stays `+`), re-encode, sort by name then value."""
    if not raw_query:
        return ""
    pairs = []
    for part in raw_query.split("&"):
        name, _, value = part.partition("=")
        pairs.append((_encode(unquote(name)), _encode(unquote(value))))
    return "&".join(f"{name}={value}" for name, value in sorted(pairs))


def canonical_request(method: str, path: str, raw_query: str, date: str, body: bytes) -> str:
    return "\n".join([method.upper(), path, canonical_query(raw_query), date, hashlib.sha256(body).hexdigest()])


def signature(secret: str, canonical: str) -> str:
    return hmac.new(secret.encode("utf-8"), canonical.encode("utf-8"), hashlib.sha256).hexdigest()


def authorization(access_key_id: str, signature_hex: str) -> str:
    return f"ONLIVESITE Credential:{access_key_id}, Signature={signature_hex}"


def parse_authorization(value: str | None) -> tuple[str, str] | None:
    """(access key id, signature) of a well-formed header, else None."""
    match = _AUTHORIZATION.fullmatch((value or "").strip())
    return (match["key"], match["signature"]) if match else None


@dataclass(frozen=True)
class SignedHeaders:
    date: str
    authorization: str
    canonical_request: str

    def as_dict(self) -> dict[str, str]:
        return {DATE_HEADER: self.date, "Authorization": self.authorization}


def sign(
    method: str, url: str, body: bytes, access_key_id: str, secret: str, now: datetime | None = None
) -> SignedHeaders:
    """Headers for a request to `url` (absolute, or a path with its query) exactly as it will be sent."""
    parts = urlsplit(url)
    date = format_date(now or datetime.now(UTC))
    canonical = canonical_request(method, parts.path or "/", parts.query, date, body)
    return SignedHeaders(date, authorization(access_key_id, signature(secret, canonical)), canonical)
