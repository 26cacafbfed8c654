"""connexion, assembled for speed: only the middleware the mock uses, and every operation prepared once.

connexion still drives routing, security, validation and the docs page from the spec. What changes is what it
does per request that it could do at start: its stock operation rebuilds its decorators (an `inspect.signature`
of the handler) and its URI parser on every call, and its docs middleware matches every request against the
docs routes. Measured with benchmarks/versus_prism.py.
"""

import inspect
import json
import typing as t
from functools import partial
from pathlib import Path
from urllib.parse import parse_qsl

from connexion import AsyncApp, utils
from connexion.apps.abstract import AbstractApp
from connexion.apps.asynchronous import AsyncApi, AsyncASGIApp
from connexion.jsonifier import Jsonifier
from connexion.middleware import MiddlewarePosition
from connexion.middleware.context import ContextMiddleware
from connexion.middleware.exceptions import ExceptionMiddleware
from connexion.middleware.lifespan import LifespanMiddleware
from connexion.middleware.request_validation import (
    RequestValidationAPI,
    RequestValidationMiddleware,
    RequestValidationOperation,
)
from connexion.middleware.response_validation import ResponseValidationMiddleware
from connexion.middleware.routing import RoutingMiddleware
from connexion.middleware.security import SecurityMiddleware
from connexion.middleware.server_error import ServerErrorMiddleware
from connexion.middleware.swagger_ui import SwaggerUIAPI, SwaggerUIMiddleware
from connexion.operations import AbstractOperation
from starlette.requests import Request as StarletteRequest
from starlette.responses import Response as StarletteResponse
from starlette.templating import Jinja2Templates
from starlette.types import Receive, Scope, Send

from mock_server.limits import LARGEST_INTEGER, too_much
from mock_server.validation import PARSED_BODY

DOCS_SUFFIXES = ("/openapi.json", "/swagger.json")
DOCS_PAGE = Path(__file__).resolve().parent / "docs_page"  # index.j2 and the page's own scripts
SIGNING_SCRIPT = "onlive-signing.js"
Runner = t.Callable[..., t.Awaitable[t.Any]]


class PreparedOperation:
    """Calls an operation's handler with arguments bound by a plan made at start, and writes its JSON answer.

    connexion's operation rebuilds its decorators (an `inspect.signature` of the handler) and its URI parser on
    every call, then binds parameters generically; the mock's handlers take only path and query parameters
    (coerced to their schema types, defaults applied), `body` (the JSON the validator already parsed) and
    `user` (from the security step), and return a JSON value, optionally with a status.
    """

    def __init__(self, operation: AbstractOperation, run: Runner | None = None) -> None:
        self.operation_id = operation.operation_id
        self._handler = operation.function
        self._run = run  # the backend's transaction runner, for the partner APIs' operations
        self._write = operation.method.upper() not in ("GET", "HEAD")
        if not inspect.iscoroutinefunction(self._handler):
            raise TypeError(f"the handler of {self.operation_id} must be async")
        signature = inspect.signature(self._handler)
        takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in signature.parameters.values())
        takes = set(signature.parameters)
        self._path: list[str] = []
        self._query: list[tuple[str, str | None, t.Any]] = []  # name, schema type, default
        for param in operation.parameters:
            if param["name"] not in takes and not takes_any:
                continue
            schema = param.get("schema", {})
            if param["in"] == "path":
                self._path.append(param["name"])
            elif param["in"] == "query":
                self._query.append((param["name"], schema.get("type"), schema.get("default", _ABSENT)))
        self._body = "body" in takes
        self._user = "user" in takes

    def _arguments(self, scope: Scope, body: t.Any) -> dict[str, t.Any]:
        arguments: dict[str, t.Any] = {}
        path_params = scope.get("path_params", {})
        for name in self._path:
            arguments[name] = path_params[name]
        if self._query:
            sent: dict[str, str] = {}
            for name, value in parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True):
                sent[name] = value  # a repeated parameter: the last value, as connexion takes it
            for name, kind, default in self._query:
                if name in sent:
                    arguments[name] = _coerce(sent[name], kind)
                elif default is not _ABSENT:
                    arguments[name] = default
        if self._body:
            arguments["body"] = body
        if self._user:
            arguments["user"] = scope.get("extensions", {}).get("connexion_context", {}).get("user")
        return arguments

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self._body and PARSED_BODY not in scope:  # no JSON validator read it: a body the spec cannot take
            raise too_much(["body"], "send the body as JSON, with Content-Type: application/json")
        body = scope.get(PARSED_BODY) if self._body else None
        arguments = self._arguments(scope, body)
        if self._run is None:
            result = await self._handler(**arguments)
        else:
            result = await self._run(lambda: self._handler(**arguments), write=self._write)
        status, headers = 200, None
        if isinstance(result, tuple):
            result, status, *rest = result
            headers = rest[0] if rest else None
        if isinstance(result, StarletteResponse):
            await result(scope, receive, send)
            return
        payload = (json.dumps(result, allow_nan=False) + "\n").encode()  # strict JSON, always
        raw_headers = [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]
        raw_headers += [(k.lower().encode("latin-1"), str(v).encode("latin-1")) for k, v in (headers or {}).items()]
        await send({"type": "http.response.start", "status": status, "headers": raw_headers})
        await send({"type": "http.response.body", "body": payload})


_ABSENT = object()


def _coerce(value: str, kind: str | None) -> t.Any:
    """As connexion coerces a query value after validation; a value it could not coerce stays text. An integer
    beyond what validation bounds (an unbounded `offset`) is taken as LARGEST_INTEGER: an empty page."""
    try:
        if kind == "integer":
            return min(int(value), LARGEST_INTEGER)
        if kind == "number":
            return float(value)
        if kind == "boolean":
            return {"true": True, "false": False}.get(value.lower(), value)
    except ValueError:
        return value
    return value


class PreparedApi(AsyncApi):
    run: Runner | None = None
    transactional: frozenset[str] = frozenset()

    def make_operation(self, operation: AbstractOperation) -> PreparedOperation:  # type: ignore[override]
        run = self.run if operation.operation_id in self.transactional else None
        return PreparedOperation(operation, run)


class PreparedASGIApp(AsyncASGIApp):
    api_cls = PreparedApi


class PreparedValidation(RequestValidationOperation):
    """Request validation with its validators built once per operation; connexion's builds a URI parser, a
    parameter validator and a body validator (each with its JSON Schema validator) on every request."""

    def __init__(self, next_app: t.Any, **kwargs: t.Any) -> None:
        super().__init__(next_app, **kwargs)
        operation = self._operation
        uri_parser = operation.uri_parser_class(operation.parameters, operation.body_definition())
        self._uri_parser = uri_parser
        self._parameters = self._validator_map["parameter"](
            operation.parameters,
            uri_parser=uri_parser,
            strict_validation=self.strict_validation,
            security_query_params=self.security_query_params,
        )
        self._bodies: dict[str, t.Any] = {}  # media type -> validator, for UTF-8 bodies (bounded by `consumes`)

    def _body_validator(self, mime_type: str, encoding: str) -> t.Any:
        if encoding == "utf-8" and mime_type in self._bodies:
            return self._bodies[mime_type]
        schema = self._operation.body_schema(mime_type)
        validator = None
        if schema:
            try:
                validator_class = self._validator_map["body"][mime_type]
            except KeyError:
                validator_class = None
            if validator_class is not None:
                validator = validator_class(
                    schema=schema,
                    required=self._operation.request_body.get("required", False),
                    nullable=utils.is_nullable(self._operation.body_definition(mime_type)),
                    encoding=encoding,
                    strict_validation=self.strict_validation,
                    uri_parser=self._uri_parser,
                )
        if encoding == "utf-8" and mime_type.lower() in {c.lower() for c in self._operation.consumes}:
            self._bodies[mime_type] = validator
        return validator

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self._parameters.validate(scope)
        mime_type, encoding = self.extract_content_type(scope["headers"])
        self.validate_mime_type(mime_type)
        validator = self._body_validator(mime_type, encoding)
        if validator is not None:
            receive, scope = await validator.wrap_receive(receive, scope=scope)
        await self.next_app(scope, receive, send)


class PreparedValidationApi(RequestValidationAPI):
    def make_operation(self, operation: AbstractOperation) -> PreparedValidation:  # type: ignore[override]
        return PreparedValidation(
            self.next_app,
            operation=operation,
            strict_validation=self.strict_validation,
            validator_map=self.validator_map,
        )


class ValidationMiddleware(RequestValidationMiddleware):
    api_cls = PreparedValidationApi


class DocsApi(SwaggerUIAPI):
    """Serves the spec as written, `$ref`s and components kept, and the docs page with the ONLIVE signing script.

    connexion serves its resolved copy of the spec (every `$ref` inlined), from which client generators make a
    model per inlined schema instead of one per component. This serves the document as parsed, turned into JSON
    once at start. The one change is connexion's: `servers` becomes `[{"url": <root path><base path>}]`, so that
    "Try it out" and clients reach this mock, also behind a path-rewriting proxy (an ASGI `root_path`).
    """

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        super().__init__(*args, **kwargs)
        self._raw = self.specification.raw
        self._documents: dict[str, bytes] = {}  # root path + base path -> the JSON served there
        self._document_for(self.base_path.rstrip("/"))
        # Our index.j2 first, connexion's swagger-ui bundle (its assets, its template) behind it.
        self._templates = Jinja2Templates(directory=[DOCS_PAGE, self.options.swagger_ui_template_dir])

    def _document_for(self, base_path: str) -> bytes:
        """The JSON served under `base_path`; made once per base path (one, unless a proxy adds a root path)."""
        document = self._documents.get(base_path)
        if document is None:
            spec = {**self._raw, "servers": [{"url": base_path}]}  # as connexion's `with_base_path`
            document = self._documents[base_path] = Jsonifier().dumps(spec).encode("utf-8")
        return document

    async def _get_openapi_json(self, request: StarletteRequest) -> StarletteResponse:
        document = self._document_for(self._base_path_for_prefix(request))
        return StarletteResponse(content=document, status_code=200, media_type="application/json")

    def add_swagger_ui(self) -> None:
        """connexion's page routes, after a route for the signing script (its static mount would shadow one)."""
        ui_path = self.options.swagger_ui_path.strip().rstrip("/")
        self._signing_script = (DOCS_PAGE / SIGNING_SCRIPT).read_bytes()  # read once, served as is
        self.router.add_route(methods=["GET"], path=f"{ui_path}/{SIGNING_SCRIPT}", endpoint=self._get_signing_script)
        super().add_swagger_ui()

    async def _get_signing_script(self, _: StarletteRequest) -> StarletteResponse:
        return StarletteResponse(content=self._signing_script, media_type="text/javascript")


class DocsMiddleware(SwaggerUIMiddleware):
    """The docs page and the served spec, looked up only for paths that can be theirs."""

    def add_api(
        self, specification: t.Any, base_path: str | None = None, arguments: dict | None = None, **kwargs: t.Any
    ) -> None:
        """As connexion's, with DocsApi for SwaggerUIAPI."""
        api = DocsApi(specification, base_path=base_path, arguments=arguments, default=self.default_fn, **kwargs)
        self.router.mount(api.base_path, app=api.router)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] == "http" and ("/ui" in path or path.endswith(DOCS_SUFFIXES)):
            await super().__call__(scope, receive, send)
        else:
            await self.app(scope, receive, send)


def middlewares(validate_responses: bool) -> list[type]:
    """connexion's stack; unless responses are validated, without the response-validation layer."""
    stack = [
        ServerErrorMiddleware,
        ExceptionMiddleware,
        DocsMiddleware,
        RoutingMiddleware,
        SecurityMiddleware,
        ValidationMiddleware,
        ResponseValidationMiddleware,
        LifespanMiddleware,
        ContextMiddleware,
    ]
    return stack if validate_responses else [m for m in stack if m is not ResponseValidationMiddleware]


class MockApp(AsyncApp):
    """connexion's AsyncApp on prepared operations and the trimmed stack."""

    def __init__(
        self,
        import_name: str,
        *,
        validate_responses: bool = False,
        run: Runner | None = None,
        transactional: t.Iterable[str] = (),
        **kwargs: t.Any,
    ) -> None:
        """`run` runs the operations named in `transactional` each as one transaction of the backend."""
        api = type("BoundApi", (PreparedApi,), {"run": staticmethod(run) if run else None})
        api.transactional = frozenset(transactional)
        self._middleware_app = type("BoundASGIApp", (PreparedASGIApp,), {"api_cls": api})()
        kwargs.setdefault("middlewares", middlewares(validate_responses))
        AbstractApp.__init__(self, import_name, validate_responses=validate_responses, **kwargs)

    def add_middleware(
        self,
        middleware_class: t.Any,
        *,
        position: MiddlewarePosition = MiddlewarePosition.BEFORE_CONTEXT,
        **options: t.Any,
    ) -> None:
        """As connexion's, where a position also names the prepared subclass of its middleware."""
        stack = self.middleware.middlewares
        for index, existing in enumerate(stack):
            existing = existing.func if isinstance(existing, partial) else existing
            if isinstance(existing, type) and issubclass(existing, position.value):
                stack.insert(index, partial(middleware_class, **options))
                return
        raise ValueError(f"no {position.value.__name__} in the middleware stack")
