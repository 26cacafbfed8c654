"""Scenario tests of sessions and their videos: S1-S3 (visibility, a user's sessions, details and videos).

Read only: sessions are records of play, which the API does not write. The profile names them
(`wingfield.sessions`): `user`, a visible user with sessions; `visible`, one of that user's sessions every player
of which is visible to the service (best with videos); `not_visible`, one of that user's sessions with a player
who is not. The order of videos is not asserted (P4); the order of sessions is the rule's (S2).
"""

import contextlib
from datetime import datetime, timedelta

import pytest

from .conftest import optional
from .wingfield import ErrorContractViolation, every_page, iso

documented, decision = pytest.mark.documented, pytest.mark.decision
UNKNOWN = "00000000-0000-4000-8000-000000000000"
VIDEO_TYPES = ("SESSION_VIDEO", "AUTOMATIC_HIGHLIGHTS", "CUSTOM_HIGHLIGHTS")
SUMMARY_FIELDS = ("id", "type", "durationSeconds", "startedAt", "sportType")


def kind(response) -> str:
    return response.json()["error"]["type"]


def instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def session_of(api, key: str) -> str:
    return optional(api.target, "sessions", key)


def every_session(api, user_id: str, **filters) -> list[dict]:
    return every_page(lambda **page: api.sessions(user_id, **filters, **page), limit=100)[0]


def every_video(api, session_id: str, **filters) -> list[dict]:
    return every_page(lambda **page: api.videos(session_id, **filters, **page), limit=100)[0]


def players(details: dict) -> list[str]:
    return [user["id"] for team in details["teams"] for user in team["users"]]


@documented
def test_S1_every_player_of_a_visible_session_is_a_visible_user(api):
    user_id = session_of(api, "user")
    sessions = every_session(api, user_id)
    assert session_of(api, "visible") in {s["id"] for s in sessions}
    for summary in sessions:
        details = api.session(summary["id"])
        assert details.status_code == 200, details.text
        assert user_id in players(details.json())
        for player in players(details.json()):
            assert api.user(player).status_code == 200, (summary["id"], player)


@documented
def test_S1_a_session_with_a_player_who_is_not_visible_is_hidden(api):
    hidden = session_of(api, "not_visible")
    assert hidden not in {s["id"] for s in every_session(api, session_of(api, "user"))}
    response = api.session(hidden)
    assert response.status_code == 403 and kind(response) == "user_access_denied"


@documented
def test_S1_sessions_and_videos_are_read_only(api):
    """Every write method on a session, its videos or a user's sessions is refused, and nothing changes. How it
    is refused is P6's (405 with `Allow`): a refusal outside the error contract is left to P6's tests."""
    session_id, user_id = session_of(api, "visible"), session_of(api, "user")
    before = (api.session(session_id).json(), sorted(v["id"] for v in every_video(api, session_id)))
    for path in (f"/sessions/{session_id}", f"/sessions/{session_id}/videos", f"/users/{user_id}/sessions"):
        for method in ("POST", "PUT", "PATCH", "DELETE"):
            with contextlib.suppress(ErrorContractViolation):  # raised for refusals only (4xx, 5xx)
                response = api.call(method, path, json={})
                assert 400 <= response.status_code < 500, (method, path, response.status_code)
    assert (api.session(session_id).json(), sorted(v["id"] for v in every_video(api, session_id))) == before


@documented
def test_S2_lists_the_users_visible_sessions_newest_first_then_by_id(api):
    sessions = every_session(api, session_of(api, "user"))
    assert sessions, "the profile's sessions.user has no visible session"
    for summary in sessions:
        assert all(field in summary for field in SUMMARY_FIELDS), summary
        assert summary["startedAt"].endswith("Z")
    order = [(-instant(s["startedAt"]).timestamp(), s["id"]) for s in sessions]
    assert order == sorted(order)


@documented
def test_S2_a_user_who_is_not_visible_is_user_access_denied(api):
    for user_id in (optional(api.target, "users", "unrelated"), UNKNOWN):
        response = api.sessions(user_id)
        assert response.status_code == 403 and kind(response) == "user_access_denied", user_id


@decision
def test_S2_filters_match_exactly_and_bound_started_at_half_open(api):
    user_id = session_of(api, "user")
    sessions = every_session(api, user_id)
    assert sessions, "the profile's sessions.user has no visible session"
    for summary in sessions:
        by_sport = every_session(api, user_id, sportType=summary["sportType"])
        assert summary in by_sport and {s["sportType"] for s in by_sport} == {summary["sportType"]}
        by_type = every_session(api, user_id, sessionType=summary["type"])
        assert summary in by_type and {s["type"] for s in by_type} == {summary["type"]}
        started = instant(summary["startedAt"])
        since = every_session(api, user_id, **{"from": iso(started)})
        assert summary in since and all(instant(s["startedAt"]) >= started for s in since)
        before = every_session(api, user_id, to=iso(started))
        assert summary not in before and all(instant(s["startedAt"]) < started for s in before)
        assert every_session(api, user_id, **{"from": iso(started), "to": iso(started)}) == []
        just = every_session(api, user_id, **{"from": iso(started), "to": iso(started + timedelta(seconds=1))})
        assert summary in just
    assert every_session(api, user_id, sessionType=sessions[0]["type"].lower() + "x") == []


@documented
def test_S2_from_after_to_is_invalid_filter_time_range(api):
    response = api.sessions(session_of(api, "user"), **{"from": "2030-01-02T00:00:00Z", "to": "2030-01-01T00:00:00Z"})
    assert response.status_code == 400 and kind(response) == "invalid_filter_time_range"


@documented
def test_S2_list_is_paged_with_a_total_count(api):
    user_id = session_of(api, "user")
    whole = every_session(api, user_id)
    items, totals = every_page(lambda **page: api.sessions(user_id, **page), limit=1)
    assert totals == {len(whole)} and items == whole
    assert api.sessions(user_id, offset=len(whole)).json()["items"] == []


@decision
@pytest.mark.parametrize("params", [{"offset": -1}, {"limit": 0}, {"limit": 101}])
def test_S2_out_of_range_paging_is_invalid_schema(api, params):
    response = api.sessions(session_of(api, "user"), **params)
    assert response.status_code == 400 and kind(response) == "invalid_schema"


@documented
def test_S3_a_visible_session_shows_its_details_and_teams(api):
    session_id = session_of(api, "visible")
    response = api.session(session_id)
    assert response.status_code == 200, response.text
    details = response.json()
    assert details["id"] == session_id and isinstance(details["durationSeconds"], int)
    assert details["teams"] and all(isinstance(u["name"], str) for t in details["teams"] for u in t["users"])
    listed = {s["id"]: s for s in every_session(api, session_of(api, "user"))}
    if session_id in listed:
        assert {f: details[f] for f in SUMMARY_FIELDS} == {f: listed[session_id][f] for f in SUMMARY_FIELDS}


@documented
def test_S3_a_session_that_is_not_visible_is_user_access_denied(api):
    hidden = session_of(api, "not_visible")
    for response in (api.session(hidden), api.videos(hidden)):
        assert response.status_code == 403 and kind(response) == "user_access_denied", response.request.url.path


@documented
def test_S3_an_unknown_session_is_session_not_found(api):
    for response in (api.session(UNKNOWN), api.videos(UNKNOWN)):
        assert response.status_code == 404 and kind(response) == "session_not_found", response.request.url.path


@documented
def test_S3_videos_belong_to_the_session_and_filter_by_type(api):
    session_id = session_of(api, "visible")
    videos = every_video(api, session_id)
    assert all(v["sessionId"] == session_id and v["type"] in VIDEO_TYPES for v in videos)
    by_type = {t: every_video(api, session_id, videoType=t) for t in VIDEO_TYPES}
    for video_type, found in by_type.items():
        assert {v["type"] for v in found} <= {video_type}
    assert sorted(v["id"] for found in by_type.values() for v in found) == sorted(v["id"] for v in videos)


@documented
def test_S3_videos_are_paged_with_a_total_count(api):
    session_id = session_of(api, "visible")
    whole = every_video(api, session_id)
    items, totals = every_page(lambda **page: api.videos(session_id, **page), limit=1)
    assert totals == {len(whole)} and sorted(v["id"] for v in items) == sorted(v["id"] for v in whole)
    assert len({v["id"] for v in items}) == len(items)


@decision
@pytest.mark.parametrize("params", [{"offset": -1}, {"limit": 0}, {"limit": 101}, {"videoType": "TRAILER"}])
def test_S3_out_of_range_paging_or_unknown_video_type_is_invalid_schema(api, params):
    response = api.videos(session_of(api, "visible"), **params)
    assert response.status_code == 400 and kind(response) == "invalid_schema"
