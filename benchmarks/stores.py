"""The mixed partner workload of versus_prism.py on every store: memory, SQLite and PostgreSQL, with one and two
worker processes, one after another, with the ratio of each to memory.

Run: `make bench-stores` (or `.venv/bin/python benchmarks/stores.py [--duration S] [--postgres URL]`).
PostgreSQL: a server URL (default BOOKINGKIT_TEST_POSTGRES_URL, else postgresql://postgres@127.0.0.1:5432/test);
each run gets a fresh database, dropped afterwards. Every answer must be 200.
"""

import argparse
import os
import sys
import tempfile
import uuid
from contextlib import contextmanager
from pathlib import Path

from loadgen import COURT, BenchmarkError, Result, check, free_port, mock_command, report, serving, wrk


@contextmanager
def fresh_postgres(server: str):
    import psycopg

    name = f"bookingkit_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(server, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{server.rpartition('/')[0]}/{name}"
    finally:
        with psycopg.connect(server, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run(label: str, store: str, workers: int, args: argparse.Namespace, folder: Path) -> Result:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    command = mock_command(port, "--store", store, "--workers", str(workers), "--reset-store")
    with serving(command, f"{base}/api/v1/courts/{COURT}", folder / f"{label.replace(' ', '-')}.log"):
        result = wrk(label, base, "/api/v1", args)
    check(result)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per configuration (default 10)")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    default_pg = os.environ.get("BOOKINGKIT_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--postgres", default=default_pg, help="a PostgreSQL server to create a database on")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bookingkit-bench-stores-"))
    results = []
    try:
        results.append(run("memory, 1 worker", "memory", 1, args, folder))
        for workers in (1, 2):
            results.append(
                run(f"sqlite, {workers} worker(s)", f"sqlite:///{folder}/bench-{workers}.db", workers, args, folder)
            )
        for workers in (1, 2):
            with fresh_postgres(args.postgres) as url:
                results.append(run(f"postgresql, {workers} worker(s)", url, workers, args, folder))
    except BenchmarkError as exc:
        print(f"benchmark failed: {exc}", file=sys.stderr)
        return 2
    report(results, baseline=results[0])
    print(f"({args.connections} connections, {args.threads} wrk threads, {args.duration} s each; logs in {folder})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
