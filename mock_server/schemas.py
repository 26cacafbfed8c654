"""Compiled JSON Schema validators for the request path: a request that passes costs a fraction of what
jsonschema takes; a request that fails is worded by jsonschema, as before.

OpenAPI 3.0 schemas are JSON Schema Draft 4 with extras: `nullable` becomes "or null", the OpenAPI-only keywords
go, and `format: uuid`, which jsonschema's format checker checks in every draft but the compiled Draft 4 does not,
becomes a pattern that accepts less than jsonschema does (its checker also takes trailing hyphens), never more.
tests/test_schemas.py holds the two to that: the compiled one never passes what jsonschema refuses.
"""

from typing import Any

import jsonschema_rs

OPENAPI_ONLY = {
    "nullable",
    "example",
    "examples",
    "discriminator",
    "xml",
    "externalDocs",
    "deprecated",
    "readOnly",
    "writeOnly",
}
NESTED = ("properties", "patternProperties")
SCHEMA_VALUED = ("items", "additionalProperties", "not")
SCHEMA_LISTS = ("allOf", "anyOf", "oneOf")
UUID_PATTERN = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"


def as_json_schema(node: Any) -> Any:
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in OPENAPI_ONLY or key.startswith("x-"):
            continue
        if key in NESTED and isinstance(value, dict):
            out[key] = {name: as_json_schema(sub) for name, sub in value.items()}
        elif key in SCHEMA_VALUED and isinstance(value, dict):
            out[key] = as_json_schema(value)
        elif key in SCHEMA_LISTS and isinstance(value, list):
            out[key] = [as_json_schema(sub) for sub in value]
        else:
            out[key] = value
    if out.get("format") == "uuid":
        del out["format"]
        if "pattern" in out:
            out["allOf"] = [*out.get("allOf", []), {"pattern": UUID_PATTERN}]
        else:
            out["pattern"] = UUID_PATTERN
    if node.get("nullable") or node.get("x-nullable"):
        return {"anyOf": [{"type": "null"}, out]}
    return out


def compiled(schema: Any) -> Any | None:
    """A compiled validator of an OpenAPI schema (`$ref`s already resolved), or None when it cannot be compiled
    (the caller then validates with jsonschema alone)."""
    try:
        return jsonschema_rs.Draft4Validator(as_json_schema(schema), validate_formats=True)
    except (ValueError, TypeError):
        return None
