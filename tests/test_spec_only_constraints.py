"""The mock enforces the bounds the spec adds on its own (`x-undocumented-constraints`, rule P5).

A correct implementation may accept a request that breaks only such a constraint, so the contract suite never
asserts its rejection; refusing it is the mock's own choice, and this file holds the mock to it. Driven by the
spec: for every marked keyword on every operation's parameters and request body, a request that is valid except
for that one keyword is refused with 400 in its API's envelope (Wingfield `invalid_schema`, ONLIVE `errors`), and
the mock's state stays as it was. Each violation is built from a valid request of its operation (BASELINES, which
must itself be accepted) and checked against the spec to break exactly that keyword and nothing else.

Left out: nothing. Every marked keyword is built generically from the baseline value, except `pattern`, whose
breaking values are hand-written (PATTERN_BREAKERS); a marked keyword this file cannot build fails the test and
names itself, so a new mark needs a rule here.
"""

import contextlib
import copy
import json
import uuid
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import quote, urlencode

import jsonschema
import pytest

from bookingkit import signing
from bookingkit.files import SPEC_PATH
from bookingkit.openapi import deref, load, operations, pointer, target
from bookingkit.spec_check import as_json_schema
from contract_tests.profile import BUNDLED_MOCK_PROFILE, load_profile
from mock_server.app import create_app

from .conftest import COURT, SERVICE, TOKENS, check_error_contract
from .test_response_marks import REQUESTS, SUCCESS

MARK = "x-undocumented-constraints"
SPEC = load(str(SPEC_PATH))
ONLIVE = load_profile(BUNDLED_MOCK_PROFILE).onlive_target
FORMATS = jsonschema.FormatChecker()

# The default world (fixtures/default.yaml).
SEED_BOOKING = "demo-seed-1"
SCRATCH_COURT = "1a2b3c4d-5e6f-4a1b-8c2d-3e4f5a6b7c8d"  # Court 3, unmapped
SERVICE_ID = "1610c525-f19a-40d0-8cd1-03daba3d2d98"  # Test Drive Standard
APPOINTMENT = "7c9e6679-7425-40de-944b-e07fc1f90ae7"
USER_GROUP = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"
CALENDAR = ONLIVE.calendar_id
ANA, EVA = "2c4a230c-5085-4924-a3e1-25fb4fc5965b", "c3d4e5f6-a7b8-4c9d-8e0f-1a2b3c4d5e6f"  # ACCEPTED; managed
RIVERSIDE = "3fa85f64-5717-4562-b3fc-2c963f66afa6"


@dataclass(frozen=True)
class Request:
    path: dict[str, str]
    query: dict[str, Any]
    body: Any
    accepted: int  # the status of the request as it stands


SERVICE_CALENDAR = {
    "calendarId": CALENDAR,
    "active": True,
    "type": "agent",
    "restrictionDates": {"include": [["2031-01-01", "2031-02-01"]], "exclude": [["2031-01-10", "2031-01-11"]]},
}
DATE_RANGE = {"startDate": "2031-01-01T00:00:00Z", "endDate": "2031-12-31T00:00:00Z"}
SERVICE_FIELDS = {
    "name": "Spec bounds",
    "duration": 30,
    "timeBetween": 10,
    "minTimeToSchedule": 1,
    "maxTimeToSchedule": 30,
    "incrementTime": 30,
    "calendars": [SERVICE_CALENDAR],
    "dateRanges": [DATE_RANGE],
}
APPOINTMENT_FIELDS = {
    "title": "Spec bounds",
    "description": "A visit",
    "lang": "en",
    "reminders": [{"time": 10, "unit": "m"}],
    "guests": [{"email": "guest@example.com", "extraFields": {"phone": "555", "firstName": "G", "lastName": "H"}}],
}
PAGING = {"page": 1, "limit": 20}

# One valid request per operation that has a marked constraint; every marked node must occur in it.
BASELINES: dict[str, Request] = {
    "listCourtMappings": Request({"externalServiceId": SERVICE}, {"externalCourtId": "RIV-1"}, None, 200),
    "upsertCourtMapping": Request(
        {"externalServiceId": SERVICE, "courtId": SCRATCH_COURT},
        {},
        {"externalCourtId": "RIV-3", "externalCourtName": "Court three"},
        200,
    ),
    "listCourtBookings": Request({"externalServiceId": SERVICE}, {"externalCourtBookingId": SEED_BOOKING}, None, 200),
    "getCourtBooking": Request({"externalServiceId": SERVICE, "externalCourtBookingId": SEED_BOOKING}, {}, None, 200),
    "upsertCourtBooking": Request(
        {"externalServiceId": SERVICE, "externalCourtBookingId": SEED_BOOKING},
        {},
        {
            "courtId": COURT,
            "startDate": "2090-01-01T10:00:00Z",
            "endDate": "2090-01-01T11:00:00Z",
            "externalUpdatedAt": "2025-01-01T00:00:00Z",
            "participants": [{"email": "guest.one@example.com"}],
        },
        200,
    ),
    "deleteCourtBooking": Request(
        {"externalServiceId": SERVICE, "externalCourtBookingId": SEED_BOOKING},
        {"externalUpdatedAt": "2025-01-01T00:00:00Z"},
        None,
        200,
    ),
    "createService": Request(
        {},
        {},
        {
            **SERVICE_FIELDS,
            "image": "https://example.com/car.png",
            "userGroupId": USER_GROUP,
            "typeId": "test-drive",
        },
        201,
    ),
    "listServices": Request(
        {},
        {**PAGING, "search": "Test", "name": "Test Drive Standard", "userGroupId": USER_GROUP, "typeId": "test-drive"},
        None,
        200,
    ),
    "updateService": Request({"id": SERVICE_ID}, {}, SERVICE_FIELDS, 200),
    "createAppointment": Request(
        {},
        {},
        {
            **APPOINTMENT_FIELDS,
            "start": "2031-01-01T10:00:00Z",
            "end": "2031-01-01T10:30:00Z",
            "calendarIds": [CALENDAR],
            "origin": "web",
            "externalId": "ext-visit-1",
        },
        201,
    ),
    "listAppointments": Request(
        {}, {**PAGING, "serviceId": SERVICE_ID, "calendarId": CALENDAR, "state": "pending"}, None, 200
    ),
    "updateAppointment": Request(
        {"appointmentId": APPOINTMENT},
        {},
        {**APPOINTMENT_FIELDS, "classification": "internal", "state": "confirmed", "agentComment": "ok"},
        200,
    ),
    "createExternalServiceUser": Request(
        {"externalServiceId": SERVICE},
        {},
        {
            "email": "spec.bounds@example.com",
            "externalUserId": "spec-bounds",
            "firstName": "Spec",
            "lastName": "Bounds",
        },
        200,
    ),
    "patchUserById": Request({"userId": EVA}, {}, {"firstName": "Eva", "lastName": "Schmidt"}, 200),
    "requestUserRelation": Request(
        {"externalServiceId": SERVICE}, {}, {"email": "finn.berg@example.com", "externalUserId": "spec-finn"}, 200
    ),
    "listUserRelations": Request({"externalServiceId": SERVICE}, {"externalUserId": "demo-user-ana"}, None, 200),
    "patchUserRelationExternalUserId": Request(
        {"externalServiceId": SERVICE, "userId": ANA}, {}, {"externalUserId": "demo-user-ana"}, 200
    ),
    "claimOrganizationRelation": Request(  # a well-formed token nobody issued
        {"externalServiceId": SERVICE}, {}, {"connectToken": "ct_" + "x" * 32, "externalOrganizationId": "spec"}, 404
    ),
    "upsertOrganizationUserSubscription": Request(
        {"organizationId": RIVERSIDE, "userId": ANA}, {}, {"subscription": "PRO"}, 200
    ),
    "listUserSessions": Request({"userId": ANA}, {"sessionType": "MATCH"}, None, 200),
    "listCalendars": Request({}, {**PAGING, "search": "agent", "userGroupId": USER_GROUP}, None, 200),
}

# `pattern` cannot be broken generically: a value that breaks only the pattern, per marked node.
PATTERN_BREAKERS = {
    "/components/parameters/ExternalCourtBookingId/schema": "demo\x01seed",  # a control character
    "/components/schemas/ServiceCreate/properties/image": "ftp://example.com/car.png",  # not http(s)
}
FORMAT_BREAKERS = {
    "uuid": "not-a-uuid",
    "date": "2031-02-30",
    "date-time": "2031-01-01",  # ISO 8601, but a date, not a date-time
    "email": "not-an-email",
}


@dataclass(frozen=True)
class Case:
    operation_id: str
    method: str
    template: str
    node_pointer: str  # the marked schema node
    node: dict[str, Any]
    keyword: str
    location: str  # path, query or body
    where: tuple[Any, ...]  # parameter name, or the path of the node's instance in the body
    missing: str | None = None  # for `required`: the property left out

    @property
    def id(self) -> str:
        where = ".".join(map(str, self.where)) or "body"
        missing = f"-{self.missing}" if self.missing else ""
        return f"{self.operation_id}-{self.location}:{where}-{self.keyword}{missing}"

    @property
    def onlive(self) -> bool:
        return {"onliveSignature": []} in (self.operation().get("security") or [])

    def operation(self) -> dict[str, Any]:
        return SPEC["paths"][self.template][self.method]


def marked_body_nodes(schema: Any, where: str, instance: tuple[Any, ...]):
    """(pointer, node, instance path) of every marked node under a request body schema."""
    if isinstance(schema, dict) and "$ref" in schema:
        where, schema = schema["$ref"][1:], target(SPEC, schema["$ref"])
    if not isinstance(schema, dict):
        return
    if MARK in schema:
        yield where, schema, instance
    for name, sub in (schema.get("properties") or {}).items():
        yield from marked_body_nodes(sub, f"{where}{pointer('properties', name)}", (*instance, name))
    if "items" in schema:
        yield from marked_body_nodes(schema["items"], f"{where}/items", (*instance, 0))


def expand(base: dict[str, Any], node_pointer: str, node: dict[str, Any]):
    """One case per marked keyword; for `required`, one per required property."""
    for keyword in node[MARK]:
        for missing in node["required"] if keyword == "required" else [None]:
            yield Case(**base, node_pointer=node_pointer, node=node, keyword=keyword, missing=missing)


def collect() -> list[Case]:
    cases = []
    for template, method, operation in operations(SPEC):
        base = {"operation_id": operation["operationId"], "method": method, "template": template}
        shared = SPEC["paths"][template].get("parameters") or []
        raw = [(pointer("paths", template, "parameters", i), p) for i, p in enumerate(shared)]
        own = operation.get("parameters") or []
        raw += [(pointer("paths", template, method, "parameters", i), p) for i, p in enumerate(own)]
        for where, param in raw:
            if "$ref" in param:
                where = param["$ref"][1:]
            param = deref(SPEC, param)
            schema = param.get("schema") or {}
            if MARK in schema:
                cases += expand({**base, "location": param["in"], "where": (param["name"],)}, f"{where}/schema", schema)
        body = deref(SPEC, operation.get("requestBody")) or {}
        for media_type, media in (body.get("content") or {}).items():
            start = pointer("paths", template, method, "requestBody", "content", media_type, "schema")
            for where, node, instance in marked_body_nodes(media.get("schema"), start, ()):
                cases += expand({**base, "location": "body", "where": instance}, where, node)
    return cases


CASES = collect()


def all_marked_pointers(node: Any = SPEC, where: tuple[Any, ...] = ()) -> set[str]:
    found = set()
    if isinstance(node, dict):
        if MARK in node:
            found.add(pointer(*where))
        for key, value in node.items():
            if key not in ("example", "examples", "default", "enum"):
                found |= all_marked_pointers(value, (*where, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found |= all_marked_pointers(value, (*where, index))
    return found


# -- building a violation ----------------------------------------------------------------------------------------


def padded(value: str, length: int) -> str:
    """`value` lengthened to `length`, keeping its shape (an e-mail stays an e-mail, a URL a URL)."""
    if "@" in value:
        local, _, domain = value.partition("@")
        return local + "x" * (length - len(value)) + "@" + domain
    return value + "x" * (length - len(value))


def broken(case: Case, value: Any) -> Any:
    """`value` (valid where the node stands) changed to break `case.keyword` of the node and nothing else."""
    node, keyword = case.node, case.keyword
    if keyword == "type" and node["type"] == "integer":
        return node.get("minimum", 0) + 0.5
    if keyword == "minimum":
        return node["minimum"] - 1
    if keyword == "maximum":
        return node["maximum"] + 1
    if keyword == "maxLength":
        return padded(value, node["maxLength"] + 1)
    if keyword == "minLength":
        return value[: node["minLength"] - 1]
    if keyword == "format" and node["format"] in FORMAT_BREAKERS:
        return FORMAT_BREAKERS[node["format"]]
    if keyword == "pattern" and case.node_pointer in PATTERN_BREAKERS:
        return PATTERN_BREAKERS[case.node_pointer]
    if keyword == "enum":
        return "not-one-of-them"
    if keyword == "maxItems" and not node.get("uniqueItems"):
        return [value[0]] * (node["maxItems"] + 1)
    if keyword == "maxItems" and deref(SPEC, node["items"]).get("format") == "uuid":
        return [str(uuid.UUID(int=i + 1, version=4)) for i in range(node["maxItems"] + 1)]
    if keyword == "uniqueItems":
        return [*value, value[0]]
    if keyword == "additionalProperties" and node["additionalProperties"] is False:
        return {**value, "unexpectedField": True}
    if keyword == "required":
        return {name: v for name, v in value.items() if name != case.missing}
    raise NotImplementedError(f"{case.id}: no rule builds a violation of {keyword} at {case.node_pointer}")


def as_sent(value: Any) -> str:
    return json.dumps(value) if isinstance(value, bool) else str(value)


def violating_request(case: Case) -> Request:
    request = copy.deepcopy(BASELINES[case.operation_id])
    if case.location in ("path", "query"):
        (name,) = case.where
        values = request.path if case.location == "path" else request.query
        assert name in values, f"{case.id}: the baseline does not send {name}"
        values[name] = as_sent(broken(case, values[name]))
        return request
    if not case.where:
        return replace(request, body=broken(case, request.body))
    *parents, last = case.where
    holder = request.body
    for part in parents:
        holder = holder[part]
    holder[last] = broken(case, holder[last])  # a KeyError or IndexError: the baseline lacks the node
    return request


def coerce(text: str, schema: dict[str, Any]) -> Any:
    """A parameter's text as the server reads it for its declared type."""
    if schema.get("type") == "integer":
        for parse in (int, float):
            with contextlib.suppress(ValueError):
                return parse(text)
    return text


def without_nullable(node: Any) -> Any:
    """The spec with `nullable` left out: the requests here send no null, and errors then name their keyword."""
    if isinstance(node, dict):
        return {k: without_nullable(v) for k, v in node.items() if k != "nullable"}
    return [without_nullable(v) for v in node] if isinstance(node, list) else node


NOT_NULL = without_nullable(SPEC)


def spec_errors(case: Case, request: Request, location: str) -> list[jsonschema.ValidationError]:
    """What the spec finds wrong with the request's parameters (`path`, `query`) or its body (`body`)."""
    operation = NOT_NULL["paths"][case.template][case.method]
    if location == "body":
        schema = operation["requestBody"]["content"]["application/json"]["schema"]
        validator = jsonschema.Draft4Validator(as_json_schema(NOT_NULL, schema), format_checker=FORMATS)
        return list(validator.iter_errors(request.body))
    errors = []
    for param in (deref(NOT_NULL, p) for p in operation.get("parameters") or []):
        sent = (request.path if param["in"] == "path" else request.query).get(param["name"])
        if sent is None:
            assert not param.get("required"), f"{param['name']} is required"
            continue
        validator = jsonschema.Draft4Validator(as_json_schema(NOT_NULL, param["schema"]), format_checker=FORMATS)
        errors += validator.iter_errors(coerce(as_sent(sent), param["schema"]))
    return errors


# -- sending -----------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def mock_app():
    """One app per module; each test starts from the default world's state."""
    app = create_app(validate_responses=True)
    return app, app.mock.export_document()


@pytest.fixture
def send(mock_app):
    app, pristine = mock_app
    app.mock.import_state(copy.deepcopy(pristine))
    with app.test_client() as client:
        client.event_hooks["response"] = [check_error_contract]

        def request(case: Case, req: Request):
            path = case.template
            for name, value in req.path.items():
                path = path.replace("{" + name + "}", quote(as_sent(value), safe=""))
            query = urlencode({k: as_sent(v) for k, v in req.query.items()}, quote_via=quote)
            url = "/api/v1" + path + (f"?{query}" if query else "")
            raw = b"" if req.body is None else json.dumps(req.body).encode()
            headers = {"Content-Type": "application/json"} if req.body is not None else {}
            if case.onlive:
                now = app.mock.clock.now()
                headers |= signing.sign(
                    case.method.upper(), url, raw, ONLIVE.access_key_id, ONLIVE.secret_access_key, now=now
                ).as_dict()
            else:
                headers["Authorization"] = f"Bearer {TOKENS['write']}"
            return client.request(case.method.upper(), url, content=raw, headers=headers)

        request.state = app.mock.export_document  # type: ignore[attr-defined]
        yield request


def expected_location(case: Case) -> list[Any]:
    if case.location in ("path", "query"):
        return [case.location, *case.where]
    return ["body", *case.where, *([case.missing] if case.missing else [])]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_a_request_breaking_only_a_spec_own_constraint_is_refused(case, send):
    request = violating_request(case)
    errors = spec_errors(case, request, case.location)
    assert errors and {e.validator for e in errors} == {case.keyword}, [e.message for e in errors]
    before = send.state()
    response = send(case, request)
    assert response.status_code == 400, response.text
    body = response.json()
    where = expected_location(case)
    if case.onlive:
        assert body["statusCode"] == 400 and isinstance(body["message"], str)
        field = ".".join(map(str, where[1:])) or where[0]
        assert body["errors"] and all(e["field"] == field for e in body["errors"]), body
    else:
        assert body["error"]["type"] == "invalid_schema"
        assert body["error"]["issues"] and all(i["path"] == where for i in body["error"]["issues"]), body
    assert send.state() == before


@pytest.mark.parametrize("operation_id", sorted(BASELINES))
def test_each_baseline_is_valid_and_accepted(operation_id, send):
    """The requests the violations start from break nothing, so a 400 above is the violation's own."""
    case = next(c for c in CASES if c.operation_id == operation_id)
    baseline, operation = BASELINES[operation_id], case.operation()
    assert spec_errors(case, baseline, "path") == []
    if "requestBody" in operation:
        assert spec_errors(case, baseline, "body") == []
    response = send(case, baseline)
    assert response.status_code == baseline.accepted, response.text


def test_every_mark_is_exercised_and_every_operation_with_one_has_a_baseline():
    """Every request-side mark; response-only marks are pinned by test_response_marks."""
    response_only = {where for where, node in SUCCESS.items() if MARK in node and where not in REQUESTS}
    assert {c.node_pointer for c in CASES} == all_marked_pointers() - response_only
    assert {c.operation_id for c in CASES} == set(BASELINES)


# -- what must, and must not, be marked --------------------------------------------------------------------------


def marks(operation_id: str, name: str | None = None, body: tuple[Any, ...] | None = None) -> set[str]:
    """The marked keywords of one parameter (by name) or of one body node (by the path of its instance)."""
    if name is not None:
        return {
            c.keyword for c in CASES if c.operation_id == operation_id and c.location != "body" and c.where == (name,)
        }
    return {c.keyword for c in CASES if c.operation_id == operation_id and c.location == "body" and c.where == body}


def test_the_known_spec_only_bounds_are_marked():
    assert {"minimum", "maximum"} <= marks("listServices", "page")  # P5: the highest ONLIVE page
    assert {"minimum", "maximum"} <= marks("listServices", "limit")  # ONLIVE: a default only, no documented bound
    assert "format" in marks("listServices", "userGroupId") and "format" in marks("listCalendars", "userGroupId")
    for operation_id in ("getCourtBooking", "upsertCourtBooking", "deleteCourtBooking"):
        assert "maxLength" in marks(operation_id, "externalCourtBookingId")  # docs: maximum length not documented
    assert {"maxLength"} <= marks("upsertCourtMapping", body=("externalCourtId",))
    assert {"required", "additionalProperties"} <= marks("upsertCourtBooking", body=())


def test_documented_and_decided_constraints_are_not_marked():
    wingfield_lists = ("listFacilityCourts", "listCourtMappings", "listCourtBookings")
    assert all(marks(o, "offset") == marks(o, "limit") == set() for o in wingfield_lists)  # section 1.5, B24
    assert marks("upsertCourtBooking", body=("participants",)) == set()  # B8, B10
    assert marks("upsertCourtBooking", body=("participants", 0)) == set()  # B9: the exactly-one construct
    assert marks("upsertCourtBooking", body=("participants", 0, "userId")) == set()
    assert marks("upsertCourtBooking", "externalCourtBookingId") == {"maxLength", "pattern"}  # minLength 1: docs
    assert marks("deleteCourtBooking", "externalUpdatedAt") == set()  # B22
    assert "minLength" not in marks("upsertCourtMapping", body=("externalCourtId",))  # M1
    assert "required" not in marks("upsertCourtMapping", body=())  # M1
    assert "required" not in marks("createService", body=()) and "required" not in marks("createAppointment", body=())
    assert marks("getService", "id") == set() and marks("getAppointment", "appointmentId") == set()  # O7, docs
