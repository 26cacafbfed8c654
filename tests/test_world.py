"""World files: the default one loads and agrees with the target profile; bad ones fail naming file and entry."""

import socket
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from bookingkit.files import DEFAULT_WORLD
from mock_server.clock import Clock
from mock_server.world import WorldError, load_world

from .conftest import PROFILE

WORLD = yaml.safe_load(DEFAULT_WORLD.read_text())


def write_world(tmp_path: Path, change) -> Path:
    world = yaml.safe_load(DEFAULT_WORLD.read_text())
    change(world)
    path = tmp_path / "world.yaml"
    path.write_text(yaml.safe_dump(world))
    return path


def test_default_world_loads():
    store = load_world(DEFAULT_WORLD).wingfield
    assert store.court(PROFILE["courts"]["granted"][0]) is not None


def test_target_profile_agrees_with_default_world():
    store = load_world(DEFAULT_WORLD).wingfield
    now = Clock().now()
    service, other = PROFILE["external_service_id"], PROFILE["other_external_service_id"]
    tokens = {name: store.token(value) for name, value in PROFILE["tokens"].items()}
    assert all(tokens.values()), "every profile token is in the world"
    assert tokens["write"].service_id == service and tokens["write"].scopes["court-booking"] == "write"
    assert tokens["read_only"].service_id == service and tokens["read_only"].scopes["court-booking"] == "read"
    assert tokens["no_scope"].service_id == service and tokens["no_scope"].scopes.get("court-booking", "none") == "none"
    assert tokens["other_service"].service_id == other != service
    assert tokens["expired"].expires_at is not None and tokens["expired"].expires_at < now
    for name in ("write", "read_only", "no_scope", "other_service"):
        assert not tokens[name].revoked and (tokens[name].expires_at is None or tokens[name].expires_at > now)

    def organization_of(court_id):
        return store.facility(store.court(court_id).facility_id).organization_id

    for court_id in PROFILE["courts"]["granted"]:
        assert store.has_organization_relation(service, organization_of(court_id))
    assert store.court(PROFILE["courts"]["not_granted"]) is not None
    assert not store.has_organization_relation(service, organization_of(PROFILE["courts"]["not_granted"]))
    for court_id in PROFILE["courts"]["scratch"]:  # granted, and free of mappings for the suite to write
        assert store.has_organization_relation(service, organization_of(court_id))
        assert store.mapping(service, court_id) is None
    facility = store.facility(PROFILE["facilities"]["not_granted"])
    assert facility is not None and not store.has_organization_relation(service, facility.organization_id)
    users = PROFILE["users"]
    assert store.user_relation(service, users["related"]).status == "ACCEPTED"
    assert store.user(users["unrelated"]) is not None and store.user_relation(service, users["unrelated"]) is None
    assert store.user(users["managed"]).created_by_service_id == service


def test_default_world_has_every_relation_status():
    statuses = {r["status"] for r in WORLD["userRelations"] if r["externalServiceId"] == PROFILE["external_service_id"]}
    assert statuses == {"ACCEPTED", "PENDING", "REJECTED"}


@pytest.mark.parametrize(
    "change, expected",
    [
        (
            lambda w: w["courts"][1].update(facilityId="00000000-0000-4000-8000-000000000000"),
            "courts[1]: facilityId 00000000-0000-4000-8000-000000000000 is not defined",
        ),
        (lambda w: w["apiTokens"][0].update(scopes={"court-booking": "admin"}), "apiTokens[0].scopes.court-booking"),
        (lambda w: w["courts"].append(dict(w["courts"][0])), "courts[5]: duplicate"),
        (lambda w: w["users"][0].update(id="not-a-uuid"), "users[0].id"),
        (lambda w: w.update(bogus=[]), "(top level): Additional properties"),
        (
            lambda w: w["courtBookings"][1].update(courtId=w["courtBookings"][0]["courtId"]),
            "courtBookings[1]: court_booking_overlap",
        ),
        (
            lambda w: w["courtBookings"][0].update(endDate=w["courtBookings"][0]["startDate"]),
            "courtBookings[0]: invalid_time_range",
        ),
        (
            lambda w: w["courtMappings"][1].update(externalCourtId="RIV-1"),
            "courtMappings[1]: external_court_id_already_in_use",
        ),
        (
            lambda w: w["sessions"][0]["teams"][0]["users"][0].update(id="00000000-0000-4000-8000-000000000000"),
            "sessions[0]: player id 00000000-0000-4000-8000-000000000000 is not defined",
        ),
        (lambda w: w["videos"][0].update(sessionId=w["videos"][0]["id"]), "videos[0]: sessionId"),
        (lambda w: w["connectTokens"][0].update(token="ct_short"), "connectTokens[0].token"),
        (lambda w: w["users"][1].update(email="ANA.RUIZ@example.com"), "users[1]: e-mail ANA.RUIZ@example.com"),
        (
            lambda w: w["userRelations"][1].update(externalUserId="demo-user-ana"),
            "userRelations[1]: externalUserId 'demo-user-ana' is linked to another user",
        ),
        (lambda w: w["organizations"][0].update(proQuota=0), "organizations[0]: more PRO members than proQuota"),
    ],
)
def test_bad_world_fails_naming_file_and_entry(tmp_path, change, expected):
    path = write_world(tmp_path, change)
    with pytest.raises(WorldError) as caught:
        load_world(path)
    assert str(path) in str(caught.value) and expected in str(caught.value)


def test_unreadable_world_fails_clearly(tmp_path):
    with pytest.raises(WorldError, match="cannot read"):
        load_world(tmp_path / "missing.yaml")
    broken = tmp_path / "broken.yaml"
    broken.write_text("organizations: [\n")
    with pytest.raises(WorldError, match="not valid YAML"):
        load_world(broken)


def test_mock_command_refuses_a_bad_world_at_start(tmp_path):
    path = write_world(tmp_path, lambda w: w["courts"][0].update(facilityId="00000000-0000-4000-8000-000000000000"))
    result = subprocess.run(
        [sys.executable, "-m", "bookingkit.cli", "mock", "--fixtures", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert str(path) in result.stderr and "courts[0]" in result.stderr


def test_mock_command_refuses_a_busy_port_in_one_line():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "bookingkit.cli", "mock", "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.strip() == f"error: port {port} on 127.0.0.1 is in use; choose another with --port"
