"""openapi.yaml is valid, every example validates against its schema, and every operation is complete."""

import re
from typing import Any

import jsonschema
import pytest
from openapi_spec_validator import validate

from contract_tests.spec import SPEC_PATH, load_spec
from contract_tests.spec import deref as spec_deref

SPEC = load_spec(SPEC_PATH)
VERBS = ("get", "put", "post", "delete", "patch")
OPERATIONS = [
    (path, method, op) for path, item in SPEC["paths"].items() for method, op in item.items() if method in VERBS
]
ONLIVE_IDS = {
    "createService",
    "listServices",
    "getService",
    "updateService",
    "deleteBookingService",
    "createAppointment",
    "listAppointments",
    "getAppointment",
    "updateAppointment",
    "listCalendars",
    "getCalendar",
}
DOCUMENTED_IDS = {
    "getCourtById",
    "listFacilityCourts",
    "listCourtMappings",
    "getCourtMapping",
    "upsertCourtMapping",
    "deleteCourtMapping",
    "listCourtBookings",
    "getCourtBooking",
    "upsertCourtBooking",
    "deleteCourtBooking",
    "getUserById",
    "createExternalServiceUser",
    "patchUserById",
    "listExternalServiceUsers",
    "requestUserRelation",
    "listUserRelations",
    "getUserRelation",
    "patchUserRelationExternalUserId",
    "deleteUserRelation",
    "claimOrganizationRelation",
    "deleteOrganizationRelation",
    "upsertOrganizationUserSubscription",
    "listUserSessions",
    "getSessionDetails",
    "listSessionVideos",
}


def deref(node: Any) -> Any:
    return spec_deref(SPEC, node)


def as_json_schema(schema: Any) -> Any:
    """OpenAPI 3.0 schema to JSON Schema: inline refs, turn `nullable` into a null type, drop extensions."""
    schema = deref(schema)
    if isinstance(schema, list):
        return [as_json_schema(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {
        k: as_json_schema(v) for k, v in schema.items() if not k.startswith("x-") and k not in ("nullable", "example")
    }
    if schema.get("nullable"):
        return {"anyOf": [out, {"type": "null"}]}
    return out


def examples() -> list[tuple[str, Any, Any]]:
    found = []
    for path, method, op in OPERATIONS:
        where = f"{method.upper()} {path}"
        for param in map(deref, op.get("parameters", [])):
            if "example" in param:
                found.append((f"{where} parameter {param['name']}", param["schema"], param["example"]))
        for media in op.get("requestBody", {}).get("content", {}).values():
            found.append((f"{where} request body", media["schema"], media["example"]))
        for status, response in op["responses"].items():
            for media in deref(response).get("content", {}).values():
                if "example" in media:
                    found.append((f"{where} {status}", media["schema"], media["example"]))
    return found


def test_spec_is_valid_openapi_3_0():
    assert SPEC["openapi"].startswith("3.0.")
    validate(SPEC)


@pytest.mark.parametrize("where, schema, example", examples(), ids=[e[0] for e in examples()])
def test_every_example_validates_against_its_schema(where, schema, example):
    jsonschema.Draft4Validator(as_json_schema(schema), format_checker=jsonschema.FormatChecker()).validate(example)


def test_operations_are_those_of_the_public_docs():
    assert {op["operationId"] for _, _, op in OPERATIONS} == DOCUMENTED_IDS | ONLIVE_IDS


WINGFIELD_OPERATIONS = [o for o in OPERATIONS if o[2]["operationId"] in DOCUMENTED_IDS]
ONLIVE_OPERATIONS = [o for o in OPERATIONS if o[2]["operationId"] in ONLIVE_IDS]


def assert_common(op):
    assert op["tags"] and op["summary"] and op["description"]
    success = [status for status in op["responses"] if status.startswith("2")]
    assert len(success) == 1
    ok = op["responses"][success[0]]["content"]["application/json"]
    assert "schema" in ok and "example" in ok


@pytest.mark.parametrize(
    "path, method, op", WINGFIELD_OPERATIONS, ids=[o[2]["operationId"] for o in WINGFIELD_OPERATIONS]
)
def test_every_wingfield_operation_is_complete(path, method, op):
    assert_common(op)
    assert op["security"] == [{"bearerAuth": []}]
    area = "court-booking" if "court" in path else "organization" if "organization" in path else "user"
    assert op["x-required-scope"] == f"{area}:{'read' if method == 'get' else 'write'}"  # A3 and its note for U/R/G/S
    assert "200" in op["responses"] and {"400", "401", "403"} <= set(op["responses"])
    for status, response in op["responses"].items():
        if int(status) >= 400:
            kinds = deref(deref(response["content"]["application/json"]["schema"])["properties"]["error"])
            documented = kinds["properties"]["type"]["enum"]
            assert documented and all(f"`{kind}`" in response["description"] for kind in documented)


@pytest.mark.parametrize("path, method, op", ONLIVE_OPERATIONS, ids=[o[2]["operationId"] for o in ONLIVE_OPERATIONS])
def test_every_onlive_operation_is_complete(path, method, op):
    assert_common(op)
    assert op["security"] == [{"onliveSignature": []}]
    assert {"400", "401"} <= set(op["responses"])
    for status, response in op["responses"].items():
        if int(status) >= 400:
            media = response["content"]["application/json"]
            assert media["schema"] == {"$ref": "#/components/schemas/OnliveError"}  # one error schema per API (O5)
            assert media["example"]["statusCode"] == int(status) and media["example"]["message"]
    if any(p.get("in") == "path" for p in map(deref, op["parameters"])):
        assert "404" in op["responses"] or op["operationId"] == "listServices"


def test_onlive_documented_messages():
    delete = SPEC["paths"]["/booking-services/{id}"]["delete"]["responses"]
    assert delete["403"]["content"]["application/json"]["example"]["message"] == (
        "Cannot delete service with active appointments"
    )
    assert delete["404"]["content"]["application/json"]["example"]["message"] == "Service not found"
    assert delete["401"]["content"]["application/json"]["example"]["message"] == (
        "Invalid or missing authorization credentials"
    )


def test_creates_and_upserts_link_to_read_and_delete():
    for path, operation_id, targets in [
        (
            "/external-services/{externalServiceId}/court-bookings/by-external-id/{externalCourtBookingId}",
            "upsertCourtBooking",
            {"getCourtBooking", "deleteCourtBooking"},
        ),
        (
            "/external-services/{externalServiceId}/courts/{courtId}/mapping",
            "upsertCourtMapping",
            {"getCourtMapping", "deleteCourtMapping"},
        ),
    ]:
        operation = SPEC["paths"][path]["put"]
        assert operation["operationId"] == operation_id
        assert {link["operationId"] for link in operation["responses"]["200"]["links"].values()} == targets


def test_every_pattern_is_anchored_at_the_start():
    """Generators check patterns with `re.match` (openapi-generator's Python client): an unanchored `Z$` would
    refuse every timestamp there, though it means the same under JSON Schema's search semantics."""

    def patterns(node):
        if isinstance(node, dict):
            if isinstance(node.get("pattern"), str):
                yield node["pattern"]
            for value in node.values():
                yield from patterns(value)
        elif isinstance(node, list):
            for value in node:
                yield from patterns(value)

    found = list(patterns(SPEC))
    assert found and all(p.startswith("^") for p in found), [p for p in found if not p.startswith("^")]
    assert re.match("^.*Z$", "2025-01-01T10:00:00Z")
