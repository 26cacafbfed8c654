"""`bookingkit spec check`: is the spec sound, and does it keep the project's conventions?

Findings carry a rule name and a JSON pointer. Validity is openapi-spec-validator's; the rest is ours.
"""

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import jsonschema
from openapi_spec_validator import OpenAPIV30SpecValidator

from .openapi import deref, operations, parameters, pointer, refs, target, template_names


@dataclass(frozen=True)
class Finding:
    rule: str
    location: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"rule": self.rule, "location": self.location, "message": self.message}


def check(spec: dict[str, Any]) -> list[Finding]:
    """References first (the validator cannot follow broken ones), then validity, then the project's rules."""
    findings = _refs(spec)
    if not findings:
        try:
            findings = [
                Finding("valid-openapi", "/" + "/".join(map(str, e.absolute_path)), e.message)
                for e in OpenAPIV30SpecValidator(spec).iter_errors()
            ]
        except Exception as exc:  # noqa: BLE001 - the validator's own failure on a broken document is a finding
            findings = [Finding("valid-openapi", "/", f"the document cannot be validated: {exc!r}")]
    if not any(f.rule == "ref-resolves" for f in findings):
        for rules in (_examples, _operations, _unused, _undocumented_constraints):
            # A shape the validator has already reported can stop a rule; what it found before still stands.
            with contextlib.suppress(KeyError, TypeError, AttributeError, IndexError, ValueError):
                rules(spec, findings)
    return sorted(set(findings), key=lambda f: (f.location, f.rule, f.message))


def _refs(spec: dict[str, Any]) -> list[Finding]:
    found = []
    for ref, where in refs(spec):
        try:
            target(spec, ref)
        except (KeyError, IndexError, ValueError, TypeError):
            found.append(Finding("ref-resolves", pointer(*where, "$ref"), f"{ref} does not resolve"))
    return found


def as_json_schema(spec: dict[str, Any], schema: Any, seen: frozenset[str] = frozenset()) -> Any:
    """OpenAPI 3.0 schema to JSON Schema: refs inlined (cycles left open), `nullable` as a null type."""
    if isinstance(schema, dict) and "$ref" in schema:
        ref = schema["$ref"]
        return {} if ref in seen else as_json_schema(spec, target(spec, ref), seen | {ref})
    if isinstance(schema, list):
        return [as_json_schema(spec, s, seen) for s in schema]
    if not isinstance(schema, dict):
        return schema
    skip = ("nullable", "example", "discriminator", "xml", "externalDocs", "deprecated", "readOnly", "writeOnly")
    out = {}
    for key, value in schema.items():
        if key in ("properties", "patternProperties") and isinstance(value, dict):  # names, not keywords
            out[key] = {name: as_json_schema(spec, sub, seen) for name, sub in value.items()}
        elif key in ("enum", "default", "required"):
            out[key] = value
        elif not key.startswith("x-") and key not in skip:
            out[key] = as_json_schema(spec, value, seen)
    if schema.get("nullable"):
        return {"anyOf": [out, {"type": "null"}]}
    return out


def _examples(spec: dict[str, Any], found: list[Finding]) -> None:
    """Every `example`, `examples[*].value` and `default` must validate against the schema it illustrates."""

    def verify(schema: Any, value: Any, where: tuple[Any, ...], rule: str) -> None:
        try:
            validator = jsonschema.Draft4Validator(
                as_json_schema(spec, schema), format_checker=jsonschema.FormatChecker()
            )
            errors = [(pointer(*where, *e.absolute_path), e.message) for e in validator.iter_errors(value)]
        except Exception as exc:  # noqa: BLE001 - e.g. a pattern Python's `re` cannot compile
            errors = [(pointer(*where), f"cannot be checked: {exc}")]
        found.extend(Finding(rule, location, message) for location, message in errors)

    def visit_schema(schema: Any, where: tuple[Any, ...]) -> None:
        if not isinstance(schema, dict) or "$ref" in schema:
            return
        for key in ("example", "default"):
            if key in schema:
                verify(schema, schema[key], (*where, key), f"{key}-valid")
        for key in ("items", "additionalProperties", "not"):
            visit_schema(schema.get(key), (*where, key))
        for key in ("properties",):
            for name, sub in (schema.get(key) or {}).items():
                visit_schema(sub, (*where, key, name))
        for key in ("allOf", "oneOf", "anyOf"):
            for index, sub in enumerate(schema.get(key) or []):
                visit_schema(sub, (*where, key, index))

    def visit_media(holder: dict[str, Any], where: tuple[Any, ...]) -> None:
        schema = holder.get("schema")
        if schema is None:
            return
        if "example" in holder:
            verify(schema, holder["example"], (*where, "example"), "example-valid")
        for name, example in (holder.get("examples") or {}).items():
            example = deref(spec, example)
            if isinstance(example, dict) and "value" in example:
                verify(schema, example["value"], (*where, "examples", name, "value"), "example-valid")
        visit_schema(schema, (*where, "schema"))

    for name, schema in ((spec.get("components") or {}).get("schemas") or {}).items():
        visit_schema(schema, ("components", "schemas", name))
    for name, param in ((spec.get("components") or {}).get("parameters") or {}).items():
        visit_media(param, ("components", "parameters", name))
    for path, method, operation in operations(spec):
        base = ("paths", path, method)
        for index, param in enumerate(operation.get("parameters") or []):
            if "$ref" not in param:
                visit_media(param, (*base, "parameters", index))
        for media_type, media in ((operation.get("requestBody") or {}).get("content") or {}).items():
            visit_media(media, (*base, "requestBody", "content", media_type))
        for status, response in (operation.get("responses") or {}).items():
            for media_type, media in ((deref(spec, response) or {}).get("content") or {}).items():
                visit_media(media, (*base, "responses", status, "content", media_type))


def _is_error_envelope(spec: dict[str, Any], schema: Any) -> bool:
    """The API's error envelope: `{"error": {"type": <enum>, ...}}` (Wingfield) or `{statusCode, message}` (ONLIVE)."""
    schema = deref(spec, schema)
    properties = (schema or {}).get("properties") or {}
    error = deref(spec, properties.get("error")) or {}
    kind = deref(spec, (error.get("properties") or {}).get("type")) or {}
    return bool(kind.get("enum")) or {"statusCode", "message"} <= properties.keys()


def _operations(spec: dict[str, Any], found: list[Finding]) -> None:
    global_security = "security" in spec
    for path, method, operation in operations(spec):
        where = ("paths", path, method)
        for field in ("operationId", "summary"):
            if not operation.get(field):
                found.append(Finding(f"operation-{field.lower()}", pointer(*where), f"the operation has no {field}"))
        if not operation.get("tags"):
            found.append(Finding("operation-tag", pointer(*where), "the operation has no tag"))
        if "security" not in operation and not global_security:
            found.append(
                Finding(
                    "operation-security",
                    pointer(*where),
                    "no security requirement (write `security: []` for a public operation)",
                )
            )
        responses = operation.get("responses") or {}
        success = [s for s in responses if str(s).startswith("2")]
        has_schema = any(
            "schema" in media
            for s in success
            for media in ((deref(spec, responses[s]) or {}).get("content") or {}).values()
        )
        if not success or not has_schema:
            found.append(
                Finding(
                    "success-response",
                    pointer(*where, "responses"),
                    "no 2xx response with a schema (200, or 201 for a create)",
                )
            )
        for status, response in responses.items():
            if str(status)[0] in "45":
                content = (deref(spec, response) or {}).get("content") or {}
                schemas = [media.get("schema") for media in content.values()]
                if not schemas or not all(_is_error_envelope(spec, s) for s in schemas):
                    found.append(
                        Finding(
                            "error-envelope",
                            pointer(*where, "responses", status),
                            "the error body is not the API's envelope (error.type enum, or statusCode and message)",
                        )
                    )
        declared = {p.get("name") for p in parameters(spec, path, operation) if p.get("in") == "path"}
        for name in template_names(path):
            if name not in declared:
                found.append(Finding("path-parameter-declared", pointer(*where), f"{{{name}}} is not declared"))
        for name in declared - set(template_names(path)):
            found.append(
                Finding("path-parameter-declared", pointer(*where), f"path parameter {name} is not in the path")
            )
    return found


def _unused(spec: dict[str, Any], found: list[Finding]) -> None:
    used = {ref for ref, _ in refs(spec)}
    schemes_used = {name for requirement in spec.get("security") or [] for name in requirement}
    for _, _, operation in operations(spec):
        schemes_used |= {name for requirement in operation.get("security") or [] for name in requirement}
    for kind, entries in (spec.get("components") or {}).items():
        for name in entries or {}:
            is_used = (name in schemes_used) if kind == "securitySchemes" else f"#/components/{kind}/{name}" in used
            if not is_used:
                found.append(
                    Finding("component-used", pointer("components", kind, name), f"{kind} {name} is never used")
                )
    return found


UNDOCUMENTED = "x-undocumented-constraints"
CONSTRAINT_KEYWORDS = frozenset(
    ("type", "format", "enum", "pattern", "minLength", "maxLength", "minimum", "maximum", "exclusiveMinimum")
    + ("exclusiveMaximum", "multipleOf", "minItems", "maxItems", "uniqueItems", "minProperties", "maxProperties")
    + ("required", "additionalProperties", "allOf", "anyOf", "oneOf", "not")
)


def _schemas(spec: dict[str, Any]) -> Iterator[tuple[tuple[Any, ...], Any]]:
    """Every schema node written in the document (not through a `$ref`), with where it stands."""

    def walk(schema: Any, where: tuple[Any, ...]) -> Iterator[tuple[tuple[Any, ...], Any]]:
        if not isinstance(schema, dict) or "$ref" in schema:
            return
        yield where, schema
        for key in ("items", "additionalProperties", "not"):
            yield from walk(schema.get(key), (*where, key))
        for name, sub in (schema.get("properties") or {}).items():
            yield from walk(sub, (*where, "properties", name))
        for key in ("allOf", "oneOf", "anyOf"):
            for index, sub in enumerate(schema.get(key) or []):
                yield from walk(sub, (*where, key, index))

    def media(holder: Any, where: tuple[Any, ...]) -> Iterator[tuple[tuple[Any, ...], Any]]:
        if not isinstance(holder, dict) or "$ref" in holder:
            return
        if "schema" in holder:
            yield from walk(holder["schema"], (*where, "schema"))
        for media_type, content in (holder.get("content") or {}).items():
            yield from media(content, (*where, "content", media_type))

    components = spec.get("components") or {}
    for name, schema in (components.get("schemas") or {}).items():
        yield from walk(schema, ("components", "schemas", name))
    for kind in ("parameters", "requestBodies", "responses", "headers"):
        for name, holder in (components.get(kind) or {}).items():
            yield from media(holder, ("components", kind, name))
    for path, item in (spec.get("paths") or {}).items():
        for index, param in enumerate(item.get("parameters") or []):
            yield from media(param, ("paths", path, "parameters", index))
    for path, method, operation in operations(spec):
        base = ("paths", path, method)
        for index, param in enumerate(operation.get("parameters") or []):
            yield from media(param, (*base, "parameters", index))
        yield from media(operation.get("requestBody"), (*base, "requestBody"))
        for status, response in (operation.get("responses") or {}).items():
            yield from media(response, (*base, "responses", status))


def _markers(node: Any, where: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Where the document carries the extension; example values and property names are data, not nodes."""
    if isinstance(node, dict):
        if UNDOCUMENTED in node:
            yield where
        for key, value in node.items():
            if key in ("example", "examples", "default", "enum", "x-error-types"):
                continue
            if key == "properties" and isinstance(value, dict):
                for name, sub in value.items():
                    yield from _markers(sub, (*where, key, name))
            else:
                yield from _markers(value, (*where, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _markers(value, (*where, index))


def _undocumented_constraints(spec: dict[str, Any], found: list[Finding]) -> None:
    """`x-undocumented-constraints` (P5): a list of constraint keywords, each present on the same schema node."""
    rule = "undocumented-constraint-unknown"
    schemas = dict(_schemas(spec))
    for where in _markers(spec):
        location = pointer(*where, UNDOCUMENTED)
        node = schemas.get(where)
        if node is None:
            found.append(Finding(rule, location, "only a schema node can mark its constraints"))
            continue
        marked = node[UNDOCUMENTED]
        if not isinstance(marked, list) or not marked or not all(isinstance(k, str) for k in marked):
            found.append(Finding(rule, location, f"not a non-empty list of keyword names: {marked!r}"))
            continue
        for keyword in marked:
            if keyword not in CONSTRAINT_KEYWORDS:
                found.append(Finding(rule, location, f"{keyword!r} is not a constraint keyword"))
            elif keyword not in node:
                found.append(Finding(rule, location, f"{keyword!r} is not on this schema"))
        for keyword in sorted({k for k in marked if marked.count(k) > 1}):
            found.append(Finding(rule, location, f"{keyword!r} is listed twice"))
