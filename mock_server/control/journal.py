"""The request journal (`GET /__admin/requests`, `POST /__admin/requests/find`) and one access-log line per request.

Outermost of the mock's middleware, so it sees every final answer, errors included. With a shared backend it
also takes over, before the request is handled, the control state another worker may have changed.

An entry keeps the request's headers (secrets masked) and its body as the mock read it, both bounded in bytes,
so the journal's 1000 entries stay small whatever is sent. The body is copied from the messages as the inner
layers receive them: nothing is read ahead, so the body limits and slow-client timeouts stay theirs. It is
kept as raw text, never parsed on the request path: a `RequestMatcher` parses it only when it is asked.
"""

import base64
import json
import re
import time
from datetime import UTC, datetime
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mock_server.control.access_log import AccessLog
from mock_server.errors import ERROR_KIND
from mock_server.spec import SpecIndex

CLIP = 512  # characters kept of a long path or query: the journal's 1000 entries stay small whatever is sent
BODY_KEEP = 16 * 1024  # bytes kept of a body
HEADERS_KEEP = 4 * 1024  # bytes kept of all headers, names and values together
HEADER_VALUE_KEEP = 1024  # bytes kept of one header value
# Headers whose values are credentials: masked, keeping what says which kind (the scheme, the cookie names).
SECRET_HEADERS = frozenset({b"authorization", b"proxy-authorization", b"cookie", b"x-api-key"})


def clip(text: str, keep: int = CLIP) -> str:
    """A long value cut, and marked as cut (with the length it had)."""
    return text if len(text) <= keep else f"{text[:keep]}…[{len(text) - keep} more characters]"


KNOWN_NAMES: dict[bytes, bool] = {}  # header name -> secret: the same few names come with every request
KNOWN_NAMES_LIMIT = 1024  # beyond, names are classified each time: a client inventing names cannot grow this


def is_secret(name: bytes) -> bool:
    """Credentials, signatures, tokens (the admin token arrives as Authorization too)."""
    secret = KNOWN_NAMES.get(name)
    if secret is None:
        secret = name in SECRET_HEADERS or name.endswith(b"-signature") or b"token" in name or b"secret" in name
        if len(KNOWN_NAMES) < KNOWN_NAMES_LIMIT:
            KNOWN_NAMES[name] = secret
    return secret


def mask(name: bytes, value: str) -> str:
    """`Bearer ***`, `a=***; b=***`: enough to see what kind of credential was sent, never its value."""
    if name == b"cookie":
        return "; ".join(f"{part.partition('=')[0].strip()}=***" for part in value.split(";") if part.strip())
    scheme, space, _ = value.strip().partition(" ")
    return f"{scheme} ***" if space and name.endswith(b"authorization") else "***"


def journal_headers(raw_headers: list[tuple[bytes, bytes]]) -> tuple[dict[str, str], int]:
    """The headers by lower-case name (repeated ones joined by ", "), secrets masked, a value cut at
    HEADER_VALUE_KEEP bytes and the whole at HEADERS_KEEP; with how many headers were left out."""
    headers: dict[str, str] = {}
    budget, left_out = HEADERS_KEEP, 0
    for raw_name, raw_value in raw_headers:
        value = raw_value.decode("latin-1")
        if is_secret(raw_name):
            value = mask(raw_name, value)
        if len(value) > HEADER_VALUE_KEEP:
            value = f"{value[:HEADER_VALUE_KEEP]}…[cut, {len(raw_value)} bytes]"
        name = raw_name.decode("latin-1")
        repeated = name in headers
        cost = len(value) + (2 if repeated else len(name))
        if cost > budget:
            left_out += 1
            continue
        budget -= cost
        headers[name] = f"{headers[name]}, {value}" if repeated else value
    return headers, left_out


class BodyCopy:
    """`receive` for the inner layers: each message passes unchanged and the first BODY_KEEP bytes are copied."""

    __slots__ = ("receive", "chunks", "kept", "size", "ended")

    def __init__(self, receive: Receive) -> None:
        self.receive, self.chunks, self.kept, self.size, self.ended = receive, [], 0, 0, False

    async def __call__(self) -> Message:
        message = await self.receive()
        if message["type"] == "http.request":
            chunk = message.get("body", b"")
            if chunk:
                self.size += len(chunk)
                if self.kept < BODY_KEEP:
                    piece = chunk[: BODY_KEEP - self.kept]
                    self.chunks.append(piece)
                    self.kept += len(piece)
            self.ended = not message.get("more_body", False)
        return message

    def fields(self, announced: bool) -> dict[str, Any]:
        """`body` (text, or base64 when not UTF-8; None when nothing was read), `bodyBytes` (bytes read) and
        `bodyCut`: the body is not all there (beyond BODY_KEEP, or the mock stopped reading it: refused first)."""
        cut = self.kept < self.size or (announced and not self.ended)
        if not self.chunks:
            return {"body": None, "bodyBytes": self.size, "bodyCut": cut, "bodyBase64": False}
        kept = b"".join(self.chunks)
        text = utf8_text(kept, split_at_end=self.kept < self.size)
        if text is None:
            return {"body": base64.b64encode(kept).decode(), "bodyBytes": self.size, "bodyCut": cut, "bodyBase64": True}
        return {"body": text, "bodyBytes": self.size, "bodyCut": cut, "bodyBase64": False}


def utf8_text(data: bytes, *, split_at_end: bool) -> str | None:
    """The bytes as text, or None when they are not UTF-8; a character the cut split at the end is dropped."""
    try:
        return data.decode()
    except UnicodeDecodeError as exc:
        whole = exc.start if split_at_end and exc.start >= len(data) - 3 else None
    if whole is None:
        return None
    try:
        return data[:whole].decode()
    except UnicodeDecodeError:
        return None


class JournalMiddleware:
    def __init__(self, app: ASGIApp, *, runtime: Any, index: SpecIndex, access_log: AccessLog | None = None) -> None:
        self.app, self.runtime, self.index, self.access_log = app, runtime, index, access_log
        self.backend = runtime.backend

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self.backend.shared:
            self.runtime.sync()
        began, status = time.perf_counter(), 500
        extensions = scope.setdefault("extensions", {})  # connexion's routing notes the operation in this dict

        async def send_and_note(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        body = BodyCopy(receive)
        try:
            await self.app(scope, body, send_and_note)
        finally:
            duration = (time.perf_counter() - began) * 1000
            path = scope.get("raw_path", scope["path"].encode()).decode("latin-1")
            operation = extensions.get("connexion_routing", {}).get("operation_id")
            if operation is None:  # answered before routing (an error outside connexion's routing)
                operation = self.index.operation_for(scope["method"], path)
            if not path.startswith("/__admin"):
                headers, left_out = journal_headers(scope["headers"])
                announced = any(  # from the request itself: the kept headers may have left these out
                    (name == b"content-length" and value != b"0") or name == b"transfer-encoding"
                    for name, value in scope["headers"]
                )
                entry = {
                    "at": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
                    "method": scope["method"],
                    "path": clip(path),
                    "query": clip(scope.get("query_string", b"").decode("latin-1")),
                    "operationId": operation,
                    "status": status,
                    "durationMs": round(duration, 2),
                    "errorType": scope.get(ERROR_KIND) or extensions.get(ERROR_KIND),  # the latter: Prefer, faults
                    "headers": headers,
                    **body.fields(announced),
                }
                if left_out:
                    entry["headersLeftOut"] = left_out
                self.backend.journal_append(entry)
            if self.access_log is not None:
                self.access_log.write(scope["method"], path, operation, status, duration)


# -- finding requests in the journal (POST /__admin/requests/find and /count) ----------------------------------


class MatcherError(ValueError):
    """A matcher that cannot be used; `field` names the key (the admin API answers 400 naming it)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


MATCHER_KEYS = frozenset({"operationId", "method", "path", "pathPattern", "status", "headers", "body", "bodyContains"})


class RequestMatcher:
    """Which journal entries a matcher selects; every key given must hold (an empty matcher selects all).

    `operationId`, `path`, `status`: equal. `method`: equal, in any case. `pathPattern`: a regular expression
    matching the whole path (re.fullmatch; the path as sent, without the query). `headers`: name -> exact value,
    names in any case, against the recorded (masked) value, so `Authorization` is matched as `Bearer ***`.
    `body`: the recorded body parsed as JSON contains it: an object's keys given must be there with matching
    values (others may be there too), recursively; an array must have as many items, each matching in order;
    anything else equal (true is not 1). A body that is absent, cut, not UTF-8 or not JSON matches no `body`.
    `bodyContains`: a substring of the recorded body text (never of a base64 one).
    """

    def __init__(self, matcher: dict[str, Any]) -> None:
        unknown = sorted(set(matcher) - MATCHER_KEYS)
        if unknown:
            raise MatcherError(unknown[0], f"unknown matcher key {unknown[0]!r}; use {', '.join(sorted(MATCHER_KEYS))}")
        self.operation_id = matcher.get("operationId")
        self.method = matcher["method"].upper() if "method" in matcher else None
        self.path = matcher.get("path")
        self.status = matcher.get("status")
        self.headers = {name.lower(): value for name, value in (matcher.get("headers") or {}).items()}
        self.has_body, self.body = "body" in matcher, matcher.get("body")
        self.body_contains = matcher.get("bodyContains")
        self.path_pattern = None
        if "pathPattern" in matcher:
            try:
                self.path_pattern = re.compile(matcher["pathPattern"])
            except (re.error, TypeError) as exc:
                raise MatcherError("pathPattern", f"not a regular expression: {exc}") from None

    def matches(self, entry: dict[str, Any]) -> bool:
        """The cheap comparisons first; the body is parsed only for an entry that passed all of them."""
        if self.operation_id is not None and entry.get("operationId") != self.operation_id:
            return False
        if self.method is not None and entry.get("method") != self.method:
            return False
        if self.path is not None and entry.get("path") != self.path:
            return False
        if self.path_pattern is not None and not self.path_pattern.fullmatch(entry.get("path", "")):
            return False
        if self.status is not None and entry.get("status") != self.status:
            return False
        if self.headers:
            recorded = entry.get("headers") or {}
            if any(recorded.get(name) != value for name, value in self.headers.items()):
                return False
        text = None if entry.get("bodyBase64") else entry.get("body")
        if self.body_contains is not None and (text is None or self.body_contains not in text):
            return False
        if self.has_body:
            if text is None or entry.get("bodyCut"):
                return False
            try:
                recorded_body = json.loads(text)
            except (ValueError, RecursionError):
                return False
            return json_contains(self.body, recorded_body)
        return True


def json_contains(expected: Any, actual: Any) -> bool:
    """`actual` has every key of `expected` with a matching value; arrays item by item, of the same length."""
    if isinstance(expected, dict):
        return isinstance(actual, dict) and all(
            key in actual and json_contains(value, actual[key]) for key, value in expected.items()
        )
    if isinstance(expected, list):
        return (
            isinstance(actual, list)
            and len(expected) == len(actual)
            and all(json_contains(want, got) for want, got in zip(expected, actual, strict=True))
        )
    if isinstance(expected, bool) or isinstance(actual, bool):  # in Python True == 1; in JSON they differ
        return expected is actual
    return expected == actual  # numbers by value: 1 matches 1.0
