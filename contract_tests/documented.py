"""What the docs and decisions.md alone promise: the spec without the constraints it adds on its own (marked
`x-undocumented-constraints`, rule P5).

A correct implementation may accept a request that breaks only such a constraint, so the suite asserts the
rejection of generated negative data only when the request, as it was sent, breaks a documented constraint; and
it may answer outside such a constraint, so the suite checks success responses against `documented_responses`.
"""

import copy
import json
import re
from dataclasses import dataclass
from functools import cache
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import jsonschema

from bookingkit.openapi import deref, parameters

from .spec import load_spec

MARKER = "x-undocumented-constraints"
FORMATS = jsonschema.FormatChecker()  # uuid, date-time (rfc3339-validator), email, date, ...
INTEGER = re.compile(r"^[+-]?\d+$")


@dataclass(frozen=True)
class Parameter:
    name: str
    location: str  # path, query, header
    required: bool
    type: str | None
    validator: jsonschema.Draft4Validator


@dataclass(frozen=True)
class Request:
    """One operation's documented request: its parameters and body, each with a validator of its own."""

    path: re.Pattern[str]
    parameters: tuple[Parameter, ...]
    body: jsonschema.Draft4Validator | None
    body_required: bool


def relax(spec: dict[str, Any], node: Any, depth: int = 0) -> Any:
    """The schema as JSON Schema draft 4, `$ref`s resolved, marked constraints and `nullable` translated away."""
    node = deref(spec, node)
    if depth > 64 or not isinstance(node, dict):
        return node
    dropped = set(node.get(MARKER) or [])
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in dropped or key.startswith("x-") or key in ("nullable", "example", "examples", "discriminator"):
            continue
        if key in ("properties", "patternProperties", "definitions"):
            out[key] = {name: relax(spec, sub, depth + 1) for name, sub in value.items()}
        elif key in ("items", "additionalProperties", "not") and isinstance(value, dict):
            out[key] = relax(spec, value, depth + 1)
        elif key in ("allOf", "anyOf", "oneOf"):
            out[key] = [relax(spec, sub, depth + 1) for sub in value]
        else:
            out[key] = value
    if node.get("nullable"):
        return {"anyOf": [out, {"type": "null"}]}
    return out


def _validator(schema: Any) -> jsonschema.Draft4Validator:
    return jsonschema.Draft4Validator(schema, format_checker=FORMATS)


@cache
def requests() -> dict[str, Request]:
    """Every operation of the spec, by operationId."""
    spec = load_spec()
    found = {}
    for template, item in spec["paths"].items():
        names = re.findall(r"\{([^}]+)\}", template)
        pattern = re.escape(template)
        for name in names:
            pattern = pattern.replace(re.escape("{" + name + "}"), f"(?P<{name}>[^/]*)")
        for operation in item.values():
            if not isinstance(operation, dict) or "operationId" not in operation:
                continue
            params = []
            for param in parameters(spec, template, operation):
                schema = relax(spec, param.get("schema", {}))
                required = param.get("required", False) and "required" not in (param.get(MARKER) or [])
                kind = schema.get("type") if isinstance(schema, dict) else None
                params.append(Parameter(param["name"], param["in"], required, kind, _validator(schema)))
            body, body_required = None, False
            if request_body := deref(spec, operation.get("requestBody")):
                media = request_body.get("content", {}).get("application/json")
                if media is not None:
                    body = _validator(relax(spec, media.get("schema", {})))
                    body_required = bool(request_body.get("required"))
            found[operation["operationId"]] = Request(re.compile(f"{pattern}$"), tuple(params), body, body_required)
    return found


def _coerce(raw: str, kind: str | None) -> Any:
    """A parameter's text as a server reads it for the declared type; the text itself when it does not parse."""
    if kind == "integer" and INTEGER.match(raw):
        return int(raw)
    if kind == "number":
        try:
            value = float(raw)
        except ValueError:
            return raw
        return int(value) if value.is_integer() and INTEGER.match(raw) else value
    if kind == "boolean" and raw in ("true", "false"):
        return raw == "true"
    return raw


def documented_violations(
    operation_id: str, url: str, headers: dict[str, str], body: bytes | None, locations: set[str]
) -> list[str]:
    """The documented constraints that the request as sent breaks, looked at only in `locations`
    (`path`, `query`, `header`, `body`): where schemathesis made it negative.
    """
    request = requests().get(operation_id)
    if request is None:
        return []
    parts = urlsplit(url)
    path_match = request.path.search(parts.path)
    query: dict[str, list[str]] = {}
    for name, value in parse_qsl(parts.query, keep_blank_values=True):
        query.setdefault(name, []).append(value)
    lowered = {k.lower(): v for k, v in headers.items()}
    problems = []
    for param in request.parameters:
        if param.location not in locations:
            continue
        if param.location == "path":
            sent = [unquote(path_match.group(param.name))] if path_match else []
        elif param.location == "query":
            sent = query.get(param.name, [])  # repeats of a single-valued parameter: each must be valid
        elif param.location == "header":
            sent = [lowered[param.name.lower()]] if param.name.lower() in lowered else []
        else:
            continue
        if not sent:
            if param.required:
                problems.append(f"{param.location} parameter {param.name} is missing")
            continue
        for raw in sent:
            for error in param.validator.iter_errors(_coerce(raw, param.type)):
                problems.append(f"{param.location} parameter {param.name}: {error.message}")
    if "body" in locations and request.body is not None:
        if not body:
            if request.body_required:
                problems.append("the body is missing")
        else:
            try:
                document = json.loads(body)
            except ValueError:
                problems.append("the body is not JSON")
            else:
                problems += [f"body {list(e.absolute_path)}: {e.message}" for e in request.body.iter_errors(document)]
    return problems


def documented_responses(spec: dict[str, Any]) -> dict[str, Any]:
    """A copy of the spec whose success-response schemas are inlined without their marked keywords. Requests keep
    the spec's constraints: generated valid data stays inside them, where every implementation must accept it."""
    out = copy.deepcopy(spec)
    for item in out["paths"].values():
        for operation in item.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            for status, response in operation["responses"].items():
                if not str(status).startswith("2"):
                    continue
                response = operation["responses"][status] = copy.deepcopy(deref(spec, response))
                for media in (response.get("content") or {}).values():
                    if "schema" in media:
                        media["schema"] = _unmarked(spec, media["schema"])
    return out


def _unmarked(spec: dict[str, Any], node: Any, depth: int = 0) -> Any:
    """An OpenAPI schema inlined, with the keywords each node marks taken out."""
    node = deref(spec, node)
    if depth > 64 or not isinstance(node, dict):
        return copy.deepcopy(node)
    dropped = set(node.get(MARKER) or [])
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in dropped or key == MARKER:
            continue
        if key == "properties":
            out[key] = {name: _unmarked(spec, sub, depth + 1) for name, sub in value.items()}
        elif key in ("items", "additionalProperties", "not") and isinstance(value, dict):
            out[key] = _unmarked(spec, value, depth + 1)
        elif key in ("allOf", "anyOf", "oneOf"):
            out[key] = [_unmarked(spec, sub, depth + 1) for sub in value]
        else:
            out[key] = copy.deepcopy(value)
    return out
