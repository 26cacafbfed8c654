"""Target profiles: optional keys read as documented, bad ones refused naming the file and the key."""

import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest
import yaml

from contract_tests.profile import BUNDLED_MOCK_PROFILE, DEFAULT_BOOKING_WINDOW, ProfileError, load_profile
from contract_tests.wingfield import Scenario

RAW = yaml.safe_load(BUNDLED_MOCK_PROFILE.read_text())


def write(tmp_path, **changes):
    raw = yaml.safe_load(BUNDLED_MOCK_PROFILE.read_text())
    raw["wingfield"].update(changes)
    path = tmp_path / "target.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


def test_the_bundled_profile_reads_its_optional_keys():
    target = load_profile(BUNDLED_MOCK_PROFILE).wingfield
    assert target.scratch_courts == tuple(RAW["wingfield"]["courts"]["scratch"]) and len(target.scratch_courts) == 2
    assert target.scratch_court == target.scratch_courts[0]
    assert target.not_granted_facility == RAW["wingfield"]["facilities"]["not_granted"]
    assert target.booking_window == DEFAULT_BOOKING_WINDOW


def test_the_bundled_profile_reads_users_organizations_tokens_sessions_and_control(monkeypatch):
    monkeypatch.delenv("BOOKINGKIT_CONTROL_TOKEN", raising=False)
    target = load_profile(BUNDLED_MOCK_PROFILE, base_url="http://127.0.0.1:9999/api/v1").wingfield
    section = RAW["wingfield"]
    assert target.users == section["users"] and target.sessions == section["sessions"]
    assert target.organizations["claimable"] == section["organizations"]["claimable"]
    assert target.pro_quota == section["organizations"]["related_pro_quota"]
    assert target.claimable_tokens == tuple(section["connect_tokens"]["claimable"])
    assert target.connect_tokens["expired"] == section["connect_tokens"]["expired"]
    assert target.control is None and "BOOKINGKIT_CONTROL_TOKEN" in target.no_control  # named, not set
    monkeypatch.setenv("BOOKINGKIT_CONTROL_TOKEN", "from-env")
    control = load_profile(BUNDLED_MOCK_PROFILE, base_url="http://127.0.0.1:9999/api/v1").wingfield.control
    assert (control.url, control.token) == ("http://127.0.0.1:9999/__admin", "from-env")
    given = load_profile(BUNDLED_MOCK_PROFILE, control_token="given").wingfield.control
    assert given.token == "given" and given.url.endswith("/__admin")


def test_a_control_url_may_be_absolute_and_the_token_given(tmp_path):
    path = write(tmp_path, control={"url": "https://admin.example.com/ctl/", "token": "secret"})
    control = load_profile(path).wingfield.control
    assert (control.url, control.token) == ("https://admin.example.com/ctl", "secret")


def test_one_scratch_court_may_be_given_as_a_string(tmp_path):
    path = write(tmp_path, courts={**RAW["wingfield"]["courts"], "scratch": "court-a"})
    assert load_profile(path).wingfield.scratch_courts == ("court-a",)


@pytest.mark.parametrize(
    "window",
    [
        {"from": "2030-01-01T00:00:00Z", "to": "2031-01-01T00:00:00Z"},
        {"from": "2030-01-01T01:00:00+01:00", "to": "2030-01-05T00:00:00Z"},
    ],
)
def test_a_booking_window_bounds_every_scenario_day(tmp_path, window):
    target = load_profile(write(tmp_path, booking_window=window)).wingfield
    start, end = target.booking_window
    assert start.tzinfo is UTC and end - start >= timedelta(days=3)
    for _ in range(200):
        scenario = Scenario(target.booking_window)
        assert start <= scenario.day - timedelta(hours=1) and scenario.day + timedelta(hours=8) <= end


@pytest.mark.parametrize(
    "change, key",
    [
        ({"booking_window": "2030"}, "wingfield.booking_window"),
        ({"booking_window": {"from": "2030-01-01T00:00:00Z"}}, "wingfield.booking_window"),
        ({"booking_window": {"from": "soon", "to": "2031-01-01T00:00:00Z"}}, "wingfield.booking_window.from"),
        ({"booking_window": {"from": "2030-01-01T00:00:00", "to": "2031-01-01T00:00:00Z"}}, "booking_window.from"),
        ({"booking_window": {"from": "2030-01-01T00:00:00Z", "to": "2030-01-02T00:00:00Z"}}, "booking_window"),
        ({"courts": {**RAW["wingfield"]["courts"], "scratch": [1, 2]}}, "wingfield.courts.scratch"),
        ({"facilities": ["x"]}, "wingfield.facilities"),
        ({"users": {"pending": 7}}, "wingfield.users.pending"),
        ({"organizations": {"related_pro_quota": "two"}}, "wingfield.organizations.related_pro_quota"),
        ({"organizations": {"claimable": ""}}, "wingfield.organizations.claimable"),
        ({"connect_tokens": {"claimable": [1]}}, "wingfield.connect_tokens.claimable"),
        ({"sessions": ["x"]}, "wingfield.sessions"),
        ({"control": "http://localhost/__admin"}, "wingfield.control"),
        ({"control": {"url": "ftp://host/__admin", "token": "x"}}, "wingfield.control.url"),
        ({"control": {"url": "/__admin"}}, "wingfield.control"),
        ({"control": {"url": "/__admin", "token": "x", "token_env": "X"}}, "wingfield.control"),
    ],
)
def test_a_bad_optional_key_is_refused_naming_file_and_key(tmp_path, change, key):
    path = write(tmp_path, **change)
    with pytest.raises(ProfileError) as caught:
        load_profile(path)
    assert str(path) in str(caught.value) and key in str(caught.value)


def test_bookingkit_test_stops_on_a_bad_profile_before_testing(tmp_path):
    path = write(tmp_path, booking_window={"from": "soon", "to": "later"})
    result = subprocess.run(
        [sys.executable, "-m", "bookingkit.cli", "test", "--target", str(path), "-p", "no:cacheprovider"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert result.returncode == 4, result.stdout[-2000:] + result.stderr[-2000:]
    assert "booking_window.from" in result.stdout + result.stderr


def test_the_default_window_is_the_2090s():
    assert (datetime(2090, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC)) == DEFAULT_BOOKING_WINDOW
