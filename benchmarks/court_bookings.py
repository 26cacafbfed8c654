"""Upsert and list latency of the mock with an empty store and with 100,000 bookings over 500 courts.

Run: `make bench` (or `.venv/bin/python benchmarks/court_bookings.py [--bookings N] [--courts N]`).
Requests go through the whole app (routing, token gate, validation, rules, store) in-process, so the
numbers measure the mock, not the network. Both worlds are measured in the same run; the ratios are
what to compare across machines.
"""

import argparse
import statistics
import sys
import tempfile
import time
import uuid
import warnings
from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml

warnings.filterwarnings("ignore", module="connexion")
warnings.filterwarnings("ignore", module="starlette")

from mock_server.app import create_app  # noqa: E402
from mock_server.domain.bookings import CourtBookings  # noqa: E402

SERVICE = "e8623a0d-39de-4963-9c6c-a25dc38e89c9"
TOKEN = "tok_ext_v1_bench.write"
BASE = "/api/v1"
START = datetime(2035, 1, 1, tzinfo=UTC)


def world_file(directory: Path, courts: int) -> tuple[Path, list[str]]:
    org, facility = str(uuid.uuid4()), str(uuid.uuid4())
    court_ids = [str(uuid.UUID(int=i + 1, version=4)) for i in range(courts)]
    world = {
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
                "externalOrganizationId": "bench",
            }
        ],
    }
    path = directory / "bench-world.yaml"
    path.write_text(yaml.safe_dump(world))
    return path, court_ids


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


def fill(app, court_ids: list[str], bookings: int) -> None:
    """Seed through the rules (not HTTP) so that setting up 100,000 bookings takes seconds, not minutes."""
    rules = CourtBookings(app.mock.store, app.mock.clock)
    per_court = bookings // len(court_ids)
    for index, court in enumerate(court_ids):
        for slot in range(per_court):
            rules.upsert(SERVICE, f"seed-{index}-{slot}", body(court, slot))


def timed(call, repeat: int) -> list[float]:
    samples = []
    for i in range(repeat):
        began = time.perf_counter()
        call(i)
        samples.append((time.perf_counter() - began) * 1e6)
    return samples


def measure(app, court_ids: list[str], repeat: int, tag: str) -> dict[str, list[float]]:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    bookings_url = f"{BASE}/external-services/{SERVICE}/court-bookings"
    results = {}
    with app.test_client() as client:

        def upsert(i: int) -> None:
            court = court_ids[i % len(court_ids)]
            response = client.put(
                f"{bookings_url}/by-external-id/{tag}-{i}", json=body(court, 100_000 + i), headers=headers
            )
            assert response.status_code == 200, response.text

        def lister(params: dict):
            def call(i: int) -> None:
                response = client.get(bookings_url, params=params, headers=headers)
                assert response.status_code == 200, response.text

            return call

        timed(upsert, 50)  # warm-up
        results["upsert (new booking)"] = timed(upsert, repeat)
        results["list, first page"] = timed(lister({}), repeat)
        results["list, one court"] = timed(lister({"courtId": court_ids[7]}), repeat)
        results["list, one guest e-mail"] = timed(lister({"participantEmail": "p5@example.com", "limit": 10}), repeat)
        results["list, by external id"] = timed(lister({"externalCourtBookingId": "seed-3-4"}), repeat)
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bookings", type=int, default=100_000)
    parser.add_argument("--courts", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=400, help="timed requests per measurement")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        world, court_ids = world_file(Path(directory), args.courts)
        empty_app, full_app = create_app(world), create_app(world)
        began = time.perf_counter()
        fill(full_app, court_ids, args.bookings)
        print(f"seeded {args.bookings} bookings over {args.courts} courts in {time.perf_counter() - began:.1f} s")
        empty = measure(empty_app, court_ids, args.repeat, "empty")
        full = measure(full_app, court_ids, args.repeat, "full")
    print(f"\n{'median latency, microseconds':<28} {'empty':>10} {'full':>10} {'ratio':>7}   (p95 ratio)")
    for name in empty:
        e, f = statistics.median(empty[name]), statistics.median(full[name])
        e95, f95 = statistics.quantiles(empty[name], n=20)[-1], statistics.quantiles(full[name], n=20)[-1]
        print(f"{name:<28} {e:>10.0f} {f:>10.0f} {f / e:>6.2f}x   ({f95 / e95:.2f}x)")
    ratio = statistics.median(full["upsert (new booking)"]) / statistics.median(empty["upsert (new booking)"])
    print("(list ratios include serialising up to 50 matches in the full world, where the empty one has none)")
    print(f"\nupsert ratio full/empty: {ratio:.2f}x (target: within 1.3x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
