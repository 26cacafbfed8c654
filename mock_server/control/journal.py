"""The request journal (`GET /__admin/requests`) and one access-log line per request.

Outermost of the mock's middleware, so it sees every final answer, errors included. With a shared backend it
also takes over, before the request is handled, the control state another worker may have changed.
"""

import time
from datetime import UTC, datetime
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mock_server.control.access_log import AccessLog
from mock_server.errors import ERROR_KIND
from mock_server.spec import SpecIndex

CLIP = 512  # characters kept of a long path or query: the journal's 1000 entries stay small whatever is sent


def clip(text: str, keep: int = CLIP) -> str:
    """A long value cut, and marked as cut (with the length it had)."""
    return text if len(text) <= keep else f"{text[:keep]}…[{len(text) - keep} more characters]"


class JournalMiddleware:
    def __init__(self, app: ASGIApp, *, runtime: Any, index: SpecIndex, access_log: AccessLog | None = None) -> None:
        self.app, self.runtime, self.index, self.access_log = app, runtime, index, access_log
        self.backend = runtime.backend

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self.backend.shared:
            self.runtime.sync()
        began, status = time.perf_counter(), 500
        extensions = scope.setdefault("extensions", {})  # connexion's routing notes the operation in this dict

        async def send_and_note(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        finally:
            duration = (time.perf_counter() - began) * 1000
            path = scope.get("raw_path", scope["path"].encode()).decode("latin-1")
            operation = extensions.get("connexion_routing", {}).get("operation_id")
            if operation is None:  # answered before routing (an error outside connexion's routing)
                operation = self.index.operation_for(scope["method"], path)
            if not path.startswith("/__admin"):
                self.backend.journal_append(
                    {
                        "at": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
                        "method": scope["method"],
                        "path": clip(path),
                        "query": clip(scope.get("query_string", b"").decode("latin-1")),
                        "operationId": operation,
                        "status": status,
                        "durationMs": round(duration, 2),
                        "errorType": scope.get(ERROR_KIND),
                    }
                )
            if self.access_log is not None:
                self.access_log.write(scope["method"], path, operation, status, duration)
