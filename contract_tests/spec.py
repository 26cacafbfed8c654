"""The contract as openapi.yaml states it: which error types each operation documents, per status.

The suite reads only the spec and HTTP responses, never the mock's code.
"""

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

SPEC_PATH = Path(__file__).resolve().parent.parent / "openapi.yaml"
VERBS = ("get", "put", "post", "delete", "patch")


@cache
def load_spec(path: Path = SPEC_PATH) -> dict[str, Any]:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def deref(spec: dict[str, Any], node: Any) -> Any:
    while isinstance(node, dict) and "$ref" in node:
        target: Any = spec
        for part in node["$ref"].lstrip("#/").split("/"):
            target = target[part]
        node = target
    return node


@dataclass(frozen=True)
class Operation:
    operation_id: str
    method: str
    pattern: re.Pattern[str]
    errors: dict[int, frozenset[str]]  # status -> documented error types


@cache
def operations(path: Path = SPEC_PATH) -> tuple[Operation, ...]:
    spec = load_spec(path)
    found = []
    for template, item in spec["paths"].items():
        pattern = re.compile("^" + re.sub(r"\\\{[^}]*\\\}", "[^/]+", re.escape(template)) + "$")
        for method, operation in item.items():
            if method not in VERBS:
                continue
            errors = {}
            for status, response in operation["responses"].items():
                if int(status) >= 400:
                    schema = deref(spec, deref(spec, response)["content"]["application/json"]["schema"])
                    kind = deref(spec, deref(spec, schema["properties"]["error"])["properties"]["type"])
                    errors[int(status)] = frozenset(kind.get("enum", []))
            found.append(Operation(operation["operationId"], method.upper(), pattern, errors))
    return tuple(found)


def operation_for(method: str, path: str) -> Operation | None:
    """`path` is relative to the API base (e.g. `/courts/...`)."""
    return next((op for op in operations() if op.method == method.upper() and op.pattern.match(path)), None)


def error_contract_problems(method: str, path: str, status: int, content_type: str, body: Any) -> list[str]:
    """What is wrong with an error response, against the envelope (A5) and the operation's documented types."""
    problems = []
    if not content_type.startswith("application/json"):
        problems.append(f"Content-Type is {content_type!r}, not application/json")
    error = body.get("error") if isinstance(body, dict) else None
    if (
        not isinstance(error, dict)
        or not isinstance(error.get("type"), str)
        or not isinstance(error.get("message"), str)
    ):
        return [*problems, f"body is not {{'error': {{'type', 'message'}}}}: {str(body)[:200]}"]
    if error["type"] == "invalid_schema":
        issues = error.get("issues")
        if (
            not isinstance(issues, list)
            or not issues
            or not all(
                isinstance(i, dict) and isinstance(i.get("path"), list) and isinstance(i.get("message"), str)
                for i in issues
            )
        ):
            problems.append(f"invalid_schema without a list of {{path, message}} issues: {issues!r}")
    operation = operation_for(method, path)
    if operation is not None:
        documented = operation.errors.get(status)
        if documented is None:
            problems.append(f"{operation.operation_id} documents no {status} response")
        elif error["type"] not in documented:
            problems.append(f"{operation.operation_id} {status} documents {sorted(documented)}, got {error['type']!r}")
    return problems
