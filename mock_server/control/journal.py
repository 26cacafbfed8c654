"""The last requests received, for `GET /__admin/requests`, and one access-log line per request."""

import time
from collections import deque
from datetime import UTC, datetime
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..errors import ERROR_KIND
from ..spec import SpecIndex
from .access_log import AccessLog

Entry = tuple[float, str, str, str, str | None, int, float, str | None]


class Journal:
    """Entries are kept as tuples and turned into objects only when asked for."""

    def __init__(self, size: int = 1000) -> None:
        self.entries: deque[Entry] = deque(maxlen=size)

    def last(self, limit: int) -> list[dict[str, Any]]:
        return [_as_object(entry) for entry in list(self.entries)[-limit:][::-1]]  # newest first

    def clear(self) -> None:
        self.entries.clear()


def _as_object(entry: Entry) -> dict[str, Any]:
    at, method, path, query, operation, status, duration, error = entry
    return {
        "at": datetime.fromtimestamp(at, UTC).isoformat().replace("+00:00", "Z"),
        "method": method,
        "path": path,
        "query": query,
        "operationId": operation,
        "status": status,
        "durationMs": round(duration, 2),
        "errorType": error,
    }


class JournalMiddleware:
    """Outside connexion's exception handling, so it sees every final answer, errors included."""

    def __init__(
        self, app: ASGIApp, *, journal: Journal, index: SpecIndex, access_log: AccessLog | None = None
    ) -> None:
        self.app, self.journal, self.index, self.access_log = app, journal, index, access_log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
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
                query = scope.get("query_string", b"").decode("latin-1")
                self.journal.entries.append(
                    (time.time(), scope["method"], path, query, operation, status, duration, scope.get(ERROR_KIND))
                )
            if self.access_log is not None:
                self.access_log.write(scope["method"], path, operation, status, duration)
