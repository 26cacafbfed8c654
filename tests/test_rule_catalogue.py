"""The rule catalogue (docs/rules.md) and the contract suite stay in step: every suite test's rule id is in
the catalogue and the test is listed under it, every catalogue rule has a test, and markers agree with kinds."""

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

from contract_tests.catalogue import load_catalogue

SUITE = Path(__file__).resolve().parent.parent / "contract_tests"
RULE_ID = re.compile(r"^test_([A-Z]+\d+)_")
CATALOGUE = load_catalogue()


def suite_tests() -> dict[str, tuple[str, set[str]]]:
    """Every scenario test of the suite: name -> (rule id, its markers)."""
    found = {}
    for module in sorted(SUITE.glob("test_*.py")):
        for node in ast.parse(module.read_text()).body:
            if isinstance(node, ast.FunctionDef) and (match := RULE_ID.match(node.name)):
                markers = {d.id for d in node.decorator_list if isinstance(d, ast.Name)}
                found[node.name] = (match.group(1), markers & {"documented", "decision"})
    return found


TESTS = suite_tests()


def test_the_catalogue_has_rules_and_no_id_twice():
    ids = [rule.id for rule in CATALOGUE]
    assert len(ids) > 50 and len(ids) == len(set(ids))


def test_every_suite_test_is_listed_under_its_rule():
    listed = {test: rule.id for rule in CATALOGUE for test in rule.tests}
    for test, (rule_id, _) in TESTS.items():
        assert listed.get(test) == rule_id, f"{test} is not listed under {rule_id} in docs/rules.md"


def test_every_rule_has_a_test_that_exists():
    for rule in CATALOGUE:
        assert rule.tests, f"{rule.id} names no test"
        for test in rule.tests:
            assert test in TESTS, f"{rule.id} names {test}, which the suite does not have"


@pytest.mark.parametrize("rule", CATALOGUE, ids=lambda rule: rule.id)
def test_markers_agree_with_the_kind(rule):
    """A rule that is all `documented` or all `decision` has tests of that kind only; a mixed rule may have both."""
    for test in rule.tests:
        markers = TESTS[test][1]
        assert len(markers) == 1, f"{test} needs exactly one of the markers documented, decision"
        if rule.kind in ("documented", "decision"):
            assert markers == {rule.kind}, f"{test} is marked {markers}, {rule.id} is {rule.kind}"


def test_bookingkit_test_lists_the_rules():
    result = subprocess.run(
        [sys.executable, "-m", "bookingkit.cli", "test", "--list-rules"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    for rule in CATALOGUE:
        assert re.search(rf"^  {rule.id}\s", result.stdout, re.M), rule.id
