"""The contract suite is fair: each correct variant of the mock makes another choice the rules allow (P1-P6,
a booking window), and the whole suite, schemathesis included, passes against it."""

import pytest

from .correct_variants import VARIANTS
from .variant_runs import Outcome, run_every_variant


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory) -> dict[str, Outcome]:
    return run_every_variant("correct", tmp_path_factory.mktemp("correct"))


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_contract_suite_passes_correct_variant(outcomes, name):
    outcome = outcomes[name]
    assert outcome.returncode == 0 and not outcome.failed_rules, outcome.output
    assert outcome.verdicts.get("schemathesis") == "passed", outcome.output
    skipped = sorted(rule for rule, verdict in outcome.verdicts.items() if verdict != "passed")
    assert not skipped, f"{name}: rules not run: {skipped}\n{outcome.output}"
