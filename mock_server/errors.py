"""Errors over HTTP, each in its API's own envelope: Wingfield `{"error": {"type", "message"}}` (A5),
ONLIVE.SITE `{"statusCode", "message", "errors"?}` (O5). Whatever raised it, an error leaves in one of these."""

import json
import logging
from typing import Any

from connexion import AsyncApp
from connexion.exceptions import OAuthResponseProblem, ProblemException, Unauthorized
from connexion.lifecycle import ConnexionRequest, ConnexionResponse
from starlette.exceptions import HTTPException

from mock_server.onlive.errors import ERRORS as ONLIVE_ERRORS
from mock_server.spec import SpecIndex
from mock_server.violations import RuleViolation

log = logging.getLogger("bookingkit.errors")

# Types the router and the server raise outside any operation.
GENERIC_STATUS = {
    "not_found": 404,
    "method_not_allowed": 405,
    "internal_error": 500,
    "error": 400,
    "invalid_admin_token": 401,
}
UUID_MESSAGE = "Must be a valid UUID"
ERROR_KIND = "bookingkit.error"


def envelope(
    status: int,
    kind: str,
    message: str,
    issues: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> ConnexionResponse:
    """The Wingfield envelope."""
    error: dict[str, Any] = {"type": kind, "message": message}
    if issues is not None:
        error["issues"] = issues
    headers = dict(headers or {})
    if status == 401:
        headers.setdefault("WWW-Authenticate", "Bearer")
    return _json(status, {"error": error}, headers)


def _json(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> ConnexionResponse:
    return ConnexionResponse(
        status_code=status,
        body=json.dumps(body) + "\n",
        mimetype="application/json",
        content_type="application/json",
        headers=dict(headers or {}),
    )


def install_error_handlers(app: AsyncApp, index: SpecIndex) -> None:
    status_of = {**GENERIC_STATUS, **index.status_of}

    def operation_of(request: ConnexionRequest) -> str | None:
        return request.scope.get("extensions", {}).get("connexion_routing", {}).get("operation_id")

    def render(
        request: ConnexionRequest,
        violation: RuleViolation,
        status: int | None = None,
        headers: dict[str, str] | None = None,
    ) -> ConnexionResponse:
        operation = operation_of(request)
        request.scope[ERROR_KIND] = violation.kind  # for the request journal
        status = status or getattr(violation, "status", None)
        sent_path = request.scope.get("raw_path", b"").decode("latin-1") or request.url.path  # as the client sent it
        api = index.api_of.get(operation) if operation else index.api_for_path(sent_path)
        if api == "onlive":
            return onlive(violation, operation, status, headers)
        return envelope(
            status or status_of.get(violation.kind, 400), violation.kind, violation.message, violation.issues, headers
        )

    def onlive(
        violation: RuleViolation, operation: str | None, status: int | None, headers: dict[str, str] | None
    ) -> ConnexionResponse:
        documented = ONLIVE_ERRORS.get(violation.kind)
        status = documented[0] if documented else status or status_of.get(violation.kind, 400)
        body: dict[str, Any] = {"statusCode": status, "message": documented[1] if documented else violation.message}
        if violation.issues:
            body["errors"] = [onlive_field_error(issue) for issue in violation.issues]
            named = index.invalid_messages.get(operation or "", {})
            on_path = {i["path"][1] for i in violation.issues if i["path"][:1] == ["path"] and len(i["path"]) > 1}
            if on_path and on_path <= named.keys():
                body["message"] = named[sorted(on_path)[0]]  # e.g. "Invalid appointment ID format"
        body.update(violation.extra or {})
        return _json(status, body, headers)

    def on_violation(request: ConnexionRequest, exc: RuleViolation) -> ConnexionResponse:
        if reason := getattr(exc, "reason", None):
            log.info("refused %s %s: %s", request.method, request.url.path, reason)
        return render(request, exc)

    def on_problem(request: ConnexionRequest, exc: ProblemException) -> ConnexionResponse:
        if isinstance(exc, OAuthResponseProblem):
            return render(request, RuleViolation("invalid_api_token", "the API token is unknown, revoked or expired"))
        if isinstance(exc, Unauthorized):
            return render(request, RuleViolation("missing_api_token", "send 'Authorization: Bearer <your-api-token>'"))
        if exc.status == 415:  # kept within the documented types: a wrong media type is a request-shape error
            issue = {"path": ["header", "Content-Type"], "message": "send the body as application/json"}
            return render(request, RuleViolation("invalid_schema", "request validation failed", [issue]))
        if exc.status == 400:
            issue = {"path": ["body"], "message": exc.detail or exc.title or "bad request"}
            return render(request, RuleViolation("invalid_schema", "request validation failed", [issue]))
        log.error("unexpected problem %s: %s", exc.status, exc.detail, exc_info=exc)
        return render(request, RuleViolation("internal_error", "unexpected error"), 500)

    def on_http(request: ConnexionRequest, exc: HTTPException) -> ConnexionResponse:
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            headers["Allow"] = index.allow_header(request.url.path) or headers.get("Allow", "")
            violation = RuleViolation("method_not_allowed", f"{request.method} is not allowed here")
            return render(request, violation, 405, headers)
        if exc.status_code == 400:  # e.g. starlette refusing a broken multipart body before any operation code
            issue = {"path": ["body"], "message": str(exc.detail)}
            return render(request, RuleViolation("invalid_schema", "request validation failed", [issue]), 400, headers)
        if exc.status_code == 404 and index.addresses_operation(request.scope.get("raw_path", b"").decode("latin-1")):
            # A path parameter decoded to `/` or a control character: routable only in its encoded form.
            issue = {"path": ["path"], "message": "path parameters must not contain '/' or control characters"}
            return render(request, RuleViolation("invalid_schema", "request validation failed", [issue]), 400, headers)
        if exc.status_code == 404:
            return render(request, RuleViolation("not_found", f"no operation at {request.url.path}"), 404, headers)
        return render(request, RuleViolation("error", str(exc.detail)), exc.status_code, headers)

    def on_crash(request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
        # Called after the `except` that caught it: the traceback must be passed, or the log says "NoneType: None".
        log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
        return render(request, RuleViolation("internal_error", "unexpected error"), 500)

    app.add_error_handler(RuleViolation, on_violation)
    app.add_error_handler(ProblemException, on_problem)
    app.add_error_handler(HTTPException, on_http)
    app.add_error_handler(Exception, on_crash)


def onlive_field_error(issue: dict[str, Any]) -> dict[str, str]:
    """An `invalid_schema` issue as ONLIVE names it: the field without its location, e.g. `calendars.0.type`."""
    where = issue["path"][1:] if issue["path"][:1] in (["body"], ["query"], ["path"], ["header"]) else issue["path"]
    message = issue["message"]
    if "is not a 'uuid'" in message:
        message = UUID_MESSAGE
    return {"field": ".".join(map(str, where)) or str(issue["path"][0]), "message": message}
