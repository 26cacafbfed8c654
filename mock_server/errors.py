"""The Wingfield error envelope over HTTP (A5): every error, whatever raised it, leaves in this shape."""

import json
import logging
from typing import Any

from connexion import AsyncApp
from connexion.exceptions import OAuthResponseProblem, ProblemException, Unauthorized
from connexion.lifecycle import ConnexionRequest, ConnexionResponse
from starlette.exceptions import HTTPException

from .domain.errors import RuleViolation
from .spec import SpecIndex

log = logging.getLogger("bookingkit.errors")

# Types the router and the server raise outside any operation.
GENERIC_STATUS = {"not_found": 404, "method_not_allowed": 405, "internal_error": 500}


def envelope(
    status: int,
    kind: str,
    message: str,
    issues: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> ConnexionResponse:
    error: dict[str, Any] = {"type": kind, "message": message}
    if issues is not None:
        error["issues"] = issues
    headers = dict(headers or {})
    if status == 401:
        headers.setdefault("WWW-Authenticate", "Bearer")
    return ConnexionResponse(
        status_code=status,
        body=json.dumps({"error": error}),
        mimetype="application/json",
        content_type="application/json",
        headers=headers,
    )


def install_error_handlers(app: AsyncApp, index: SpecIndex) -> None:
    status_of = {**GENERIC_STATUS, **index.status_of}

    def on_violation(request: ConnexionRequest, exc: RuleViolation) -> ConnexionResponse:
        return envelope(status_of.get(exc.kind, 400), exc.kind, exc.message, exc.issues)

    def on_problem(request: ConnexionRequest, exc: ProblemException) -> ConnexionResponse:
        if isinstance(exc, OAuthResponseProblem):
            return envelope(401, "invalid_api_token", "the API token is unknown, revoked or expired")
        if isinstance(exc, Unauthorized):
            return envelope(401, "missing_api_token", "send 'Authorization: Bearer <your-api-token>'")
        if exc.status == 415:  # kept within the documented types: a wrong media type is a request-shape error
            issue = {"path": ["header", "Content-Type"], "message": "send the body as application/json"}
            return envelope(400, "invalid_schema", "request validation failed", [issue])
        if exc.status == 400:
            issue = {"path": ["body"], "message": exc.detail or exc.title or "bad request"}
            return envelope(400, "invalid_schema", "request validation failed", [issue])
        log.error("unexpected problem %s: %s", exc.status, exc.detail)
        return envelope(500, "internal_error", "unexpected error")

    def on_http(request: ConnexionRequest, exc: HTTPException) -> ConnexionResponse:
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            headers["Allow"] = index.allow_header(request.url.path) or headers.get("Allow", "")
            return envelope(405, "method_not_allowed", f"{request.method} is not allowed here", headers=headers)
        if exc.status_code == 400:  # e.g. starlette refusing a broken multipart body before any operation code
            issue = {"path": ["body"], "message": str(exc.detail)}
            return envelope(400, "invalid_schema", "request validation failed", [issue], headers)
        if exc.status_code == 404 and index.addresses_operation(request.scope.get("raw_path", b"").decode("latin-1")):
            # A path parameter decoded to `/` or a control character: routable only in its encoded form.
            issue = {"path": ["path"], "message": "path parameters must not contain '/' or control characters"}
            return envelope(400, "invalid_schema", "request validation failed", [issue], headers)
        if exc.status_code == 404:
            return envelope(404, "not_found", f"no operation at {request.url.path}", headers=headers)
        return envelope(exc.status_code, "error", str(exc.detail), headers=headers)

    def on_crash(request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return envelope(500, "internal_error", "unexpected error")

    app.add_error_handler(RuleViolation, on_violation)
    app.add_error_handler(ProblemException, on_problem)
    app.add_error_handler(HTTPException, on_http)
    app.add_error_handler(Exception, on_crash)
