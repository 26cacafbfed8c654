"""Runs the contract suite over HTTP against a variant of the mock served in its own process, like any target."""

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import yaml

from contract_tests.profile import BUNDLED_MOCK_PROFILE

from .variants import registry

ROOT = Path(__file__).resolve().parent.parent


@contextmanager
def listening() -> Iterator[socket.socket]:
    """A socket already bound to a free port: handed to the variant, so no other variant can take the port."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock


@contextmanager
def serving(kind: str, name: str, sock: socket.socket, log: Path) -> Iterator[None]:
    """The variant in its own process, until the block ends."""
    port = sock.getsockname()[1]
    with log.open("w") as handle:
        process = subprocess.Popen(
            [sys.executable, "-m", "tests.variants", kind, name, f"fd:{sock.fileno()}"],
            cwd=ROOT,
            stdout=handle,
            stderr=subprocess.STDOUT,
            pass_fds=(sock.fileno(),),
        )
        try:
            deadline = time.monotonic() + 60
            while True:
                if process.poll() is not None:
                    raise AssertionError(f"variant {name} did not start:\n{log.read_text()}")
                try:
                    httpx.get(f"http://127.0.0.1:{port}/api/v1/openapi.json", timeout=1)
                    break
                except httpx.HTTPError:
                    if time.monotonic() > deadline:
                        raise AssertionError(f"variant {name} did not answer within 60 s") from None
                    time.sleep(0.1)
            yield
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@dataclass(frozen=True)
class Outcome:
    returncode: int
    verdicts: dict[str, str]  # rule id -> passed, failed, skipped, not run
    output: str

    @property
    def failed_rules(self) -> frozenset[str]:
        return frozenset(rule for rule, verdict in self.verdicts.items() if verdict == "failed")


def run_suite_against(kind: str, name: str, folder: Path) -> Outcome:
    variant = registry(kind)[name]
    folder.mkdir()
    with listening() as sock, serving(kind, name, sock, folder / "mock.log"):
        profile = yaml.safe_load(BUNDLED_MOCK_PROFILE.read_text())
        for api in ("wingfield", "onlive"):
            profile[api]["base_url"] = f"http://127.0.0.1:{sock.getsockname()[1]}/api/v1"
            profile[api].update(variant.profile.get(api, {}))
        target = folder / "target.yaml"
        target.write_text(yaml.safe_dump(profile))
        summary = folder / "verdicts.json"
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
                *variant.suite,
                "--summary-json",
                str(summary),
            ],
            cwd=folder,
            capture_output=True,
            text=True,
            timeout=900,
            env={**os.environ, "BOOKINGKIT_ST_MAX_EXAMPLES": os.environ.get("BOOKINGKIT_ST_MAX_EXAMPLES", "20")},
        )
    rules = json.loads(summary.read_text())["rules"] if summary.exists() else {}
    verdicts = {rule: entry["verdict"] for rule, entry in rules.items()}
    return Outcome(run.returncode, verdicts, run.stdout[-6000:] + run.stderr[-2000:])


def run_every_variant(kind: str, root: Path, workers: int = 3) -> dict[str, Outcome]:
    """Every variant of a kind, a few at a time: each is a mock and a suite process waiting on each other."""
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = {name: pool.submit(run_suite_against, kind, name, root / name) for name in registry(kind)}
        return {name: _outcome(future) for name, future in futures.items()}


def _outcome(future) -> Outcome:
    """One variant that cannot run fails its own test, not the others'."""
    try:
        return future.result()
    except AssertionError as exc:
        return Outcome(-1, {}, str(exc))
