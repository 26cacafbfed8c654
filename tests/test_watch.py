"""`bookingkit mock --watch`: an edited world file becomes the state; a bad one is refused naming the entry and the
state stays; rename-replace keeps working; with several workers only the parent reloads."""

import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from click.testing import CliRunner

from bookingkit.cli import main
from bookingkit.files import DEFAULT_WORLD

from .conftest import COURT, SERVICE, TOKENS
from .live import running_mock

WRITE = {"Authorization": f"Bearer {TOKENS['write']}"}
BOOKING = f"/api/v1/external-services/{SERVICE}/court-bookings/by-external-id/watch-1"
MISSING_COURT = "00000000-0000-4000-8000-000000000000"


@contextmanager
def watched_mock(world: Path, log: Path, *options: str) -> Iterator[str]:
    options = ("--fixtures", str(world), "--watch", "--admin-token", "admin", *options)
    with running_mock(log, *options, log_level="info") as base:
        eventually(lambda: "watching" in log.read_text(), log, "the watcher did not start")
        yield base


def eventually(check: Callable[[], Any], log: Path, what: str, timeout: float = 20) -> Any:
    """Polls: a reload takes a fraction of a second, a loaded CI machine may take several."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        assert time.monotonic() < deadline, f"{what}; log:\n{log.read_text()[-3000:]}"
        time.sleep(0.1)


def world_with(**court_names: str) -> dict[str, Any]:
    world = yaml.safe_load(DEFAULT_WORLD.read_text())
    for court in world["courts"]:
        court["name"] = court_names.get(court["id"], court["name"])
    return world


def court_name(base: str) -> str:
    return httpx.get(f"{base}/api/v1/courts/{COURT}", headers=WRITE, timeout=5).json()["name"]


@pytest.fixture
def world(tmp_path: Path) -> Path:
    folder = tmp_path / "worlds"  # the log stays out of the watched folder
    folder.mkdir()
    path = folder / "world.yaml"
    path.write_text(DEFAULT_WORLD.read_text())
    return path


def test_edit_reloads_and_a_bad_file_leaves_the_state(world: Path, tmp_path: Path):
    log = tmp_path / "mock.log"
    with watched_mock(world, log) as base:
        world.write_text(yaml.safe_dump(world_with(**{COURT: "Renamed Court"})))
        eventually(lambda: court_name(base) == "Renamed Court", log, "the edit was not loaded")
        assert f"reloaded world from {world}: 5 courts" in log.read_text()

        body = {
            "courtId": COURT,
            "startDate": "2031-05-01T10:00:00Z",
            "endDate": "2031-05-01T11:00:00Z",
            "externalUpdatedAt": "2031-01-02T00:00:00Z",
            "participants": [{"email": "guest@example.com"}],
        }
        assert httpx.put(f"{base}{BOOKING}", json=body, headers=WRITE, timeout=5).status_code == 200

        bad = world_with(**{COURT: "Never Loaded"})
        bad["courtBookings"][1]["courtId"] = MISSING_COURT
        world.write_text(yaml.safe_dump(bad))
        line = eventually(
            lambda: next((x for x in log.read_text().splitlines() if "not reloaded" in x), None), log, "no refusal"
        )
        assert f"{world}: courtBookings[1]" in line and MISSING_COURT in line
        world.write_text("courts: [\n")  # a YAML syntax error: refused as well, on one line
        eventually(lambda: "not valid YAML or JSON" in log.read_text(), log, "no YAML refusal")
        assert httpx.get(f"{base}{BOOKING}", headers=WRITE, timeout=5).status_code == 200, "the state stayed"
        assert court_name(base) == "Renamed Court"

        world.write_text(yaml.safe_dump(world_with(**{COURT: "Fixed Court"})))
        eventually(lambda: court_name(base) == "Fixed Court", log, "the fixed file was not loaded")
        assert httpx.get(f"{base}{BOOKING}", headers=WRITE, timeout=5).status_code == 404, "back to the new world"
        admin = {"Authorization": "Bearer admin"}
        assert httpx.post(f"{base}/__admin/reset", headers=admin, timeout=5).status_code == 200
        assert court_name(base) == "Fixed Court", "a reset goes back to the reloaded world"


def replace(world: Path, name: str) -> None:
    """As editors and deploy tools save: a new file renamed over the old one (a new inode each time)."""
    staged = world.with_name(".world.yaml.tmp")
    staged.write_text(yaml.safe_dump(world_with(**{COURT: name})))
    os.replace(staged, world)


def test_rename_replace_works_again_and_again(world: Path, tmp_path: Path):
    log = tmp_path / "mock.log"
    with watched_mock(world, log) as base:
        for name in ("First Replace", "Second Replace", "Third Replace"):
            replace(world, name)
            eventually(lambda name=name: court_name(base) == name, log, f"{name!r} was not loaded")


def test_several_workers_reload_once(world: Path, tmp_path: Path):
    log = tmp_path / "mock.log"
    store = f"sqlite:///{tmp_path / 'watch.db'}"
    with watched_mock(world, log, "--store", store, "--workers", "2") as base:
        replace(world, "Shared Court")
        eventually(lambda: all(court_name(base) == "Shared Court" for _ in range(6)), log, "not loaded")
        time.sleep(1)  # a second reload (by a worker) would show up by now
        assert log.read_text().count("reloaded world from") == 1


def test_watch_needs_a_world_file():
    result = CliRunner().invoke(main, ["mock", "--watch"])
    assert result.exit_code == 2
    assert "--fixtures PATH" in result.output
