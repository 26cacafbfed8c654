"""pytest plugin of the contract suite: `--target`, the bundled mock when there is none, verdicts by rule id.

Registered through the `pytest11` entry point, so `pytest --pyargs contract_tests --target FILE` works
wherever bookingkit is installed. It adds options and markers only; it does nothing unless the suite runs.
"""

import json
import os
import re
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from .profile import BUNDLED_MOCK_PROFILE, Profile, ProfileError, load_profile

RULE_ID = re.compile(r"^test_([A-Z]+\d+)_")
KINDS = ("documented", "decision")
PROFILE = pytest.StashKey[Profile]()
SUITE_PACKAGE = "contract_tests"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("bookingkit", "bookingkit contract suite")
    group.addoption("--target", metavar="FILE", help="target profile (YAML); default: start the bundled mock")
    group.addoption("--summary-json", metavar="PATH", help="write the verdict per rule id as JSON")
    group.addoption("--summary-md", metavar="PATH", help="write the verdict per rule id as Markdown")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "documented: the public docs state this rule; every implementation must pass")
    config.addinivalue_line("markers", "decision: bookingkit's answer where the docs are silent (docs/rules.md)")
    config.addinivalue_line("markers", "schemathesis: property-based and stateful testing generated from the spec")
    config.pluginmanager.register(VerdictBook(config), "bookingkit-verdicts")
    if path := config.getoption("--target", None):
        try:  # a bad profile stops the run before anything is collected, naming the file and key
            config.stash[PROFILE] = load_profile(Path(path))
        except ProfileError as exc:
            raise pytest.UsageError(f"bookingkit: {exc}") from None


class VerdictBook:
    """Collects the outcome of every suite test under its rule id and reports per rule at the end."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.rules: dict[str, tuple[str, str]] = {}  # nodeid -> (rule id, kind)
        self.outcomes: dict[str, list[tuple[str, str]]] = defaultdict(list)

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        for item in session.items:  # after deselection: only what runs has a verdict
            module = getattr(item, "module", None)
            if module is None or module.__name__.split(".")[0] != SUITE_PACKAGE:
                continue
            match = RULE_ID.match(getattr(item, "originalname", item.name))
            kinds = [kind for kind in KINDS if item.get_closest_marker(kind)]
            rule = match.group(1) if match else ("schemathesis" if item.get_closest_marker("schemathesis") else None)
            if rule:
                self.rules[item.nodeid] = (rule, kinds[0] if kinds else "")

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.nodeid in self.rules and (report.when == "call" or report.outcome != "passed"):
            reason = ""
            if report.skipped and isinstance(report.longrepr, tuple):
                reason = str(report.longrepr[2]).removeprefix("Skipped: ")
            self.outcomes[report.nodeid].append((report.outcome, reason))

    def verdicts(self) -> dict[str, dict[str, Any]]:
        """Per rule id: failed if any of its tests failed, skipped (with reasons) if all skipped, else passed."""
        by_rule: dict[str, dict[str, Any]] = {}
        for nodeid, (rule, kind) in self.rules.items():
            entry = by_rule.setdefault(rule, {"kind": "", "passed": 0, "failed": 0, "skipped": 0, "reasons": []})
            if kind and kind not in entry["kind"].split("+"):
                entry["kind"] = "+".join(sorted(filter(None, [*entry["kind"].split("+"), kind])))
            outcomes = self.outcomes.get(nodeid, [])
            if any(outcome == "failed" for outcome, _ in outcomes):
                entry["failed"] += 1
            elif outcomes and all(outcome == "skipped" for outcome, _ in outcomes):
                entry["skipped"] += 1
                entry["reasons"] += [reason for _, reason in outcomes if reason and reason not in entry["reasons"]]
            elif outcomes:
                entry["passed"] += 1
        for entry in by_rule.values():
            ran = entry["passed"] + entry["failed"] + entry["skipped"]
            entry["verdict"] = (
                "failed"
                if entry["failed"]
                else "not run"
                if not ran
                else "skipped"
                if entry["skipped"] == ran
                else "passed"
            )
        return dict(sorted(by_rule.items(), key=lambda kv: _rule_order(kv[0])))

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        table = self.verdicts()
        if not table:
            return
        write = terminalreporter.write_line
        terminalreporter.section("bookingkit verdict by rule")
        for rule, entry in table.items():
            line = f"{rule:<13} {entry['verdict']:<8} {entry['kind']:<19} tests: {entry['passed']} passed"
            line += f", {entry['failed']} failed, {entry['skipped']} skipped"
            if entry["reasons"]:
                line += f" ({'; '.join(entry['reasons'])})"
            write(line)
        counts = {v: sum(e["verdict"] == v for e in table.values()) for v in ("passed", "failed", "skipped", "not run")}
        write(", ".join(f"{n} rules {v}" for v, n in counts.items() if n or v != "not run"))
        if path := self.config.getoption("--summary-json"):
            Path(path).write_text(json.dumps({"rules": table, "totals": counts}, indent=2) + "\n")
        if path := self.config.getoption("--summary-md"):
            header = "| rule | verdict | kind | passed | failed | skipped | reasons |\n|---|---|---|---|---|---|---|"
            rows = [
                f"| {r} | {e['verdict']} | {e['kind']} | {e['passed']} | {e['failed']} | {e['skipped']} | "
                f"{'; '.join(e['reasons'])} |"
                for r, e in table.items()
            ]
            Path(path).write_text("\n".join(["# bookingkit contract suite", "", header, *rows, ""]))


def _rule_order(rule: str) -> tuple[str, int]:
    match = re.match(r"([A-Z]+)(\d+)$", rule)
    return (match.group(1), int(match.group(2))) if match else ("~", 0)


# -- the target --------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def target_profile(request: pytest.FixtureRequest) -> Iterator[Profile]:
    """The profile given by `--target`, or the bundled mock's, started on a free port for this session."""
    if PROFILE in request.config.stash:
        yield request.config.stash[PROFILE]
        return
    mock = bundled_mock()
    with mock as base_url:
        yield load_profile(BUNDLED_MOCK_PROFILE, base_url=base_url, control_token=mock.admin_token)


class bundled_mock:  # noqa: N801 - used as a context manager, like open()
    """Start `bookingkit mock` with its default world on a free port; yields the API base URL. Its admin token,
    fresh for each start (`admin_token`), is the token of the bundled profile's `control` section."""

    def __init__(self) -> None:
        self.admin_token = secrets.token_urlsafe(18)

    def __enter__(self) -> str:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        command = [sys.executable, "-m", "bookingkit.cli", "mock", "--port", str(port), "--log-level", "warning"]
        self.log = tempfile.TemporaryFile(mode="w+")  # a file, not a pipe: a chatty mock can never block on it
        env = {**os.environ, "BOOKINGKIT_ADMIN_TOKEN": self.admin_token}  # read by `bookingkit mock`
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=self.log, env=env)
        base_url = f"http://127.0.0.1:{port}/api/v1"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self.log.seek(0)
                message = self.log.read()
                self.log.close()
                raise RuntimeError(f"the bundled mock did not start: {message}")
            try:
                httpx.get(f"{base_url}/openapi.json", timeout=1).raise_for_status()
                return base_url
            except httpx.HTTPError:
                time.sleep(0.1)
        self.__exit__()
        raise RuntimeError("the bundled mock did not answer within 60 s")

    def __exit__(self, *exc_info: object) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()
