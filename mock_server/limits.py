"""What one request may hold, so that none can break the mock or stall the requests of others. Beyond a limit
the answer is 400 `invalid_schema` in the API's envelope (ONLIVE: `errors` naming the part), never a 5xx.

| limit | value |
|---|---|
| request body (partner APIs) | 64 KiB (validation.MAX_BODY_BYTES) |
| request body (admin API: state imports, worlds) | 512 MiB |
| nesting depth of a JSON body (free-form fields such as `extraFields` included) | 32 levels (admin: 64) |
| query parameters | 100 |
| path and query together, as sent | 8 KiB |
| request headers together | 16 KiB |
| a query integer with no upper bound in the spec (e.g. `offset`) | taken as 2^62: an empty page |
| headers of a request, and each part of its body, to arrive | 15 s, then the connection is closed (408 for a body) |
"""

from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from mock_server.violations import RuleViolation

MAX_DEPTH = 32
MAX_ADMIN_DEPTH = 64
MAX_QUERY_PARAMETERS = 100
MAX_TARGET_BYTES = 8 * 1024
MAX_HEADER_BYTES = 16 * 1024
LARGEST_INTEGER = 2**62
READ_TIMEOUT_SECONDS = 15.0


def too_much(where: list[Any], message: str) -> RuleViolation:
    return RuleViolation("invalid_schema", "request validation failed", [{"path": where, "message": message}])


def depth_of(value: Any, limit: int) -> int:
    """How deep `value` nests, counting no further than `limit + 1` (iteratively: no recursion to exhaust)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            return depth
        deepest = max(deepest, depth)
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else ()
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return deepest


class RequestLimits:
    """connexion middleware, inside its error handling: the size of what arrived before anything reads it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            query = scope.get("query_string", b"")
            if len(scope.get("raw_path", b"")) + len(query) > MAX_TARGET_BYTES:
                raise too_much(["path"], f"the path and query exceed {MAX_TARGET_BYTES} bytes")
            if query.count(b"&") + 1 > MAX_QUERY_PARAMETERS:
                raise too_much(["query"], f"more than {MAX_QUERY_PARAMETERS} query parameters")
            if sum(len(name) + len(value) for name, value in scope["headers"]) > MAX_HEADER_BYTES:
                raise too_much(["header"], f"the headers exceed {MAX_HEADER_BYTES} bytes")
        await self.app(scope, receive, send)
