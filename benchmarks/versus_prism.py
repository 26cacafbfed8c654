"""Throughput and latency of the mock against Stoplight Prism and a bare ASGI app, in one run, under the mixed
partner workload of `mixed.lua` (40% getCourtById, 20% court-filtered lists, 30% new upserts, 10% reads of them).

Run: `make bench-prism` (or `.venv/bin/python benchmarks/versus_prism.py [--duration S] [--connections N]`).
It installs what it needs when missing: wrk from Debian's packages, Prism 5 from the npm registry into
~/.cache/bookingkit/prism. Each server runs alone, one after another, on the same spec and workload; every
answer must be 200, or the run fails naming the server and the statuses. `--sustained` runs the mock alone for
six 10-second windows on a growing store and compares the last window with the first.
"""

import argparse
import os
import subprocess
import sys
from pathlib import Path

from loadgen import (
    COURT,
    ROOT,
    BenchmarkError,
    Result,
    check,
    free_port,
    mock_command,
    need_prism,
    report,
    serving,
    wrk,
)


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
