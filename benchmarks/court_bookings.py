"""Flat as the data grows, and big worlds start fast.

Run: `make bench` (or `.venv/bin/python benchmarks/court_bookings.py [--bookings N] [--courts N] [--crowded N]`).

1. Start: a JSON world of 100,000 bookings over 500 courts, served by `bookingkit mock --fixtures` until it
   answers: seconds and resident memory (targets: 5 s, 300 MB).
2. Latency, in-process through the whole app (routing, token gate, validation, rules, store), so the numbers
   measure the mock, not a client or the network: upserts of new bookings and the court's first page (`limit=20`) on an
   empty store, on the 100,000-booking world, and on one court holding 20,000 bookings (target: within 1.2x of
   the empty store). The ratios are what to compare across machines.
"""

import argparse
import asyncio
import gc
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
import warnings
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

warnings.filterwarnings("ignore", module="connexion")
warnings.filterwarnings("ignore", module="starlette")

from mock_server.app import create_app  # noqa: E402
from mock_server.wingfield.rules.bookings import CourtBookings  # noqa: E402

SERVICE = "e8623a0d-39de-4963-9c6c-a25dc38e89c9"
TOKEN = "tok_ext_v1_bench.write"
BASE = "/api/v1"
START = datetime(2035, 1, 1, tzinfo=UTC)
PAGE = 20


def world(courts: int, bookings_per_court: int) -> tuple[dict, list[str]]:
    org, facility = str(uuid.uuid4()), str(uuid.uuid4())
    court_ids = [str(uuid.UUID(int=i + 1, version=4)) for i in range(courts)]
    document = {
        "organizations": [{"id": org, "name": "Bench Org"}],
        "facilities": [{"id": facility, "organizationId": org, "name": "Bench Facility"}],
        "courts": [{"id": c, "facilityId": facility, "name": f"Court {i}"} for i, c in enumerate(court_ids)],
        "externalServices": [{"id": SERVICE, "name": "Bench"}],
        "apiTokens": [{"token": TOKEN, "externalServiceId": SERVICE, "scopes": {"court-booking": "write"}}],
        "organizationRelations": [
            {
                "id": str(uuid.uuid4()),
                "externalServiceId": SERVICE,
                "organizationId": org,
                "externalOrganizationId": "b",
            }
        ],
        "courtBookings": [
            {"externalServiceId": SERVICE, "externalCourtBookingId": f"seed-{index}-{slot}", **body(court, slot)}
            for index, court in enumerate(court_ids)
            for slot in range(bookings_per_court)
        ],
    }
    return document, court_ids


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def body(court: str, slot: int) -> dict:
    start = START + timedelta(hours=slot)
    return {
        "courtId": court,
        "startDate": iso(start),
        "endDate": iso(start + timedelta(minutes=55)),
        "externalUpdatedAt": "2034-01-01T00:00:00Z",
        "participants": [{"email": f"p{slot % 997}@example.com"}],
    }


# -- 1. start ---------------------------------------------------------------------------------------


def measure_start(directory: Path, bookings: int, courts: int) -> tuple[float, float]:
    document, court_ids = world(courts, bookings // courts)
    path = directory / "big-world.json"
    path.write_text(json.dumps(document))
    del document
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [sys.executable, "-m", "bookingkit.cli", "mock", "--fixtures", str(path), "--port", str(port)]
    began = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{port}{BASE}/courts/{court_ids[0]}"
        while True:
            if process.poll() is not None:
                raise SystemExit(f"the mock did not start on {path}")
            try:
                httpx.get(url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=1).raise_for_status()
                break
            except httpx.HTTPError:
                time.sleep(0.02)
        seconds = time.perf_counter() - began
        status = Path(f"/proc/{process.pid}/status").read_text()
        rss_mb = int(status.split("VmRSS:")[1].split()[0]) / 1024
    finally:
        process.terminate()
        process.wait()
    return seconds, rss_mb


# -- 2. latency -------------------------------------------------------------------------------------


def fill(app, court_ids: list[str], per_court: int) -> None:
    """Seed through the rules (not HTTP), as the world loader does."""
    rules = CourtBookings(app.mock.store, app.mock.clock)
    for index, court in enumerate(court_ids):
        for slot in range(per_court):
            rules.upsert(SERVICE, f"seed-{index}-{slot}", body(court, slot))


async def call(app, method: str, path: str, query: str = "", payload: dict | None = None) -> int:
    """One request straight into the ASGI app: no client or network in what is timed."""
    raw = json.dumps(payload).encode() if payload is not None else b""
    headers = [(b"authorization", f"Bearer {TOKEN}".encode()), (b"host", b"bench")]
    if payload is not None:
        headers += [(b"content-type", b"application/json"), (b"content-length", str(len(raw)).encode())]
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 1),
        "server": ("bench", 80),
    }
    pending = [{"type": "http.request", "body": raw, "more_body": False}]
    status = 0

    async def receive() -> dict:
        return pending.pop() if pending else {"type": "http.disconnect"}

    async def send(message: dict) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(scope, receive, send)
    return status


async def timed(request, repeat: int) -> list[float]:
    samples = []
    for i in range(repeat):
        began = time.perf_counter()
        status = await request(i)
        samples.append((time.perf_counter() - began) * 1e6)
        assert status == 200, status
    return samples


async def measure(app, court: str, repeat: int, tag: str) -> dict[str, list[float]]:
    bookings = f"{BASE}/external-services/{SERVICE}/court-bookings"

    async def upsert(i: int) -> int:
        return await call(app, "PUT", f"{bookings}/by-external-id/{tag}-{i}", payload=body(court, 200_000 + i))

    async def first_page(i: int) -> int:
        return await call(app, "GET", bookings, f"courtId={court}&limit={PAGE}")

    await timed(upsert, PAGE + 30)  # warm-up, and a page's worth of bookings on the empty store's court
    return {
        "upsert (new booking)": await timed(upsert, repeat),
        f"list, court, limit={PAGE}": await timed(first_page, repeat),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bookings", type=int, default=100_000)
    parser.add_argument("--courts", type=int, default=500)
    parser.add_argument("--crowded", type=int, default=20_000, help="bookings on the one crowded court")
    parser.add_argument("--repeat", type=int, default=400, help="timed requests per measurement")
    args = parser.parse_args()
    failures = []
    with tempfile.TemporaryDirectory() as directory:
        seconds, rss = measure_start(Path(directory), args.bookings, args.courts)
        print(
            f"start with {args.bookings:,} bookings over {args.courts} courts (JSON world): {seconds:.1f} s, ", end=""
        )
        print(f"{rss:.0f} MB")
        if seconds > 5 or rss > 300:
            failures.append("start over 5 s or 300 MB")
        small, court_ids = world(args.courts, 0)
        path = Path(directory) / "courts.json"
        path.write_text(json.dumps(small))
        empty, spread, crowded = create_app(path), create_app(path), create_app(path)
        began = time.perf_counter()
        fill(spread, court_ids, args.bookings // args.courts)
        fill(crowded, court_ids[:1], args.crowded)
        print(f"seeded the in-process stores in {time.perf_counter() - began:.1f} s")
        gc.collect()
        gc.freeze()  # as the mock's lifespan does (mock_server/collector.py)
        results = {
            "empty store": asyncio.run(measure(empty, court_ids[7], args.repeat, "empty")),
            f"{args.bookings:,} over {args.courts} courts": asyncio.run(
                measure(spread, court_ids[7], args.repeat, "spread")
            ),
            f"{args.crowded:,} on one court": asyncio.run(measure(crowded, court_ids[0], args.repeat, "crowded")),
        }
    names = list(results)
    print(f"\nmedian latency, microseconds   {names[0]:>14} {names[1]:>26} {names[2]:>22}")
    for measurement in results[names[0]]:
        medians = [statistics.median(results[n][measurement]) for n in names]
        ratios = [m / medians[0] for m in medians]
        print(
            f"{measurement:<30} {medians[0]:>14.0f} {medians[1]:>19.0f} ({ratios[1]:.2f}x)"
            f" {medians[2]:>15.0f} ({ratios[2]:.2f}x)"
        )
        if max(ratios) > 1.2:
            failures.append(f"{measurement}: {max(ratios):.2f}x the empty store")
    print("(the empty store holds the warm-up's 50 bookings, so every list answers a full page)")
    print("\n" + ("; ".join(failures) if failures else "flat: every ratio within 1.2x; start within 5 s and 300 MB"))
    return 1 if failures else 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONWARNINGS", "ignore")
    sys.exit(main())
