"""Response-side `x-undocumented-constraints` (P5): the keywords of a success-response schema that assert more
than the docs and decisions.md promise about an implementation's answer are marked, and the contract suite checks
answers without them (contract_tests.documented.documented_responses); the mock keeps to the full spec.

Pinned here: every mark names constraint keywords of its own node (also `bookingkit spec check`); the ONLIVE list
envelopes keep `items` required while their paging fields are the spec's own; the Wingfield list envelopes keep
`items` and `totalCount`; error responses carry no mark; and a node shared by requests and responses carries only
the request-side marks, since a mark there relaxes both.
"""

import copy
from collections.abc import Iterator
from typing import Any

import jsonschema
import pytest

from bookingkit.files import SPEC_PATH
from bookingkit.openapi import deref, load, operations, pointer, target
from bookingkit.spec_check import CONSTRAINT_KEYWORDS, as_json_schema, check
from contract_tests.documented import documented_responses, relax

MARK = "x-undocumented-constraints"
SPEC = load(str(SPEC_PATH))
DOCUMENTED = documented_responses(SPEC)
FORMATS = jsonschema.FormatChecker()
OPERATIONS = {op["operationId"]: (template, method) for template, method, op in operations(SPEC)}

ONLIVE_LISTS = {"listServices": "ServicePage", "listAppointments": "AppointmentPage", "listCalendars": "CalendarPage"}
WINGFIELD_LISTS = {
    "listFacilityCourts": "CourtPage",
    "listCourtMappings": "CourtMappingPage",
    "listCourtBookings": "CourtBookingPage",
}
# The docs leave the success body of these open (ONLIVE sections 4.2, 4.5, 5.2, 5.4).
UNDOCUMENTED_BODIES = {"createService", "updateService", "createAppointment", "updateAppointment"}


def nodes(schema: Any, where: str, seen: tuple[str, ...] = ()) -> Iterator[tuple[str, dict[str, Any]]]:
    """(pointer, node) of every schema node under `schema`, through `$ref`s (a node is named where it is written)."""
    if isinstance(schema, dict) and "$ref" in schema:
        ref = schema["$ref"]
        if ref in seen:
            return
        where, schema, seen = ref[1:], target(SPEC, ref), (*seen, ref)
    if not isinstance(schema, dict):
        return
    yield where, schema
    for key in ("items", "additionalProperties", "not"):
        if isinstance(schema.get(key), dict):
            yield from nodes(schema[key], f"{where}/{key}", seen)
    for name, sub in (schema.get("properties") or {}).items():
        yield from nodes(sub, where + pointer("properties", name), seen)
    for key in ("allOf", "anyOf", "oneOf"):
        for index, sub in enumerate(schema.get(key) or []):
            yield from nodes(sub, f"{where}/{key}/{index}", seen)


def response_nodes(success: bool) -> dict[str, dict[str, Any]]:
    """The schema nodes of every success (or every error) response."""
    found: dict[str, dict[str, Any]] = {}
    for template, method, operation in operations(SPEC):
        for status, response in operation["responses"].items():
            if str(status).startswith("2") != success:
                continue
            holder = pointer("paths", template, method, "responses", status)
            if "$ref" in response:
                holder, response = response["$ref"][1:], deref(SPEC, response)
            for media_type, media in (response.get("content") or {}).items():
                if "schema" in media:
                    found.update(nodes(media["schema"], f"{holder}{pointer('content', media_type, 'schema')}"))
    return found


def request_nodes() -> dict[str, dict[str, Any]]:
    """The schema nodes of every parameter and request body."""
    found: dict[str, dict[str, Any]] = {}
    for template, method, operation in operations(SPEC):
        shared = SPEC["paths"][template].get("parameters") or []
        raw = [(pointer("paths", template, "parameters", i), p) for i, p in enumerate(shared)]
        raw += [
            (pointer("paths", template, method, "parameters", i), p)
            for i, p in enumerate(operation.get("parameters") or [])
        ]
        for where, param in raw:
            if "$ref" in param:
                where, param = param["$ref"][1:], deref(SPEC, param)
            if "schema" in param:
                found.update(nodes(param["schema"], f"{where}/schema"))
        body = operation.get("requestBody")
        for media_type, media in ((deref(SPEC, body) or {}).get("content") or {}).items():
            where = pointer("paths", template, method, "requestBody", "content", media_type, "schema")
            found.update(nodes(media.get("schema"), where))
    return found


SUCCESS = response_nodes(success=True)
ERRORS = response_nodes(success=False)
REQUESTS = request_nodes()


def success_media(spec: dict[str, Any], operation_id: str) -> dict[str, Any]:
    template, method = OPERATIONS[operation_id]
    responses = spec["paths"][template][method]["responses"]
    (status,) = [s for s in responses if str(s).startswith("2")]
    return deref(spec, responses[status])["content"]["application/json"]


def documented(operation_id: str) -> jsonschema.Draft4Validator:
    """What the contract suite checks an answer against."""
    schema = relax(DOCUMENTED, success_media(DOCUMENTED, operation_id)["schema"])
    return jsonschema.Draft4Validator(schema, format_checker=FORMATS)


def full(operation_id: str) -> jsonschema.Draft4Validator:
    """What the mock keeps its own answers to."""
    schema = as_json_schema(SPEC, success_media(SPEC, operation_id)["schema"])
    return jsonschema.Draft4Validator(schema, format_checker=FORMATS)


def example(operation_id: str) -> Any:
    return copy.deepcopy(success_media(SPEC, operation_id)["example"])


def test_spec_check_is_clean():
    assert check(SPEC) == []


def test_every_response_mark_names_constraint_keywords_of_its_own_node():
    marked = {where: node for where, node in SUCCESS.items() if MARK in node}
    assert marked, "no success-response node carries a mark"
    for where, node in marked.items():
        keywords = node[MARK]
        assert isinstance(keywords, list) and keywords and len(set(keywords)) == len(keywords), where
        assert set(keywords) <= CONSTRAINT_KEYWORDS, where
        assert all(keyword in node for keyword in keywords), where


@pytest.mark.parametrize("operation_id", sorted(OPERATIONS))
def test_every_success_example_keeps_both_views(operation_id):
    """The example answers validate against the full spec (the mock's) and against the documented view."""
    assert list(full(operation_id).iter_errors(example(operation_id))) == []
    assert list(documented(operation_id).iter_errors(example(operation_id))) == []


@pytest.mark.parametrize("operation_id", sorted(ONLIVE_LISTS))
def test_onlive_list_envelopes_require_items_and_mark_the_paging_fields(operation_id):
    page = SPEC["components"]["schemas"][ONLIVE_LISTS[operation_id]]
    assert page["required"] == ["items"] and MARK not in page
    (member,) = page["allOf"]
    assert member == {"required": ["page", "limit", "total"], MARK: ["required"]}
    for name in ("page", "limit", "total"):
        assert set(page["properties"][name][MARK]) == {"type", "minimum"}
    assert MARK not in page["properties"]["items"]

    answer = documented(operation_id)
    assert answer.is_valid({"items": []})
    assert answer.is_valid({"items": [], "page": "first", "limit": 0, "total": -1, "next": None})
    assert not answer.is_valid({"page": 1, "limit": 20, "total": 0})  # list answers begin with `items`
    assert not answer.is_valid({"items": {}})
    assert not full(operation_id).is_valid({"items": []})  # the mock still answers its paging fields


@pytest.mark.parametrize("operation_id", sorted(WINGFIELD_LISTS))
def test_wingfield_list_envelopes_keep_items_and_total_count(operation_id):
    page = SPEC["components"]["schemas"][WINGFIELD_LISTS[operation_id]]
    assert page["required"] == ["items", "totalCount"]
    assert MARK not in page and "allOf" not in page
    assert all(MARK not in page["properties"][name] for name in ("items", "totalCount"))

    answer = documented(operation_id)
    assert answer.is_valid({"items": [], "totalCount": 0, "unknownField": True})  # clients ignore unknown fields
    assert not answer.is_valid({"items": []})
    assert not answer.is_valid({"totalCount": 0})
    assert not answer.is_valid({"items": [], "totalCount": "0"})


def test_error_responses_carry_no_marks():
    assert ERRORS and [where for where, node in ERRORS.items() if MARK in node] == []
    kinds = [node for where, node in ERRORS.items() if where.endswith("/properties/error/properties/type")]
    assert kinds and all(node.get("enum") for node in kinds)  # the documented error types stay asserted


def test_wingfield_answers_keep_what_the_docs_and_decisions_state():
    """Only the participant's exactly-one construct is relaxed on Wingfield answers."""
    wingfield = {"Court", "CourtMappingSummary", "CourtPage", "CourtMapping", "CourtMappingPage", "Empty"}
    wingfield |= {"CourtBooking", "CourtBookingPage", "Participant"}
    marked = {
        where: node[MARK]
        for where, node in SUCCESS.items()
        if MARK in node and where.split("/")[3] in wingfield and where.startswith("/components/schemas/")
    }
    assert marked == {"/components/schemas/Participant": ["additionalProperties", "maxProperties"]}

    booking = documented("getCourtBooking")
    sample = example("getCourtBooking")
    assert booking.is_valid(sample)
    for change in (
        {"participants": []},  # B8
        {"participants": [{"email": "a@example.com"}] * 5},
        {"createdAt": "2025-01-01T10:00:00+01:00"},  # B28
        {"courtId": "not-a-uuid"},
    ):
        assert not booking.is_valid({**sample, **change}), change
    assert not booking.is_valid({k: v for k, v in sample.items() if k != "updatedAt"})
    assert booking.is_valid({**sample, "participants": [{"email": "a@example.com", "name": "A"}]})

    court = documented("getCourtById")
    assert court.is_valid({**example("getCourtById"), "mapping": None})  # C1
    assert not court.is_valid({k: v for k, v in example("getCourtById").items() if k != "mapping"})


def test_onlive_answers_keep_what_the_docs_state():
    service = documented("getService")
    sample = example("getService")
    assert service.is_valid({k: v for k, v in sample.items() if k != "organizationId"})
    assert not full("getService").is_valid({k: v for k, v in sample.items() if k != "organizationId"})
    assert service.is_valid({**sample, "duration": 30.5})  # the docs say `number`
    assert not service.is_valid({**sample, "duration": "30"})
    assert not service.is_valid({k: v for k, v in sample.items() if k != "deletedAt"})  # O1
    assert not service.is_valid({**sample, "deletedAt": "2025-03-09T20:00:00Z"})  # milliseconds and `Z`

    appointment = documented("getAppointment")
    sample = example("getAppointment")
    assert appointment.is_valid({**sample, "state": "rescheduled"})  # the full set is not documented
    assert not full("getAppointment").is_valid({**sample, "state": "rescheduled"})
    assert appointment.is_valid({**sample, "reminders": [{"time": 1.5, "unit": "w", "method": "email"}]})
    assert not appointment.is_valid({k: v for k, v in sample.items() if k != "calendarIds"})

    calendar = documented("getCalendar")
    assert not calendar.is_valid({**example("getCalendar"), "type": "room"})  # `agent` or `asset`
    assert not calendar.is_valid({**example("getCalendar"), "tags": ["x" * 101]})  # at most 100 characters


@pytest.mark.parametrize("operation_id", sorted(UNDOCUMENTED_BODIES))
def test_undocumented_success_bodies_are_not_asserted(operation_id):
    schema = success_media(SPEC, operation_id)["schema"]
    assert schema[MARK] == ["allOf"] and len(schema["allOf"]) == 1 and "$ref" in schema["allOf"][0]
    assert documented(operation_id).is_valid({"accepted": True})
    assert not full(operation_id).is_valid({"accepted": True})


def test_documented_service_answers_stay_asserted():
    for operation_id in ("getService", "deleteBookingService"):
        assert success_media(SPEC, operation_id)["schema"] == {"$ref": "#/components/schemas/Service"}  # O1


def test_nodes_shared_with_requests_carry_only_the_request_side_marks():
    """A mark on a node that requests use too relaxes both; these are the request-side marks (P5), unchanged."""
    shared = {where: node.get(MARK) for where, node in SUCCESS.items() if where in REQUESTS}
    calendar = "/components/schemas/ServiceCalendar"
    dates = f"{calendar}/properties/restrictionDates/properties"
    assert {where: marks for where, marks in shared.items() if marks} == {
        calendar: ["additionalProperties"],
        f"{calendar}/properties/restrictionDates": ["additionalProperties"],
        f"{dates}/include/items/items": ["format"],
        f"{dates}/exclude/items/items": ["format"],
        "/components/schemas/DateRange": ["additionalProperties"],
        "/components/schemas/DateRange/properties/startDate": ["format"],
        "/components/schemas/DateRange/properties/endDate": ["format"],
    }
