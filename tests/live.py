"""A real `bookingkit mock` process on a free port, for the tests that need a socket (a browser, a generator, a
partner's pytest, the file watcher)."""

import contextlib
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def running_mock(log: Path, *options: str, log_level: str = "warning", timeout: float = 60) -> Iterator[str]:
    """The mock's root URL once it answers; a mock that does not start fails the test with its log's end."""
    port = free_port()
    command = [sys.executable, "-m", "bookingkit.cli", "mock", "--port", str(port), "--log-level", log_level]
    with log.open("w") as handle:
        process = subprocess.Popen([*command, *options], cwd=ROOT, stdout=handle, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while not _answers(url):
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"the mock did not start; {log}:\n{log.read_text()[-3000:]}")
            time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _answers(url: str) -> bool:
    try:
        return httpx.get(f"{url}/api/v1/openapi.json", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False
