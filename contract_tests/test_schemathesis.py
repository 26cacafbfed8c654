"""Property-based and stateful testing of every operation, generated from openapi.yaml by schemathesis.

For each API of the profile it runs `st run` (examples, coverage, fuzzing and stateful phases) as a CI job
would, on the spec with its own response constraints taken out (contract_tests.documented), with
schemathesis.toml: expected statuses narrowed so that a refused token or signature fails, plus
contract_tests.checks (error envelope and documented errors per operation, documented negative data, request
signing). Generated writes stay in the suite's own corner (see contract_tests.checks) and what they created is
removed after.
"""

import json
import os
import subprocess
import sys
import uuid

import httpx
import pytest

from bookingkit import signing
from bookingkit.files import SCHEMATHESIS_CONFIG

from .documented import documented_responses
from .profile import Profile
from .spec import load_spec
from .wingfield import FAR_FUTURE_VERSION

MAX_EXAMPLES = int(os.environ.get("BOOKINGKIT_ST_MAX_EXAMPLES", "40"))
TAGS = {
    "wingfield": ["courts", "court-mappings", "court-bookings", "users", "user-relations", "organizations", "sessions"],
    "onlive": ["booking-services", "appointments", "calendars"],
}
# Writes to users, relations and organizations cannot be undone through the API (users stay, relations of the
# target's own users would be lost, claims consume tokens): on a shared target the scenario tests, which clean up,
# cover them; schemathesis reads only. The mock's own tests run schemathesis over every operation.
IRREVERSIBLE = [
    "createExternalServiceUser",
    "patchUserById",
    "requestUserRelation",
    "patchUserRelationExternalUserId",
    "deleteUserRelation",
    "claimOrganizationRelation",
    "deleteOrganizationRelation",
    "upsertOrganizationUserSubscription",
]


@pytest.mark.schemathesis
@pytest.mark.parametrize("api", ["wingfield", "onlive"])
def test_schemathesis_finds_no_failure(target_profile: Profile, api, tmp_path):
    target = target_profile.wingfield if api == "wingfield" else target_profile.onlive_target
    if target is None:
        pytest.skip(f"{target_profile.path} has no '{api}' section")
    created_log = tmp_path / "created.jsonl"
    contract = tmp_path / "openapi.json"  # success responses checked only against what is documented (P5)
    contract.write_text(json.dumps(documented_responses(load_spec())))
    env = {
        **os.environ,
        "BOOKINGKIT_CONFINE_PREFIX": f"st-{uuid.uuid4().hex[:10]}-",
        "BOOKINGKIT_CREATED_LOG": str(created_log),
    }
    command = [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "--config-file",
        str(SCHEMATHESIS_CONFIG),
        "run",
        str(contract),
        "--url",
        target.base_url,
        "--phases",
        "examples,coverage,fuzzing,stateful",
        "--max-examples",
        str(MAX_EXAMPLES),
        "--no-color",
    ]
    command += [arg for tag in TAGS[api] for arg in ("--include-tag", tag)]
    if api == "wingfield":
        command += ["-H", f"Authorization: Bearer {target.tokens['write']}"]
        command += [arg for operation in IRREVERSIBLE for arg in ("--exclude-operation-id", operation)]
        if target.scratch_court:
            env["BOOKINGKIT_SCRATCH_COURT"] = target.scratch_court
        else:
            command += ["--exclude-operation-id", "upsertCourtMapping", "--exclude-operation-id", "deleteCourtMapping"]
    else:
        env.update(ONLIVE_ACCESS_KEY_ID=target.access_key_id, ONLIVE_SECRET_ACCESS_KEY=target.secret_access_key)
    try:
        # In tmp_path, schemathesis' crash cache (.schemathesis/) stays out of the project and of the next run.
        result = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    finally:
        _remove_created(target_profile, created_log)
    assert result.returncode == 0, f"schemathesis reported failures:\n{result.stdout[-20000:]}\n{result.stderr[-3000:]}"


def _remove_created(profile: Profile, log) -> None:
    """Bookings are deleted; ONLIVE appointments are cancelled (v1 has no delete), then services deleted."""
    entries = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
    if (wingfield := profile.wingfield) is not None:
        auth = {"Authorization": f"Bearer {wingfield.tokens['write']}"}
        with httpx.Client(base_url=wingfield.base_url, headers=auth) as http:
            for _, service, external_id in {tuple(e) for e in entries if e[0] == "booking"}:
                http.delete(
                    f"/external-services/{service}/court-bookings/by-external-id/{external_id}",
                    params={"externalUpdatedAt": FAR_FUTURE_VERSION},
                )
            if wingfield.scratch_court:
                http.delete(
                    f"/external-services/{wingfield.external_service_id}/courts/{wingfield.scratch_court}/mapping"
                )
    if (onlive := profile.onlive_target) is not None:
        with httpx.Client() as http:
            for kind, resource_id in [e for e in entries if e[0] == "appointment"] + [
                e for e in entries if e[0] == "service"
            ]:
                method, path, body = (
                    ("PUT", f"/appointments/{resource_id}", b'{"state": "cancelled"}')
                    if kind == "appointment"
                    else ("DELETE", f"/booking-services/{resource_id}", b"")
                )
                url = onlive.base_url + path
                headers = signing.sign(method, url, body, onlive.access_key_id, onlive.secret_access_key).as_dict()
                http.request(method, url, content=body, headers={**headers, "Content-Type": "application/json"})
