"""The contract as openapi.yaml states it: which error types each operation documents, per status.

The suite reads only the spec and HTTP responses, never the mock's code.
"""

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from bookingkit.documents import parse
from bookingkit.files import SPEC_PATH
from bookingkit.openapi import deref

VERBS = ("get", "put", "post", "delete", "patch")


@cache
def load_spec(path: Path = SPEC_PATH) -> dict[str, Any]:
    return parse(path.read_text(encoding="utf-8"))


@dataclass(frozen=True)
class Operation:
    operation_id: str
    method: str
    pattern: re.Pattern[str]
    api: str  # "wingfield" (error types) or "onlive" (status and message)
    errors: dict[int, frozenset[str]]  # wingfield: status -> documented error types
    messages: dict[int, str]  # onlive: status -> the documented message (from the response's example)


@cache
def operations(path: Path = SPEC_PATH) -> tuple[Operation, ...]:
    spec = load_spec(path)
    found = []
    for template, item in spec["paths"].items():
        pattern = re.compile("^" + re.sub(r"\\\{[^}]*\\\}", "[^/]+", re.escape(template)) + "$")
        for method, operation in item.items():
            if method not in VERBS:
                continue
            errors, messages = {}, {}
            api = "onlive" if any("onliveSignature" in r for r in operation.get("security", [])) else "wingfield"
            for status, response in operation["responses"].items():
                if int(status) < 400:
                    continue
                media = deref(spec, response)["content"]["application/json"]
                schema = deref(spec, media["schema"])
                if api == "onlive":
                    messages[int(status)] = media.get("example", {}).get("message", "")
                else:
                    kind = deref(spec, deref(spec, schema["properties"]["error"])["properties"]["type"])
                    errors[int(status)] = frozenset(kind.get("enum", []))
            found.append(Operation(operation["operationId"], method.upper(), pattern, api, errors, messages))
    return tuple(found)


def operation_for(method: str, path: str) -> Operation | None:
    """`path` is relative to the API base (e.g. `/courts/...`)."""
    return next((op for op in operations() if op.method == method.upper() and op.pattern.match(path)), None)


ONLIVE_PREFIXES = ("/services", "/booking-services", "/appointments", "/calendars")


def error_contract_problems(
    method: str, path: str, status: int, content_type: str, body: Any, allow: str | None = None
) -> list[str]:
    """What is wrong with an error response, against its API's envelope (A5, O5) and what its operation documents.

    Two statuses are free of the envelope: 413, an implementation's own body limit (P1), and 405, which must
    carry `Allow` (P6, RFC 9110) and may have any body.
    """
    if status == 413:
        return []
    if status == 405:
        return [] if allow is not None else ["a 405 without an Allow header"]
    problems = []
    if not content_type.startswith("application/json"):
        problems.append(f"Content-Type is {content_type!r}, not application/json")
    operation = operation_for(method, path)
    if (operation.api if operation else ("onlive" if path.startswith(ONLIVE_PREFIXES) else "wingfield")) == "onlive":
        return problems + _onlive_problems(operation, status, body)
    error = body.get("error") if isinstance(body, dict) else None
    if (
        not isinstance(error, dict)
        or not isinstance(error.get("type"), str)
        or not isinstance(error.get("message"), str)
    ):
        return [*problems, f"body is not {{'error': {{'type', 'message'}}}}: {str(body)[:200]}"]
    if error["type"] == "invalid_schema":
        issues = error.get("issues")
        if not _entries(issues, path=list, message=str):
            problems.append(f"invalid_schema without a list of {{path, message}} issues: {issues!r}")
    if operation is not None:
        documented = operation.errors.get(status)
        if documented is None:
            problems.append(f"{operation.operation_id} documents no {status} response")
        elif error["type"] not in documented:
            problems.append(f"{operation.operation_id} {status} documents {sorted(documented)}, got {error['type']!r}")
    return problems


def _entries(value: Any, **fields: type) -> bool:
    """A non-empty list of objects whose `fields` have these types (the issues of a validation error)."""
    return (
        isinstance(value, list)
        and bool(value)
        and all(isinstance(e, dict) and all(isinstance(e.get(k), t) for k, t in fields.items()) for e in value)
    )


def _onlive_problems(operation: Operation | None, status: int, body: Any) -> list[str]:
    """O5: `{statusCode, message}` plus `errors: [{field, message}]` on validation errors."""
    if not isinstance(body, dict) or body.get("statusCode") != status or not isinstance(body.get("message"), str):
        return [f"body is not {{'statusCode': {status}, 'message': ...}}: {str(body)[:200]}"]
    problems = []
    errors = body.get("errors")
    if status == 400 and not _entries(errors, field=str, message=str):
        problems.append(f"a 400 without a list of {{field, message}} errors: {errors!r}")
    if operation is not None:
        documented = operation.messages.get(status)
        if documented is None:
            problems.append(f"{operation.operation_id} documents no {status} response")
        elif status != 400 and body["message"] != documented:
            problems.append(f"{operation.operation_id} {status} documents {documented!r}, got {body['message']!r}")
    return problems
