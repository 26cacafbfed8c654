"""The contract suite can fail: against each broken variant of the mock, the broken rule's tests fail,
and only that rule's (and a few declared related rules') tests.

Each variant runs in its own process; the suite's scenario tests (or, for the variants that break what only
schemathesis checks, its schemathesis run) test it over HTTP like any target.
"""

import pytest

from .broken_variants import VARIANTS
from .variant_runs import Outcome, run_every_variant


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory) -> dict[str, Outcome]:
    return run_every_variant("broken", tmp_path_factory.mktemp("broken"))


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_contract_suite_catches_broken_variant(outcomes, name):
    variant, outcome = VARIANTS[name], outcomes[name]
    assert outcome.returncode == 1, outcome.output
    assert variant.breaks <= outcome.failed_rules, (
        f"expected {sorted(variant.breaks)} to fail, failed: {sorted(outcome.failed_rules)}\n{outcome.output}"
    )
    unexpected = outcome.failed_rules - variant.breaks - variant.may_also_break
    assert not unexpected, f"{name} also broke {sorted(unexpected)}:\n{outcome.output}"
