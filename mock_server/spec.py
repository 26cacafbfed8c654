"""What the mock reads from openapi.yaml once at start: error types per operation, scopes, routes."""

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bookingkit.documents import parse
from bookingkit.openapi import deref

if TYPE_CHECKING:
    from mock_server.control.prefer import PreferTable

VERBS = ("get", "put", "post", "delete", "patch")
ONLIVE_SCHEME = "onliveSignature"


def load_spec(path: Path) -> dict[str, Any]:
    with path.open(encoding="utf-8") as handle:
        return parse(handle.read())


@dataclass(frozen=True)
class SpecIndex:
    """`status_of` maps each error type to its one HTTP status; `scopes` maps operationId to `area:level`."""

    base_path: str
    status_of: dict[str, int]
    errors_of: dict[str, dict[int, list[str]]]
    scopes: dict[str, str]
    allowed_methods: list[tuple[re.Pattern[str], str]]
    api_of: dict[str, str]  # operationId -> "wingfield" | "onlive" (by its security scheme)
    api_of_path: list[tuple[re.Pattern[str], str]]
    invalid_messages: dict[str, dict[str, str]]  # operationId -> path parameter -> its `x-invalid-message`
    onlive_messages: dict[str, dict[int, str]]  # ONLIVE operationId -> status -> documented message
    routes: list[tuple[re.Pattern[str], str, str]]  # (path pattern, METHOD, operationId)
    prefer: "PreferTable | None" = None  # the prepared answers of `Prefer: code=` / `example=`

    @classmethod
    def build(cls, spec: dict[str, Any]) -> "SpecIndex":
        base = spec["servers"][0]["url"].rstrip("/")
        status_of: dict[str, int] = {}
        errors_of: dict[str, dict[int, list[str]]] = {}
        scopes: dict[str, str] = {}
        allowed: list[tuple[re.Pattern[str], str]] = []
        api_of: dict[str, str] = {}
        api_of_path: list[tuple[re.Pattern[str], str]] = []
        invalid_messages: dict[str, dict[str, str]] = {}
        onlive_messages: dict[str, dict[int, str]] = {}
        routes: list[tuple[re.Pattern[str], str, str]] = []
        for path, item in spec["paths"].items():
            pattern = re.compile("^" + re.sub(r"\\\{[^}]*\\\}", "[^/]+", re.escape(base + path)) + "$")
            allowed.append((pattern, ", ".join(sorted(m.upper() for m in item if m in VERBS))))
            for method, operation in item.items():
                if method not in VERBS:
                    continue
                op_id = operation["operationId"]
                scopes[op_id] = operation.get("x-required-scope", "")
                schemes = {name for requirement in operation.get("security", []) for name in requirement}
                api_of[op_id] = "onlive" if ONLIVE_SCHEME in schemes else "wingfield"
                api_of_path.append((pattern, api_of[op_id]))
                routes.append((pattern, method.upper(), op_id))
                parameters = [deref(spec, p) for p in operation.get("parameters", [])]
                invalid_messages[op_id] = {
                    p["name"]: p["x-invalid-message"] for p in parameters if "x-invalid-message" in p
                }
                errors_of[op_id] = {}
                for status, response in operation["responses"].items():
                    if not str(status).isdigit() or int(status) < 400:  # `4XX`/`default`: answered by Prefer only
                        continue
                    types = error_types_of(spec, deref(spec, response))
                    errors_of[op_id][int(status)] = types
                    if api_of[op_id] == "onlive":
                        media = deref(spec, response).get("content", {}).get("application/json", {})
                        onlive_messages.setdefault(op_id, {})[int(status)] = media.get("example", {}).get("message", "")
                    for kind in types:
                        status_of.setdefault(kind, int(status))
        from mock_server.control.prefer import PreferTable  # here: it imports this module

        return cls(
            base,
            status_of,
            errors_of,
            scopes,
            allowed,
            api_of,
            api_of_path,
            invalid_messages,
            onlive_messages,
            routes,
            PreferTable.build(spec),
        )

    def operation_for(self, method: str, raw_path: str) -> str | None:
        return next((op for pattern, verb, op in self.routes if verb == method and pattern.match(raw_path)), None)

    def documented_errors(self, operation_id: str) -> list[str]:
        """The error types a client of this operation must handle (ONLIVE: the kinds of its documented answers)."""
        if self.api_of.get(operation_id) == "onlive":
            from mock_server.onlive.errors import ERRORS

            documented = self.onlive_messages.get(operation_id, {})
            return [
                kind
                for kind, (status, message) in ERRORS.items()
                if status in documented and (status == 400 or documented[status] == message)
            ]
        return [kind for kinds in self.errors_of.get(operation_id, {}).values() for kind in kinds]

    def api_for_path(self, path: str) -> str:
        return next((api for pattern, api in self.api_of_path if pattern.match(path)), "wingfield")

    def addresses_operation(self, raw_path: str) -> bool:
        """Whether a still percent-encoded path names an operation (starlette cannot route some decoded ones)."""
        return any(pattern.match(raw_path) for pattern, _ in self.allowed_methods)

    def allow_header(self, path: str) -> str | None:
        return next((methods for pattern, methods in self.allowed_methods if pattern.match(path)), None)


def error_types_of(spec: dict[str, Any], response: dict[str, Any]) -> list[str]:
    """The `error.type` enum of a response's JSON schema (empty when it has none)."""
    schema = response.get("content", {}).get("application/json", {}).get("schema")
    if schema is None:
        return []
    error = deref(spec, deref(spec, schema).get("properties", {}).get("error", {}))
    kind = deref(spec, error.get("properties", {}).get("type", {}))
    return list(kind.get("enum", []))
