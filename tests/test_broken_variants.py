"""The contract suite can fail: against each broken variant of the mock, the broken rule's tests fail,
and only that rule's (and a few declared related rules') tests.

Each variant runs in its own process; the suite's scenario tests (or, for the variants that break what only
schemathesis checks, its schemathesis run) test it over HTTP like any target.
"""

import json
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
import pytest
import yaml

from contract_tests.profile import BUNDLED_MOCK_PROFILE

from .broken_variants import VARIANTS

ROOT = Path(__file__).resolve().parent.parent


@contextmanager
def listening() -> Iterator[socket.socket]:
    """A socket already bound to a free port: handed to the variant, so no other variant can take the port."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock


@contextmanager
def serving(name: str, sock: socket.socket, log: Path) -> Iterator[None]:
    """The variant in its own process, until the block ends."""
    port = sock.getsockname()[1]
    with log.open("w") as handle:
        process = subprocess.Popen(
            [sys.executable, "-m", "tests.broken_variants", name, f"fd:{sock.fileno()}"],
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
    failed_rules: frozenset[str]
    output: str


def run_suite_against(name: str, folder: Path) -> Outcome:
    folder.mkdir()
    with listening() as sock, serving(name, sock, folder / "mock.log"):
        profile = yaml.safe_load(BUNDLED_MOCK_PROFILE.read_text())
        for api in ("wingfield", "onlive"):
            profile[api]["base_url"] = f"http://127.0.0.1:{sock.getsockname()[1]}/api/v1"
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
                *VARIANTS[name].suite,
                "--summary-json",
                str(summary),
            ],
            cwd=folder,
            capture_output=True,
            text=True,
            timeout=300,
        )
    rules = json.loads(summary.read_text())["rules"] if summary.exists() else {}
    failed = frozenset(rule for rule, entry in rules.items() if entry["verdict"] == "failed")
    return Outcome(run.returncode, failed, run.stdout[-4000:] + run.stderr[-2000:])


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory) -> dict[str, Outcome]:
    """Every variant, three at a time: each is a mock and a suite process waiting on each other."""
    root = tmp_path_factory.mktemp("variants")
    with ThreadPoolExecutor(max_workers=3) as pool:
        futures = {name: pool.submit(run_suite_against, name, root / name) for name in VARIANTS}
        return {name: _outcome(future) for name, future in futures.items()}


def _outcome(future) -> Outcome:
    """One variant that cannot run fails its own test, not the others'."""
    try:
        return future.result()
    except AssertionError as exc:
        return Outcome(-1, frozenset(), str(exc))


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_contract_suite_catches_broken_variant(outcomes, name):
    variant, outcome = VARIANTS[name], outcomes[name]
    assert outcome.returncode == 1, outcome.output
    assert variant.breaks <= outcome.failed_rules, (
        f"expected {sorted(variant.breaks)} to fail, failed: {sorted(outcome.failed_rules)}\n{outcome.output}"
    )
    unexpected = outcome.failed_rules - variant.breaks - variant.may_also_break
    assert not unexpected, f"{name} also broke {sorted(unexpected)}:\n{outcome.output}"
