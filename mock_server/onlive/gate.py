"""The ONLIVE.SITE signed-request gate (O6), a connexion middleware placed before security.

connexion's security step never sees the body, and the signature covers the body's hash: this middleware
reads the body (up to the size limit), checks the signature against the path and query exactly as sent,
and replays the body for validation. The organization of the access key goes on to the handlers (O4).
"""

from typing import Any

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bookingkit import signing
from mock_server.clock import Clock
from mock_server.onlive.rules.authentication import check_credentials, check_signature
from mock_server.onlive.store.base import OnliveStore
from mock_server.spec import SpecIndex
from mock_server.validation import read_body
from mock_server.violations import RuleViolation

ORGANIZATION = "bookingkit.onlive.organization"


class SignatureGate:
    def __init__(self, app: ASGIApp, *, store: OnliveStore, clock: Clock, index: SpecIndex) -> None:
        self.app, self.store, self.clock, self.index = app, store, clock, index

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        operation = scope.get("extensions", {}).get("connexion_routing", {}).get("operation_id")
        if scope["type"] != "http" or self.index.api_of.get(operation) != "onlive":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        date = headers.get(signing.DATE_HEADER)
        key, sent_signature = check_credentials(self.store, headers.get("authorization"), date, self.clock.now())
        messages, body = await read_body(receive)  # only for a caller with credentials: 401 comes first (O6)
        check_signature(
            key,
            sent_signature,
            scope["method"],
            scope.get("raw_path", scope["path"].encode()).decode("latin-1"),
            scope.get("query_string", b"").decode("latin-1"),
            date or "",
            body,
        )
        scope[ORGANIZATION] = key.organization_id
        await self.app(scope, _replay(messages, receive), send)


def _replay(messages: list[Message], receive: Receive) -> Receive:
    pending = iter(messages)

    async def replay() -> Message:
        return next(pending, None) or await receive()

    return replay


def organization_gate() -> type:
    """connexion's security handler for the ONLIVE scheme: passes on what SignatureGate verified."""
    from connexion.security import ApiKeySecurityHandler

    class OrganizationOfKey(ApiKeySecurityHandler):
        def get_fn(self, security_scheme: dict[str, Any], required_scopes: Any) -> Any:
            async def verify(request: Any) -> dict[str, Any]:
                organization = request.scope.get(ORGANIZATION)
                if organization is None:
                    raise RuleViolation("unauthorized", "Invalid or missing authorization credentials")
                return {"sub": organization}

            return verify

    return OrganizationOfKey
