"""CORS, so a browser front-end on another origin can call the mock (as Prism allows by default).

Starlette's middleware does the work; this only answers a preflight with 204 and no body, as browsers and
Prism expect, and names the headers the two APIs read.
"""

from collections.abc import Sequence

from starlette.datastructures import Headers
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import Response
from starlette.types import ASGIApp

from bookingkit.signing import DATE_HEADER

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
HEADERS = ("Authorization", "Content-Type", "Prefer", DATE_HEADER)


class Cors(CORSMiddleware):
    def __init__(self, app: ASGIApp, origins: Sequence[str] = ("*",)) -> None:
        super().__init__(
            app,
            allow_origins=list(origins),
            allow_methods=list(METHODS),
            allow_headers=list(HEADERS),
            expose_headers=["Allow"],
            max_age=600,
        )

    def preflight_response(self, request_headers: Headers) -> Response:
        answer = super().preflight_response(request_headers)
        if answer.status_code != 200:
            return answer  # a disallowed origin, method or header: Starlette's 400 says which
        headers = {k: v for k, v in answer.headers.items() if k not in ("content-length", "content-type")}
        return Response(status_code=204, headers=headers)
