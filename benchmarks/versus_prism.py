"""Throughput and latency of the mock against Stoplight Prism and a bare ASGI app, in one run, under the mixed
partner workload of `mixed.lua` (40% getCourtById, 20% court-filtered lists, 30% new upserts, 10% reads of them).

Run: `make bench-prism` (or `.venv/bin/python benchmarks/versus_prism.py [--duration S] [--connections N]`).
It installs what it needs when missing: wrk from Debian's packages, Prism 5 from the npm registry into
~/.cache/bookingkit/prism. Each server runs alone, one after another, on the same spec and workload; every
answer must be 200, or the run fails naming the server and the statuses. `--sustained` runs the mock alone for
six 10-second windows on a growing store and compares the last window with the first.
"""

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


def mock_command(port: int) -> list[str]:
    return [sys.executable, "-m", "mock_server.cli", "mock", "--port", str(port)]


def run_mock(args: argparse.Namespace, folder: Path) -> Result:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with serving(mock_command(port), f"{base}/api/v1/courts/{COURT}", folder / "mock.log"):
        return wrk("bookingkit mock", base, "/api/v1", args)


def run_prism(args: argparse.Namespace, folder: Path) -> Result:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    command = [str(need_prism()), "mock", str(ROOT / "openapi.yaml"), "-h", "127.0.0.1", "-p", str(port)]
    with serving(command, f"{base}/courts/{COURT}", folder / "prism.log"):
        return wrk("Prism", base, "", args)  # Prism serves the spec's paths at /, without the server prefix


def run_bare(args: argparse.Namespace, folder: Path) -> Result:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    command = [sys.executable, str(Path(__file__).resolve().parent / "bare_asgi.py"), str(port)]
    with serving(command, f"{base}/", folder / "bare.log"):
        return wrk("bare ASGI (uvicorn)", base, "/api/v1", args)


def report(results: list[Result]) -> None:
    print(f"{'server':<22} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8}  statuses")
    for r in results:
        print(f"{r.server:<22} {r.rate:>9,.0f} {r.p50_ms:>8.2f} {r.p99_ms:>8.2f}  {r.statuses}")


def sustained(args: argparse.Namespace, folder: Path) -> int:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    windows = []
    with serving(mock_command(port), f"{base}/api/v1/courts/{COURT}", folder / "mock.log"):
        for run in range(6):
            result = wrk(f"window {run + 1}", base, "/api/v1", args, run=run + 1, seconds=10)
            check(result)
            windows.append(result)
    report(windows)
    ratio = windows[-1].rate / windows[0].rate
    print(f"last 10 s / first 10 s: {ratio:.2f}x (needs >= 0.85)")
    return 0 if ratio >= 0.85 else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per server (default 10)")
    parser.add_argument("--connections", type=int, default=32, help="open connections (default 32)")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (default 2)")
    parser.add_argument("--sustained", action="store_true", help="the mock alone, six 10 s windows")
    args = parser.parse_args()
    folder = Path(os.environ.get("TMPDIR", "/tmp")) / f"bookingkit-bench-{os.getpid()}"
    folder.mkdir(parents=True, exist_ok=True)
    try:
        if args.sustained:
            return sustained(args, folder)
        results = [run_mock(args, folder), run_prism(args, folder), run_bare(args, folder)]
        for result in results:
            check(result)
    except (BenchmarkError, subprocess.CalledProcessError) as exc:
        print(f"benchmark failed: {exc}", file=sys.stderr)
        return 2
    report(results)
    mock, prism, bare = results
    print(
        f"bookingkit / Prism: {mock.rate / prism.rate:.2f}x req/s, p99 {mock.p99_ms:.1f} vs {prism.p99_ms:.1f} ms; "
        f"bookingkit / bare ASGI: {mock.rate / bare.rate:.2f}x"
    )
    print(f"({args.connections} connections, {args.threads} wrk threads, {args.duration} s each; logs in {folder})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
