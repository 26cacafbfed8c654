"""The token gate, run by connexion's security middleware before request validation (A4 order:
token 401, then scope 403, then the path's external service 403, then the request's shape 400)."""

from typing import Any

from connexion.security import BearerSecurityHandler

from mock_server.clock import Clock
from mock_server.violations import RuleViolation
from mock_server.wingfield.rules.access import authenticate, require_own_service, require_scope
from mock_server.wingfield.store.base import Store


def token_gate(store: Store, clock: Clock, scopes: dict[str, str]) -> type[BearerSecurityHandler]:
    """A connexion security handler class bound to this store; `scopes` is operationId -> `area:level`."""

    class TokenGate(BearerSecurityHandler):
        def get_fn(self, security_scheme: dict[str, Any], required_scopes: Any) -> Any:
            return verify

    async def verify(request: Any) -> dict[str, Any]:
        scheme, _, value = (request.headers.get("Authorization") or "").strip().partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise RuleViolation("missing_api_token", "send 'Authorization: Bearer <your-api-token>'")
        token = authenticate(store, value.strip(), clock.now())
        operation_id = request.scope["extensions"]["connexion_routing"]["operation_id"]
        if required := scopes.get(operation_id):
            require_scope(token, required)
        path_service = request.path_params.get("externalServiceId")
        if path_service is not None:
            require_own_service(token, path_service)
        return {"sub": token.service_id}

    return TokenGate
