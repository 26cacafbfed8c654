"""The compiled validators of the request path (mock_server.schemas) never pass what jsonschema refuses: a
request the compiled one passes skips jsonschema, so any such disagreement would let a bad request through."""

import copy

import jsonschema
import pytest
from connexion.json_schema import Draft4RequestValidator
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bookingkit.files import SPEC_PATH
from bookingkit.openapi import deref, operations, parameters
from mock_server.resources import ADMIN_SPEC_PATH
from mock_server.schemas import compiled
from mock_server.spec import load_spec

FORMATS = jsonschema.FormatChecker()


def resolved(spec, node):
    node = deref(spec, node)
    if isinstance(node, dict):
        return {k: resolved(spec, v) for k, v in node.items()}
    if isinstance(node, list):
        return [resolved(spec, v) for v in node]
    return node


def request_schemas():
    found = []
    for spec in (load_spec(SPEC_PATH), load_spec(ADMIN_SPEC_PATH)):
        for path, _method, operation in operations(spec):
            body = deref(spec, operation.get("requestBody") or {})
            media = (body.get("content") or {}).get("application/json")
            if media:
                found.append(
                    (f"{operation['operationId']} body", resolved(spec, media["schema"]), media.get("example"))
                )
            for param in parameters(spec, path, operation):
                schema = resolved(spec, param.get("schema", {}))
                found.append((f"{operation['operationId']} {param['name']}", schema, param.get("example")))
    return found


SCHEMAS = request_schemas()
JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(max_size=40)
    | st.sampled_from(
        [
            "",
            "2031-01-01T10:00:00Z",
            "2031-01-01",
            "79ae2927-a9bc-46ed-8f9e-079af32b7616",
            "a@example.com",
            "not-a-uuid",
            "2031-13-01T00:00:00Z",
            "x" * 300,
        ]
    ),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=12), children, max_size=5),
    max_leaves=20,
)


def mutations(example):
    """Values near a valid one: each field replaced, removed, or joined by another."""
    yield example
    if isinstance(example, dict):
        for key in example:
            yield {k: v for k, v in example.items() if k != key}
            for replacement in (None, "", 0, -1, 1.5, "x" * 300, [], {}, "not-a-uuid", True):
                changed = copy.deepcopy(example)
                changed[key] = replacement
                yield changed
        yield {**example, "unknownField": 1}


@pytest.mark.parametrize("name, schema, example", SCHEMAS, ids=[s[0] for s in SCHEMAS])
def test_compiled_never_passes_what_jsonschema_refuses(name, schema, example):
    fast, wording = compiled(schema), Draft4RequestValidator(schema, format_checker=FORMATS)
    assert fast is not None, f"{name}: the compiled validator could not be built"
    for value in mutations(example) if example is not None else []:
        assert not (fast.is_valid(value) and not wording.is_valid(value)), (name, value)

    @settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
    @given(JSON)
    def agree(value):
        assert not (fast.is_valid(value) and not wording.is_valid(value)), (name, value)

    agree()
