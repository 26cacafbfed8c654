"""What the benchmarks share: wrk running the mixed partner workload (mixed.lua) against a server started for
the run, a status check, and a report."""

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = Path(__file__).resolve().parent / "mixed.lua"
CACHE = Path(os.environ.get("BOOKINGKIT_CACHE", Path.home() / ".cache" / "bookingkit"))
PRISM_VERSION = "5"
COURT = "79ae2927-a9bc-46ed-8f9e-079af32b7616"
TOKEN = "Bearer tok_ext_v1_demo.write"


class BenchmarkError(Exception):
    pass


@dataclass
class Result:
    server: str
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    statuses: dict[str, int]
    socket_errors: int

    @property
    def rate(self) -> float:
        return self.requests / self.seconds


def need_wrk() -> str:
    if found := shutil.which("wrk"):
        return found
    if os.geteuid() != 0:
        raise BenchmarkError("wrk is not installed: apt-get install wrk")
    print("installing wrk from Debian's packages ...", flush=True)
    subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True, stdout=subprocess.DEVNULL)
    return shutil.which("wrk") or "wrk"


def need_prism() -> Path:
    binary = CACHE / "prism" / "node_modules" / ".bin" / "prism"
    if binary.exists():
        return binary
    if not shutil.which("npm"):
        raise BenchmarkError("npm is not installed: Prism comes from the npm registry")
    print(f"installing @stoplight/prism-cli@{PRISM_VERSION} into {binary.parent.parent.parent} ...", flush=True)
    binary.parent.parent.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["npm", "install", "--silent", "--no-audit", "--no-fund", f"@stoplight/prism-cli@{PRISM_VERSION}"],
        cwd=binary.parent.parent.parent,
        check=True,
    )
    return binary


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def serving(command: list[str], ready_url: str, log: Path):
    with log.open("w") as handle:
        process = subprocess.Popen(command, stdout=handle, stderr=subprocess.STDOUT, cwd=ROOT)
        try:
            deadline = time.monotonic() + 120
            while True:
                if process.poll() is not None:
                    raise BenchmarkError(f"{command[0]} did not start:\n{log.read_text()[-2000:]}")
                try:
                    httpx.get(ready_url, headers={"Authorization": TOKEN}, timeout=1)
                    break
                except httpx.HTTPError:
                    if time.monotonic() > deadline:
                        raise BenchmarkError(f"{command[0]} did not answer within 120 s") from None
                    time.sleep(0.2)
            yield process
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def wrk(server: str, base: str, prefix: str, args: argparse.Namespace, run: int = 0, seconds: int | None = None):
    command = [
        need_wrk(),
        f"-t{args.threads}",
        f"-c{args.connections}",
        f"-d{seconds or args.duration}s",
        "--timeout",
        "10s",
        "-s",
        str(SCRIPT),
        base,
        "--",
        prefix or "-",
        str(run),
    ]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    line = next(line for line in output.splitlines() if line.startswith("{"))
    data = json.loads(line)
    return Result(
        server,
        data["requests"],
        data["duration_us"] / 1e6,
        data["p50_us"] / 1e3,
        data["p99_us"] / 1e3,
        {str(k): v for k, v in sorted(data["statuses"].items())},
        data["socket_errors"],
    )


def check(result: Result) -> None:
    unexpected = {status: n for status, n in result.statuses.items() if status != "200"}
    if unexpected or result.socket_errors or not result.requests:
        raise BenchmarkError(
            f"{result.server}: expected every answer 200, got {result.statuses}, {result.socket_errors} socket errors"
        )


def mock_command(port: int, *options: str) -> list[str]:
    return [sys.executable, "-m", "bookingkit.cli", "mock", "--port", str(port), *options]


def report(results: list[Result], baseline: Result | None = None) -> None:
    print(f"{'server':<34} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8}  " + ("ratio  " if baseline else "") + "statuses")
    for r in results:
        ratio = f"{r.rate / baseline.rate:>5.2f}x  " if baseline else ""
        print(f"{r.server:<34} {r.rate:>9,.0f} {r.p50_ms:>8.2f} {r.p99_ms:>8.2f}  {ratio}{r.statuses}")
