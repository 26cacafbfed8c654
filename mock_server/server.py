"""Serving the mock with uvicorn, hardened against slow clients and for a clean stop.

- A request's headers must arrive within READ_TIMEOUT_SECONDS of the connection (or of the end of the
  previous answer on a kept-alive connection), else the connection is closed; the body has the same time per
  part (validation.read_body). uvicorn alone would wait for a partial request forever.
- SIGTERM or SIGINT: the listener stops, requests in flight finish within SHUTDOWN_SECONDS, idle and partial
  connections are closed, and the process exits 0 (uvicorn re-raises the signal after its shutdown, which
  would end the process with 143; the handlers installed here turn that into a normal exit).
"""

import signal
import sys
from asyncio import TimerHandle, Transport
from typing import Any

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from mock_server.limits import READ_TIMEOUT_SECONDS

SHUTDOWN_SECONDS = 10


class TimedProtocol(HttpToolsProtocol):
    """uvicorn's HTTP protocol with a deadline for the headers of each request."""

    _header_deadline: TimerHandle | None = None

    def connection_made(self, transport: Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._await_headers()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._await_headers()  # the next request on a kept-alive connection

    def on_headers_complete(self) -> None:
        self._cancel_deadline()
        super().on_headers_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_deadline()
        super().connection_lost(exc)

    def _await_headers(self) -> None:
        self._cancel_deadline()
        self._header_deadline = self.loop.call_later(READ_TIMEOUT_SECONDS, self._too_slow)

    def _cancel_deadline(self) -> None:
        if self._header_deadline is not None:
            self._header_deadline.cancel()
            self._header_deadline = None

    def _too_slow(self) -> None:
        self._header_deadline = None
        if not self.transport.is_closing():
            self.transport.close()


def serve(app: Any, *, host: str, port: int, workers: int = 1, log_level: str = "info", **options: Any) -> None:
    """`app` is the app, or with `workers` > 1 an import string of a factory (`options`: e.g. factory=True)."""

    def stop(signum: int, frame: Any) -> None:
        sys.exit(0)  # reached after uvicorn's own graceful shutdown, when it re-raises the signal

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    uvicorn.run(
        app,
        host=host,
        port=port,
        workers=workers,
        log_level=log_level,
        access_log=False,
        http=TimedProtocol,
        timeout_graceful_shutdown=SHUTDOWN_SECONDS,
        **options,
    )
