"""Request validation that reports every problem (A5), checks formats, and never fails with a 5xx (A6).

connexion's stock validators stop at the first error, skip `uuid`/`date` formats, and answer bad UTF-8
or a malformed Content-Length with a 500; these subclasses keep connexion's wiring and fix that.
"""

import asyncio
import json
from typing import Any

import jsonschema
from connexion.datastructures import MediaTypeDict
from connexion.json_schema import Draft4RequestValidator
from connexion.validators import JSONRequestBodyValidator, ParameterValidator
from starlette.datastructures import Headers
from starlette.types import Message, Receive, Scope

from mock_server.limits import MAX_ADMIN_DEPTH, MAX_DEPTH, READ_TIMEOUT_SECONDS, depth_of
from mock_server.schemas import compiled
from mock_server.violations import RuleViolation

FORMATS = jsonschema.FormatChecker()  # date-time (with rfc3339-validator), uuid, email, date, ...
PARSED_BODY = "bookingkit.body"  # the scope key of the JSON body, parsed and validated once
MAX_BODY_BYTES = 64 * 1024
MAX_ADMIN_BODY_BYTES = 512 * 1024 * 1024  # a state export of a large world comes back through the admin API


def _schema_problem(issues: list[dict[str, Any]]) -> RuleViolation:
    return RuleViolation("invalid_schema", "request validation failed", issues)


def _where(error: jsonschema.ValidationError) -> list[Any]:
    """Issue path: the keyword that names a missing or extra property points at that property."""
    path = list(error.absolute_path)
    if error.validator == "required":
        path.append(error.message.split("'")[1])
    return path


async def read_body(receive: Receive, limit: int = MAX_BODY_BYTES) -> tuple[list[Message], bytes]:
    """The whole body, refused as soon as it passes the limit; the messages are kept to be replayed."""
    messages, chunks, size, more = [], [], 0, True
    while more:
        try:
            async with asyncio.timeout(READ_TIMEOUT_SECONDS):  # a client that stops sending does not hold us
                message = await receive()
        except TimeoutError:
            raise _schema_problem(
                [{"path": ["body"], "message": f"the body did not arrive within {READ_TIMEOUT_SECONDS:.0f} s"}]
            ) from None
        messages.append(message)
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise _schema_problem([{"path": ["body"], "message": f"the body exceeds {limit} bytes"}])
        chunks.append(chunk)
        more = message.get("more_body", False) and message["type"] == "http.request"
    return messages, b"".join(chunks)


class BodyValidator(JSONRequestBodyValidator):
    """Limits the size before reading it all, reports all issues, and maps `x-error-types` of the spec.

    A schema node may carry `x-error-types: {keyword: error_type}`: when every issue comes from such a
    keyword, the request fails with that documented type instead of `invalid_schema` (B9, B10).
    """

    limit = MAX_BODY_BYTES
    depth = MAX_DEPTH

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._compiled = Draft4RequestValidator(self._schema, format_checker=FORMATS)  # once per operation
        self._fast = compiled(self._schema)  # passes a valid body quickly; jsonschema words a bad one

    async def wrap_receive(self, receive: Receive, *, scope: Scope) -> tuple[Receive, Scope]:
        headers = Headers(scope=scope)
        declared = headers.get("content-length")
        if declared is not None:
            if not declared.isdigit():
                raise _schema_problem([{"path": ["header", "Content-Length"], "message": "not a number of bytes"}])
            if int(declared) > self.limit:
                raise _schema_problem([{"path": ["body"], "message": f"the body exceeds {self.limit} bytes"}])
        messages, raw = await read_body(receive, self.limit)
        body = self._decode(raw)
        if depth_of(body, self.depth) > self.depth:
            raise _schema_problem([{"path": ["body"], "message": f"the body nests deeper than {self.depth} levels"}])
        self._validate(body)
        scope[PARSED_BODY] = body
        return self._insert_messages(receive, messages=messages), scope

    def _decode(self, raw: bytes) -> Any:
        if not raw.strip():
            return None
        try:
            return json.loads(raw.decode(self._encoding or "utf-8"), parse_constant=_not_json)
        except UnicodeDecodeError as exc:
            raise _schema_problem(
                [{"path": ["body"], "message": f"the body is not valid UTF-8 ({exc.reason})"}]
            ) from None
        except (ValueError, LookupError, RecursionError) as exc:
            raise _schema_problem([{"path": ["body"], "message": f"the body is not valid JSON ({exc})"}]) from None

    def _validate(self, body: Any) -> Any:
        if body is None:
            if self._required and not self._nullable:
                raise _schema_problem([{"path": ["body"], "message": "a JSON body is required"}])
            return body
        if self._fast is not None and self._fast.is_valid(body):
            return body
        errors = sorted(self._compiled.iter_errors(body), key=lambda e: list(map(str, e.absolute_path)))
        if not errors:
            return body
        special = [(e.schema.get("x-error-types") or {}).get(e.validator) for e in errors]
        if all(special) and len(set(special)) == 1:
            first = errors[0]
            where = "/".join(map(str, first.absolute_path)) or "body"
            raise RuleViolation(special[0], f"{where}: {first.message}")
        raise _schema_problem([{"path": ["body", *_where(e)], "message": e.message} for e in errors])


class ParametersValidator(ParameterValidator):
    """All parameter issues at once, with formats checked; unknown query parameters are issues too. Each
    parameter's validator is built once, when connexion builds this for its operation at start."""

    def __init__(self, parameters: list[dict[str, Any]], *args: Any, **kwargs: Any) -> None:
        super().__init__(parameters, *args, **kwargs)
        self._validators = {
            (param["in"], param["name"]): (
                compiled(param.get("schema", param)),
                Draft4RequestValidator(param.get("schema", param), format_checker=FORMATS),
            )
            for param in parameters
        }

    def validate_parameter(  # type: ignore[override] # connexion calls it through the instance
        self, parameter_type: str, value: Any, param: dict[str, Any], param_name: str | None = None
    ) -> str | None:
        if value is None:
            return f"{param['name']} is required" if param.get("required") else None
        fast, wording = self._validators[(param["in"], param["name"])]
        if fast is not None and fast.is_valid(value):
            return None
        return next((e.message for e in wording.iter_errors(value)), None)

    def validate_request(self, request: Any) -> None:
        issues: list[dict[str, Any]] = []
        if self.strict_validation:
            extra = self.validate_query_parameter_list(request, security_params=self.security_query_params)
            issues += [{"path": ["query", name], "message": "unknown query parameter"} for name in sorted(extra)]
        check = {
            "path": self.validate_path_parameter,
            "query": self.validate_query_parameter,
            "header": self.validate_header_parameter,
            "cookie": self.validate_cookie_parameter,
        }
        for where in ("path", "query", "header", "cookie"):
            for param in self.parameters.get(where, []):
                try:
                    message = check[where](param, request)
                except (ValueError, TypeError) as exc:  # connexion's coercion of e.g. limit=abc
                    message = f"not a valid {param.get('schema', {}).get('type', 'value')}: {exc}"
                if message:
                    issues.append({"path": [where, param["name"]], "message": message})
        if issues:
            raise _schema_problem(issues)


def _not_json(constant: str) -> Any:
    raise ValueError(f"{constant} is not a JSON number")


class AdminBodyValidator(BodyValidator):
    limit = MAX_ADMIN_BODY_BYTES
    depth = MAX_ADMIN_DEPTH


VALIDATOR_MAP = {
    "parameter": ParametersValidator,
    "body": MediaTypeDict({"*/*json": BodyValidator}),
}
ADMIN_VALIDATOR_MAP = {
    "parameter": ParametersValidator,
    "body": MediaTypeDict({"*/*json": AdminBodyValidator}),
}
