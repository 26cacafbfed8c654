"""The last requests received, for `GET /__admin/requests`, and one access-log line per request."""

import logging
import time
from collections import deque
from datetime import UTC, datetime
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..errors import ERROR_KIND
from ..spec import SpecIndex

log = logging.getLogger("bookingkit.access")


class Journal:
    def __init__(self, size: int = 1000) -> None:
        self.entries: deque[dict[str, Any]] = deque(maxlen=size)

    def last(self, limit: int) -> list[dict[str, Any]]:
        return list(self.entries)[-limit:][::-1]  # newest first

    def clear(self) -> None:
        self.entries.clear()


class JournalMiddleware:
    """Outside connexion's exception handling, so it sees every final answer, errors included."""

    def __init__(self, app: ASGIApp, *, journal: Journal, index: SpecIndex) -> None:
        self.app, self.journal, self.index = app, journal, index

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        began, status = time.perf_counter(), 500

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
            operation = self.index.operation_for(scope["method"], path)  # connexion routes a copy of this scope
            entry = {
                "at": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
                "method": scope["method"],
                "path": path,
                "query": scope.get("query_string", b"").decode("latin-1"),
                "operationId": operation,
                "status": status,
                "durationMs": round(duration, 2),
                "errorType": scope.get(ERROR_KIND),
            }
            if not path.startswith("/__admin"):
                self.journal.entries.append(entry)
            log.info("%s %s %s %s %.1fms", scope["method"], path, operation or "-", status, duration)
