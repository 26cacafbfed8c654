"""Several worker processes on one SQL store (SQLite, PostgreSQL), as `bookingkit mock --workers 2` runs them:
the rules hold across processes, the admin API answers the same whichever worker it reaches, the state
survives a restart, and the contract suite passes."""

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
import yaml

from contract_tests.profile import BUNDLED_MOCK_PROFILE

from .conftest import COURT, SERVICE, TOKENS
from .databases import store_url

ADMIN = {"Authorization": "Bearer admin"}
WRITE = {"Authorization": f"Bearer {TOKENS['write']}"}
BOOKINGS = f"/api/v1/external-services/{SERVICE}/court-bookings/by-external-id"


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request, tmp_path) -> Iterator[str]:
    with store_url(request.param, tmp_path) as url:
        yield url


@contextmanager
def serving(url: str, *options: str, log: Path) -> Iterator[str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [sys.executable, "-m", "bookingkit.cli", "mock", "--store", url, "--port", str(port)]
    command += ["--admin-token", "admin", "--log-level", "warning", *options]
    with log.open("a") as handle:
        process = subprocess.Popen(command, stdout=handle, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, f"the mock stopped:\n{log.read_text()[-3000:]}"
            try:
                httpx.get(f"{base}/api/v1/openapi.json", timeout=1).raise_for_status()
                break
            except httpx.HTTPError:
                assert time.monotonic() < deadline, f"the mock did not answer:\n{log.read_text()[-3000:]}"
                time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def booking(hour: int, version: str = "2031-01-01T00:00:00Z") -> dict:
    return {
        "courtId": COURT,
        "startDate": f"2091-03-04T{hour:02d}:00:00Z",
        "endDate": f"2091-03-04T{hour + 2:02d}:00:00Z",
        "externalUpdatedAt": version,
        "participants": [{"email": "race@example.com"}],
    }


def test_fifty_overlapping_upserts_over_two_workers_give_exactly_one_booking(url, tmp_path):
    with serving(url, "--workers", "2", log=tmp_path / "mock.log") as base, httpx.Client(base_url=base) as http:

        def upsert(n: int) -> int:
            return http.put(f"{BOOKINGS}/race-{n}", json=booking(10 + n % 2), headers=WRITE, timeout=60).status_code

        with ThreadPoolExecutor(max_workers=25) as pool:
            statuses = list(pool.map(upsert, range(50)))
        assert statuses.count(200) == 1 and statuses.count(409) == 49, statuses
        listed = http.get(f"/api/v1/external-services/{SERVICE}/court-bookings?courtId={COURT}", headers=WRITE).json()
        assert len([b for b in listed["items"] if b["externalCourtBookingId"].startswith("race-")]) == 1


def test_the_newest_version_wins_across_workers(url, tmp_path):
    with serving(url, "--workers", "2", log=tmp_path / "mock.log") as base, httpx.Client(base_url=base) as http:
        versions = [f"2031-01-01T00:{minute:02d}:00Z" for minute in range(30)]

        def upsert(version: str) -> int:
            return http.put(f"{BOOKINGS}/versioned", json=booking(4, version), headers=WRITE, timeout=60).status_code

        with ThreadPoolExecutor(max_workers=10) as pool:
            statuses = list(pool.map(upsert, reversed(versions)))
        assert set(statuses) <= {200, 409} and 200 in statuses
        assert http.get(f"{BOOKINGS}/versioned", headers=WRITE).json()["externalUpdatedAt"] == versions[-1]


def test_the_admin_api_answers_the_same_from_every_worker(url, tmp_path):
    with serving(url, "--workers", "2", log=tmp_path / "mock.log") as base, httpx.Client(base_url=base) as http:
        assert http.put("/__admin/clock", json={"freezeAt": "2031-02-03T04:05:06Z"}, headers=ADMIN).status_code == 200
        http.put("/__admin/faults", json={"getCourtById": {"error": {"type": "court_not_found"}}}, headers=ADMIN)
        http.delete("/__admin/requests", headers=ADMIN)
        for _ in range(20):  # each on a new connection, so both workers answer some
            with httpx.Client(base_url=base) as fresh:
                assert fresh.get("/__admin/clock", headers=ADMIN).json()["now"] == "2031-02-03T04:05:06Z"
                assert fresh.get(f"/api/v1/courts/{COURT}", headers=WRITE).status_code == 404
        journal = http.get("/__admin/requests?limit=100", headers=ADMIN).json()["items"]
        assert [entry["operationId"] for entry in journal] == ["getCourtById"] * 20
        http.put(f"{BOOKINGS}/to-reset", json=booking(16), headers=WRITE)
        assert http.post("/__admin/reset", headers=ADMIN).status_code == 200
        for _ in range(6):
            with httpx.Client(base_url=base) as fresh:
                assert fresh.get(f"{BOOKINGS}/to-reset", headers=WRITE).status_code == 404


def test_the_state_survives_a_restart_and_reset_store_starts_again(url, tmp_path):
    log = tmp_path / "mock.log"
    with serving(url, log=log) as base:
        assert httpx.put(f"{base}{BOOKINGS}/kept", json=booking(6), headers=WRITE).status_code == 200
    with serving(url, "--workers", "2", log=log) as base:
        assert httpx.get(f"{base}{BOOKINGS}/kept", headers=WRITE).status_code == 200
    with serving(url, "--reset-store", log=log) as base:
        assert httpx.get(f"{base}{BOOKINGS}/kept", headers=WRITE).status_code == 404
        assert httpx.get(f"{base}{BOOKINGS}/demo-seed-1", headers=WRITE).status_code == 200


def test_the_contract_suite_passes_against_two_workers(url, tmp_path):
    with serving(url, "--workers", "2", log=tmp_path / "mock.log") as base:
        profile = yaml.safe_load(BUNDLED_MOCK_PROFILE.read_text())
        for api in ("wingfield", "onlive"):
            profile[api]["base_url"] = f"{base}/api/v1"
        target = tmp_path / "target.yaml"
        target.write_text(yaml.safe_dump(profile))
        run = subprocess.run(
            [
                sys.executable,
                "-m",
                "pytest",
                "--pyargs",
                "contract_tests",
                "--target",
                str(target),
                "-q",
                "-p",
                "no:cacheprovider",
            ],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=900,
        )
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]


def test_several_workers_need_a_sql_store():
    result = subprocess.run(
        [sys.executable, "-m", "bookingkit.cli", "mock", "--workers", "2"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2 and "memory store lives in one process" in result.stderr
