"""Prism's `Prefer: code=NNN` and `Prefer: example=NAME` (issue 14): the documented answer, not the handler's.

Everything is prepared at start from openapi.yaml: per operation, each documented status and each named example
become ready bytes and headers, so a request that asks pays one dict lookup and one that does not pays nothing.
As in Prism, a media type's lone `example` is the example named `default`; a response without any example is
answered with a body sampled from its schema (`sample`, below).
"""

import json
import re
from dataclasses import dataclass, field
from typing import Any

from bookingkit.openapi import deref
from mock_server.spec import VERBS
from mock_server.violations import RuleViolation

NO_BODY = (204, 205, 304)


@dataclass(frozen=True)
class Canned:
    """One prepared answer: the ASGI start message's status and headers, and the body bytes."""

    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes
    error_kind: str | None = None  # the example's `error.type`, for the journal

    def with_status(self, status: int) -> "Canned":
        """For a `4XX` or `default` response asked for with a concrete code: a 204 or 304 has no body."""
        if status in NO_BODY:
            kept = [(name, value) for name, value in self.headers if name not in (b"content-length", b"content-type")]
            return _canned(status, kept, b"", self.error_kind)
        return Canned(status, self.headers, self.body, self.error_kind)


def _canned(status: int, headers: list[tuple[bytes, bytes]], body: bytes, error_kind: str | None = None) -> Canned:
    length = [] if status in NO_BODY else [(b"content-length", str(len(body)).encode())]
    return Canned(status, [*headers, *length], body, error_kind)


@dataclass
class OperationAnswers:
    """An operation's documented answers: by status, by `NXX` range, its `default`, and by example name."""

    by_status: dict[int, Canned] = field(default_factory=dict)
    by_range: dict[int, Canned] = field(default_factory=dict)  # first digit -> answer
    default: Canned | None = None
    by_example: dict[str, dict[int, Canned]] = field(default_factory=dict)  # name -> status -> answer
    first_with: dict[str, Canned] = field(default_factory=dict)  # name -> the answer `example=NAME` alone picks
    documented: list[str] = field(default_factory=list)  # the response keys as written: "200", "4XX", "default"
    ranged: dict[int, Canned] = field(default_factory=dict)  # concrete codes answered by a range or `default`


class PreferTable:
    """`answer` is the only per-request work; `build` does the rest once."""

    def __init__(self, answers: dict[str, OperationAnswers]) -> None:
        self.answers = answers

    @classmethod
    def build(cls, spec: dict[str, Any]) -> "PreferTable":
        answers: dict[str, OperationAnswers] = {}
        for item in spec.get("paths", {}).values():
            for method, operation in deref(spec, item).items():
                if method in VERBS and isinstance(operation, dict) and "operationId" in operation:
                    answers[operation["operationId"]] = _operation_answers(spec, operation)
        return cls(answers)

    def answer(self, operation: str, code: str | None, example: str | None) -> Canned:
        """The answer `Prefer: code=` and/or `example=` ask for, or a RuleViolation (400) naming what exists."""
        table = self.answers[operation]
        if code is None:
            assert example is not None
            if (found := table.first_with.get(example)) is None:
                raise _bad(f"{operation} has no example {example!r}; documented examples: {sorted(table.first_with)}")
            return found
        status = int(code) if re.fullmatch(r"[2-5]\d\d", code) else 0  # 1xx are not final answers
        canned = table.by_status.get(status)
        if canned is None and status:
            canned = table.ranged.get(status)
            if canned is None and (ranged := table.by_range.get(status // 100) or table.default) is not None:
                canned = table.ranged[status] = ranged.with_status(status)  # at most 400 codes: bounded
        if canned is None:
            raise _bad(f"{operation} does not document status {code}; documented: {table.documented}")
        if example is None:
            return canned
        named = table.by_example.get(example, {})
        if status in named:
            return named[status]
        names = sorted(name for name, statuses in table.by_example.items() if status in statuses)
        raise _bad(f"{operation} has no example {example!r} for status {status}; documented there: {names}")


def _bad(message: str) -> RuleViolation:
    issue = {"path": ["header", "Prefer"], "message": message}
    return RuleViolation("invalid_schema", "request validation failed", [issue])


def _operation_answers(spec: dict[str, Any], operation: dict[str, Any]) -> OperationAnswers:
    table = OperationAnswers()
    order: list[tuple[tuple[int, int], str]] = []  # 2xx first, then the rest, each by status
    for key, response in operation.get("responses", {}).items():
        key = str(key)
        table.documented.append(key)
        response = deref(spec, response)
        if key == "default":
            status = 500
        elif re.fullmatch(r"[1-5]XX", key, re.IGNORECASE):
            status = int(key[0]) * 100
        else:
            status = int(key)
        default, named = _response_answers(spec, status, response)
        if key == "default":
            table.default = default
        elif not key.isdigit():
            table.by_range[status // 100] = default
        else:
            table.by_status[status] = default
            order.append(((0 if 200 <= status < 300 else 1, status), key))
            for name, canned in named.items():
                table.by_example.setdefault(name, {})[status] = canned
    for _, key in sorted(order):
        for name, statuses in table.by_example.items():
            if int(key) in statuses:
                table.first_with.setdefault(name, statuses[int(key)])
    return table


def _response_answers(spec: dict[str, Any], status: int, response: dict[str, Any]) -> tuple[Canned, dict[str, Canned]]:
    """The default answer of one response (its example, the first named one, or a schema sample) and the named."""
    headers = _headers(spec, response)
    content = response.get("content") or {}
    if status in NO_BODY or not content:
        return _canned(status, headers, b""), {}
    media_type = next((m for m in content if m.split(";")[0].strip() == "application/json"), next(iter(content)))
    media = deref(spec, content[media_type])
    examples: dict[str, Any] = {}
    if "example" in media:
        examples["default"] = media["example"]
    for name, example in (media.get("examples") or {}).items():
        example = deref(spec, example)
        if isinstance(example, dict) and "value" in example:
            examples[name] = example["value"]
    default = next(iter(examples.values())) if examples else sample(spec, media.get("schema", {}))
    json_like = "json" in media_type
    content_type = "text/plain" if media_type == "*/*" else media_type
    with_type = [*headers, (b"content-type", content_type.encode("latin-1"))]

    def canned(value: Any) -> Canned:
        body = (json.dumps(value) + "\n").encode() if json_like or not isinstance(value, str) else value.encode()
        return _canned(status, with_type, body, _error_kind(value))

    return canned(default), {name: canned(value) for name, value in examples.items()}


def _headers(spec: dict[str, Any], response: dict[str, Any]) -> list[tuple[bytes, bytes]]:
    """Documented response headers with an example, and required ones sampled from their schema; others left out."""
    found = []
    for name, header in (response.get("headers") or {}).items():
        header = deref(spec, header)
        if name.lower() == "content-type":
            continue
        if "example" in header:
            value = header["example"]
        elif header.get("examples"):
            value = deref(spec, next(iter(header["examples"].values()))).get("value")
        elif header.get("required"):
            value = sample(spec, header.get("schema", {}))
        else:
            continue
        text = value if isinstance(value, str) else json.dumps(value)
        found.append((name.lower().encode("latin-1"), text.encode("latin-1", "replace")))
    return found


def _error_kind(value: Any) -> str | None:
    error = value.get("error") if isinstance(value, dict) else None
    kind = error.get("type") if isinstance(error, dict) else None
    return kind if isinstance(kind, str) else None


# -- a deterministic sample of a schema ----------------------------------------------------------------------------
# Our own, on purpose: the PyPI candidates either draw at random (jsf, with faker) or search (hypothesis-jsonschema,
# slow at start and not a plain dependency). This one does what Prism's static sampler does: the schema's own
# `example`/`default`/`const`/first `enum` where given, else the first branch of `oneOf`/`anyOf`, `allOf` merged,
# every property but writeOnly ones, one item per array (or `minItems`), a fixed string per `format`, and the lowest
# number the bounds allow. Only used for responses without an example (none in openapi.yaml today).

FORMATS = {
    "date-time": ("2024-01-01T00:00:00Z", "2024-01-01T00:00:00.000Z", "2024-01-01T00:00:00+00:00"),
    "date": "2024-01-01",
    "time": "00:00:00Z",
    "email": "user@example.com",
    "uuid": "3fa85f64-5717-4562-b3fc-2c963f66afa6",
    "uri": "https://example.com/",
    "url": "https://example.com/",
    "hostname": "example.com",
    "ipv4": "192.0.2.1",
    "ipv6": "2001:db8::1",
    "byte": "",
    "password": "password",
}


def sample(spec: dict[str, Any], schema: Any, depth: int = 0) -> Any:
    schema = deref(spec, schema)
    if not isinstance(schema, dict) or depth > 20:
        return None
    for key in ("example", "default", "const"):
        if key in schema:
            return schema[key]
    if schema.get("enum"):
        return schema["enum"][0]
    if "allOf" in schema:
        return sample(spec, _merged(spec, schema), depth + 1)
    for key in ("oneOf", "anyOf"):
        if schema.get(key):
            return sample(spec, schema[key][0], depth + 1)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind is None:
        kind = "object" if "properties" in schema else "array" if "items" in schema else None
    if kind == "object":
        required = schema.get("required", [])
        properties = schema.get("properties") or {}
        names = [*required, *(n for n in properties if n not in required and depth < 8)]
        names = [n for n in names if not deref(spec, properties.get(n, {})).get("writeOnly")]
        names = names[: schema.get("maxProperties")]
        return {name: sample(spec, properties.get(name, {}), depth + 1) for name in names}
    if kind == "array":
        count = max(schema.get("minItems", 0), 1 if depth < 8 else 0)
        count = min(count, schema.get("maxItems", count))
        return [sample(spec, schema.get("items", {}), depth + 1) for _ in range(count)]
    if kind == "string":
        text = _string(schema)
        if len(text) < schema.get("minLength", 0):
            text += "a" * (schema["minLength"] - len(text))
        return text[: schema["maxLength"]] if "maxLength" in schema else text
    if kind in ("integer", "number"):
        return _number(schema, kind)
    if kind == "boolean":
        return True
    return None


def _string(schema: dict[str, Any]) -> str:
    """The format's fixed value (the first that matches `pattern`), else the first string the pattern allows."""
    candidates = FORMATS.get(schema.get("format", ""), "string")
    candidates = (candidates,) if isinstance(candidates, str) else candidates
    pattern = schema.get("pattern")
    if pattern is None:
        return candidates[0]
    try:
        for text in candidates:
            if re.search(pattern, text):
                return text
        return _from_regex(pattern)
    except Exception:  # a pattern Python cannot read, or no match found: the plain value
        return candidates[0]


def _from_regex(pattern: str) -> str:
    """Hypothesis (already a dependency) finds the simplest match; derandomized, so the same one every time."""
    import hypothesis
    from hypothesis import strategies

    found = hypothesis.find(
        strategies.from_regex(pattern),
        lambda _: True,
        settings=hypothesis.settings(database=None, derandomize=True, max_examples=10),
    )
    return str(found)


def _merged(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """An `allOf` as one schema: properties and `required` joined, the first word on anything else."""
    merged: dict[str, Any] = {k: v for k, v in schema.items() if k != "allOf"}
    for part in schema["allOf"]:
        part = deref(spec, part)
        part = _merged(spec, part) if "allOf" in part else part
        for key, value in part.items():
            if key == "properties":
                merged["properties"] = {**merged.get("properties", {}), **value}
            elif key == "required":
                known = merged.get("required", [])
                merged["required"] = [*known, *(name for name in value if name not in known)]
            else:
                merged.setdefault(key, value)
    return merged


def _number(schema: dict[str, Any], kind: str) -> int | float:
    step = 1 if kind == "integer" else 0.5
    value: int | float = 0
    if "minimum" in schema:
        value = schema["minimum"] + (step if schema.get("exclusiveMinimum") is True else 0)
    elif isinstance(schema.get("exclusiveMinimum"), int | float) and not isinstance(schema["exclusiveMinimum"], bool):
        value = schema["exclusiveMinimum"] + step
    if "maximum" in schema and value > schema["maximum"]:
        value = schema["maximum"] - (step if schema.get("exclusiveMaximum") is True else 0)
    if multiple := schema.get("multipleOf"):
        value = -(-value // multiple) * multiple
    return int(value) if kind == "integer" else value
