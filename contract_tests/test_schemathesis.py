"""Property-based and stateful testing of every operation, generated from openapi.yaml by schemathesis.

It runs `st run` (examples, coverage, fuzzing and stateful phases) as a CI job would, with schemathesis.toml:
expected statuses narrowed so that a refused token fails, plus contract_tests.checks (error envelope and
documented types per operation). Generated writes stay in the suite's own corner (see contract_tests.checks);
without `courts.scratch` in the profile, the mapping writes are left out.
"""

import json
import os
import subprocess
import sys
import uuid

import httpx
import pytest

from .spec import SPEC_PATH
from .wingfield import FAR_FUTURE_VERSION

PROJECT = SPEC_PATH.parent  # where schemathesis.toml lives
MAX_EXAMPLES = int(os.environ.get("BOOKINGKIT_ST_MAX_EXAMPLES", "40"))


@pytest.mark.schemathesis
def test_schemathesis_finds_no_failure(wingfield_target, tmp_path):
    created_log = tmp_path / "created.jsonl"
    env = {
        **os.environ,
        "BOOKINGKIT_CONFINE_PREFIX": f"st-{uuid.uuid4().hex[:10]}-",
        "BOOKINGKIT_CREATED_LOG": str(created_log),
        "PYTHONPATH": os.pathsep.join(filter(None, [str(PROJECT), os.environ.get("PYTHONPATH")])),
    }
    command = [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "run",
        str(SPEC_PATH),
        "--url",
        wingfield_target.base_url,
        "-H",
        f"Authorization: Bearer {wingfield_target.tokens['write']}",
        "--phases",
        "examples,coverage,fuzzing,stateful",
        "--max-examples",
        str(MAX_EXAMPLES),
        "--no-color",
    ]
    if wingfield_target.scratch_court:
        env["BOOKINGKIT_SCRATCH_COURT"] = wingfield_target.scratch_court
    else:
        command += ["--exclude-operation-id", "upsertCourtMapping", "--exclude-operation-id", "deleteCourtMapping"]
    try:
        result = subprocess.run(command, cwd=PROJECT, env=env, capture_output=True, text=True, timeout=600)
    finally:
        _delete_created(wingfield_target, created_log)
    assert result.returncode == 0, f"schemathesis reported failures:\n{result.stdout[-20000:]}\n{result.stderr[-3000:]}"


def _delete_created(target, log) -> None:
    if not log.exists():
        return
    with httpx.Client(base_url=target.base_url, headers={"Authorization": f"Bearer {target.tokens['write']}"}) as http:
        for service, external_id in {tuple(json.loads(line)) for line in log.read_text().splitlines()}:
            http.delete(
                f"/external-services/{service}/court-bookings/by-external-id/{external_id}",
                params={"externalUpdatedAt": FAR_FUTURE_VERSION},
            )
        if target.scratch_court:
            http.delete(f"/external-services/{target.external_service_id}/courts/{target.scratch_court}/mapping")
