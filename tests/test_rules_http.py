"""One HTTP test per rule id of decisions.md (B1-B28, A1-A6), run against the mock in-process."""

import pytest

from mock_server.timestamps import parse_instant

from .conftest import BASE, COURT, COURT_2, COURT_NOT_GRANTED, OTHER_SERVICE, SERVICE, TOKENS, USERS, booking_body

UNKNOWN_COURT = "00000000-0000-4000-8000-000000000000"


def error_type(response) -> str:
    return response.json()["error"]["type"]


def test_B1_upsert_creates_missing_booking_and_returns_it(api):
    response = api.upsert("b1")
    assert response.status_code == 200
    booking = response.json()
    assert booking["externalCourtBookingId"] == "b1" and booking["externalServiceId"] == SERVICE
    assert booking["courtId"] == COURT and booking["createdAt"] == booking["updatedAt"]
    assert api.get("b1").json() == booking


def test_B2_older_upsert_is_stale_write_and_changes_nothing(api):
    stored = api.upsert("b2", externalUpdatedAt="2031-01-02T00:00:00Z").json()
    response = api.upsert("b2", externalUpdatedAt="2031-01-01T00:00:00Z", endDate="2031-05-01T12:00:00Z")
    assert response.status_code == 409 and error_type(response) == "stale_write"
    assert api.get("b2").json() == stored


def test_B3_equal_version_and_payload_is_idempotent(api):
    first = api.upsert("b3").json()
    again = api.upsert("b3")
    assert again.status_code == 200
    assert again.json() == first  # updatedAt stays


def test_B4_equal_version_with_changed_payload_is_version_conflict(api):
    stored = api.upsert("b4").json()
    response = api.upsert("b4", endDate="2031-05-01T11:30:00Z")
    assert response.status_code == 409 and error_type(response) == "version_conflict"
    assert api.get("b4").json() == stored


def test_B5_newer_upsert_replaces_booking(api):
    first = api.upsert("b5").json()
    response = api.upsert(
        "b5", externalUpdatedAt="2031-01-02T00:00:00Z", courtId=COURT_2, participants=[{"email": "new@example.com"}]
    )
    assert response.status_code == 200
    second = response.json()
    assert second["courtId"] == COURT_2 and second["participants"] == [{"email": "new@example.com"}]
    assert second["createdAt"] == first["createdAt"]
    assert parse_instant(second["updatedAt"]) > parse_instant(first["updatedAt"])
    assert api.get("b5").json() == second


@pytest.mark.parametrize(
    "same_instant", ["2031-01-01T00:00:00.000Z", "2031-01-01T01:00:00+01:00", "2030-12-31T19:00:00-05:00"]
)
def test_B6_timestamps_compare_as_instants(api, same_instant):
    first = api.upsert("b6", externalUpdatedAt="2031-01-01T00:00:00Z").json()
    again = api.upsert("b6", externalUpdatedAt=same_instant)
    assert again.status_code == 200 and again.json()["updatedAt"] == first["updatedAt"]
    older = api.upsert("b6", externalUpdatedAt="2031-01-01T00:59:59+01:00")
    assert older.status_code == 409 and error_type(older) == "stale_write"


def test_B7_payload_equality_ignores_notation_order_and_email_case(api):
    first = api.upsert("b7", participants=[{"userId": USERS["related"]}, {"email": "guest@example.com"}]).json()
    again = api.upsert(
        "b7",
        startDate="2031-05-01T12:00:00+02:00",
        endDate="2031-05-01T11:00:00.000Z",
        participants=[{"email": "GUEST@Example.com"}, {"userId": USERS["related"]}],
    )
    assert again.status_code == 200 and again.json()["updatedAt"] == first["updatedAt"]


@pytest.mark.parametrize("count", [0, 5])
def test_B8_participants_hold_one_to_four_entries(api, count):
    participants = [{"email": f"p{i}@example.com"} for i in range(count)]
    response = api.upsert("b8", participants=participants)
    assert response.status_code == 400 and error_type(response) == "invalid_schema"
    assert response.json()["error"]["issues"][0]["path"] == ["body", "participants"]
    assert api.upsert("b8", participants=participants[:4] or [{"email": "a@example.com"}]).status_code == 200


@pytest.mark.parametrize("participant", [{}, {"userId": USERS["related"], "email": "both@example.com"}])
def test_B9_participant_needs_exactly_one_of_user_id_and_email(api, participant):
    response = api.upsert("b9", participants=[participant])
    assert response.status_code == 400 and error_type(response) == "mutually_exclusive_fields_violation"
    assert api.get("b9").status_code == 404


@pytest.mark.parametrize(
    "participants",
    [
        [{"userId": USERS["related"]}, {"userId": USERS["related"]}],
        [{"email": "dup@example.com"}, {"email": "DUP@example.com"}],
    ],
)
def test_B10_duplicate_participants_are_refused(api, participants):
    response = api.upsert("b10", participants=participants)
    assert response.status_code == 400 and error_type(response) == "duplicate_entries_provided"


def test_B11_email_is_stored_and_returned_lowercased(api):
    response = api.upsert("b11", participants=[{"email": "Mixed.Case@Example.COM"}])
    assert response.json()["participants"] == [{"email": "mixed.case@example.com"}]
    assert api.get("b11").json()["participants"] == [{"email": "mixed.case@example.com"}]


@pytest.mark.parametrize("end", ["2031-05-01T10:00:00Z", "2031-05-01T09:00:00Z", "2031-05-01T11:00:00+02:00"])
def test_B12_start_must_be_strictly_before_end(api, end):
    response = api.upsert("b12", endDate=end)
    assert response.status_code == 400 and error_type(response) == "invalid_time_range"


def test_B13_overlap_is_refused_touching_is_accepted(api):
    assert api.upsert("b13-a").status_code == 200  # 10:00-11:00
    overlap = api.upsert("b13-b", startDate="2031-05-01T10:30:00Z", endDate="2031-05-01T11:30:00Z")
    assert overlap.status_code == 409 and error_type(overlap) == "court_booking_overlap"
    inside = api.upsert("b13-c", startDate="2031-05-01T10:15:00Z", endDate="2031-05-01T10:45:00Z")
    assert inside.status_code == 409
    assert api.upsert("b13-d", startDate="2031-05-01T11:00:00Z", endDate="2031-05-01T12:00:00Z").status_code == 200
    assert (
        api.upsert("b13-e", startDate="2031-05-01T09:00:00+00:00", endDate="2031-05-01T11:00:00+01:00").status_code
        == 200
    )
    assert api.upsert("b13-f", courtId=COURT_2).status_code == 200  # another court is free


def test_B14_overlap_covers_every_service_reveals_nothing_and_excludes_self(api):
    other = api.as_(TOKENS["other_service"], OTHER_SERVICE)
    assert other.upsert("theirs-secret-id", participants=[{"email": "x@example.com"}]).status_code == 200
    response = api.upsert("b14")
    assert response.status_code == 409 and error_type(response) == "court_booking_overlap"
    assert "theirs-secret-id" not in response.text and OTHER_SERVICE not in response.text
    assert other.delete("theirs-secret-id", "2031-01-01T00:00:00Z").status_code == 200
    assert api.upsert("b14").status_code == 200  # a deleted booking no longer blocks
    moved = api.upsert("b14", externalUpdatedAt="2031-01-02T00:00:00Z", endDate="2031-05-01T11:30:00Z")
    assert moved.status_code == 200  # overlaps only its own old interval


def test_B15_unknown_court_is_404_and_unrelated_organization_403(api):
    unknown = api.upsert("b15", courtId=UNKNOWN_COURT)
    assert unknown.status_code == 404 and error_type(unknown) == "court_not_found"
    denied = api.upsert("b15", courtId=COURT_NOT_GRANTED)
    assert denied.status_code == 403 and error_type(denied) == "organization_access_denied"
    assert api.get("b15").status_code == 404


@pytest.mark.parametrize(
    "user, allowed",
    [
        ("related", True),
        ("managed", True),
        ("unrelated", False),
        ("6d7e8f90-1a2b-4c3d-9e4f-5a6b7c8d9e0f", False),  # PENDING in the default world
        ("8f9a0b1c-2d3e-4f5a-8b6c-7d8e9f0a1b2c", False),  # REJECTED in the default world
        ("00000000-0000-4000-8000-000000000001", False),  # no such user
    ],
)
def test_B16_user_participant_needs_accepted_relation_or_management(api, user, allowed):
    response = api.upsert("b16", participants=[{"userId": USERS.get(user, user)}])
    if allowed:
        assert response.status_code == 200
    else:
        assert response.status_code == 403 and error_type(response) == "user_access_denied"


def test_B17_delete_missing_booking_returns_empty_object(api):
    response = api.delete("never-existed", "2031-01-01T00:00:00Z")
    assert response.status_code == 200 and response.json() == {}


def test_B18_older_delete_is_stale_write_and_booking_stays(api):
    stored = api.upsert("b18").json()
    response = api.delete("b18", "2030-12-31T23:59:59Z")
    assert response.status_code == 409 and error_type(response) == "stale_write"
    assert api.get("b18").json() == stored


@pytest.mark.parametrize("version", ["2031-01-01T00:00:00Z", "2031-01-01T01:00:00+01:00", "2031-02-01T00:00:00Z"])
def test_B19_same_or_newer_delete_is_idempotent(api, version):
    api.upsert("b19")
    for _ in range(2):
        response = api.delete("b19", version)
        assert response.status_code == 200 and response.json() == {}


def test_B20_deleted_booking_is_gone_from_list_and_read(api):
    api.upsert("b20")
    assert "b20" in api.ids()
    api.delete("b20", "2031-01-01T00:00:00Z")
    assert "b20" not in api.ids()
    assert api.list(externalCourtBookingId="b20").json() == {"items": [], "totalCount": 0}
    response = api.get("b20")
    assert response.status_code == 404 and error_type(response) == "court_booking_not_found"


def test_B21_delete_leaves_a_tombstone(api):
    api.upsert("b21")
    api.delete("b21", "2031-01-05T00:00:00Z")
    for version in ("2031-01-01T00:00:00Z", "2031-01-05T00:00:00Z"):
        late = api.upsert("b21", externalUpdatedAt=version)
        assert late.status_code == 409 and error_type(late) == "stale_write"
    again = api.upsert("b21", externalUpdatedAt="2031-01-06T00:00:00Z")
    assert again.status_code == 200 and api.get("b21").status_code == 200
    # A delete of a booking that never existed leaves a tombstone too.
    assert api.delete("b21-ghost", "2031-01-05T00:00:00Z").status_code == 200
    ghost = api.upsert("b21-ghost", externalUpdatedAt="2031-01-04T00:00:00Z")
    assert ghost.status_code == 409 and error_type(ghost) == "stale_write"


@pytest.mark.parametrize("version", [None, "yesterday", "2031-13-01T00:00:00Z", "2031-01-01", "2031-01-01T00:00:00Z\n"])
def test_B22_delete_requires_a_valid_external_updated_at(api, version):
    api.upsert("b22")
    response = api.delete("b22", version)
    assert response.status_code == 400 and error_type(response) == "invalid_schema"
    assert response.json()["error"]["issues"][0]["path"] == ["query", "externalUpdatedAt"]
    assert api.get("b22").status_code == 200


def test_B23_list_is_sorted_by_updated_at_descending(api):
    for index, name in enumerate(["b23-a", "b23-b", "b23-c"]):
        api.upsert(name, startDate=f"2031-06-0{index + 1}T10:00:00Z", endDate=f"2031-06-0{index + 1}T11:00:00Z")
    api.upsert(
        "b23-a",
        startDate="2031-06-01T10:00:00Z",
        endDate="2031-06-01T11:30:00Z",
        externalUpdatedAt="2031-01-02T00:00:00Z",
    )
    ids = api.ids(**{"from": "2031-06-01T00:00:00Z"})
    assert ids == ["b23-a", "b23-c", "b23-b"]
    updated = [b["updatedAt"] for b in api.list().json()["items"]]
    assert updated == sorted(updated, reverse=True)


def test_B24_paging_defaults_ranges_and_total_count(api):
    for day in range(1, 8):
        api.upsert(f"b24-{day}", startDate=f"2031-07-0{day}T10:00:00Z", endDate=f"2031-07-0{day}T11:00:00Z")
    everything = api.list(**{"from": "2031-07-01T00:00:00Z"}).json()
    assert everything["totalCount"] == 7 and len(everything["items"]) == 7
    page = api.list(**{"from": "2031-07-01T00:00:00Z", "offset": 2, "limit": 3}).json()
    assert page["totalCount"] == 7
    assert [b["externalCourtBookingId"] for b in page["items"]] == [
        b["externalCourtBookingId"] for b in everything["items"][2:5]
    ]
    assert api.list(offset=100).json()["items"] == []
    for bad in ({"offset": -1}, {"limit": 0}, {"limit": 101}, {"limit": "ten"}):
        response = api.list(**bad)
        assert response.status_code == 400 and error_type(response) == "invalid_schema"


def test_B25_list_filters(api):
    api.upsert("f1", participants=[{"userId": USERS["related"]}])  # court 1, 10-11
    api.upsert("f2", courtId=COURT_2, participants=[{"email": "Filter@Example.com"}])  # court 2, 10-11
    api.upsert(
        "f3",
        startDate="2031-05-01T12:00:00Z",
        endDate="2031-05-01T13:00:00Z",
        participants=[{"userId": USERS["managed"]}, {"email": "filter@example.com"}],
    )
    window = {"from": "2031-05-01T00:00:00Z"}
    assert sorted(api.ids(**window, courtId=COURT)) == ["f1", "f3"]
    assert api.ids(externalCourtBookingId="f2") == ["f2"]
    assert api.ids(participantUserId=USERS["related"], **window) == ["f1"]
    assert sorted(api.ids(participantEmail="FILTER@example.COM")) == ["f2", "f3"]
    assert api.ids(participantEmail="filter@example.com", participantUserId=USERS["managed"]) == ["f3"]
    # from/to keep bookings overlapping [from, to): touching does not count.
    assert sorted(api.ids(**{"from": "2031-05-01T11:00:00Z", "to": "2031-05-01T12:00:00Z"})) == []
    assert sorted(api.ids(**{"from": "2031-05-01T10:59:59Z", "to": "2031-05-01T12:00:01Z"})) == ["f1", "f2", "f3"]
    f3 = api.get("f3").json()
    assert api.ids(updatedFrom=f3["updatedAt"], updatedTo=f3["updatedAt"]) == ["f3"]
    assert "f3" not in api.ids(updatedTo=api.get("f2").json()["updatedAt"])


def test_B26_filter_ranges_must_be_ordered(api):
    reversed_range = api.list(**{"from": "2031-05-02T00:00:00Z", "to": "2031-05-01T00:00:00Z"})
    assert reversed_range.status_code == 400 and error_type(reversed_range) == "invalid_filter_time_range"
    reversed_updated = api.list(updatedFrom="2031-05-02T00:00:00Z", updatedTo="2031-05-01T00:00:00+02:00")
    assert reversed_updated.status_code == 400 and error_type(reversed_updated) == "invalid_updated_filter_time_range"
    assert api.list(**{"from": "2031-05-01T00:00:00Z", "to": "2031-05-01T02:00:00+02:00"}).status_code == 200
    assert api.list(updatedFrom="2031-05-01T00:00:00Z", updatedTo="2031-05-01T00:00:00Z").status_code == 200


def test_B27_bookings_belong_to_one_service(api):
    mine = api.upsert("b27").json()
    other = api.as_(TOKENS["other_service"], OTHER_SERVICE)
    assert other.get("b27").status_code == 404
    assert "b27" not in other.ids()
    theirs = other.upsert("b27", courtId=COURT_2, participants=[{"email": "t@example.com"}])  # same external id, theirs
    assert theirs.status_code == 200 and theirs.json()["externalServiceId"] == OTHER_SERVICE
    assert other.delete("b27", "2032-01-01T00:00:00Z").status_code == 200
    assert api.get("b27").json() == mine
    crossing = api.as_(TOKENS["other_service"], SERVICE)  # their token, my path
    for response in (
        crossing.get("b27"),
        crossing.upsert("b27"),
        crossing.delete("b27", "2032-01-01T00:00:00Z"),
        crossing.list(),
    ):
        assert response.status_code == 403 and error_type(response) == "external_service_access_denied"
    assert api.get("b27").json() == mine


def test_B28_timestamps_are_returned_in_utc_with_z(api):
    booking = api.upsert(
        "b28",
        startDate="2031-05-01T12:00:00+02:00",
        endDate="2031-05-01T13:00:00.500+02:00",
        externalUpdatedAt="2031-01-01T05:30:00+05:30",
    ).json()
    assert booking["startDate"] == "2031-05-01T10:00:00Z"
    assert booking["endDate"] == "2031-05-01T11:00:00.5Z"
    assert booking["externalUpdatedAt"] == "2031-01-01T00:00:00Z"
    for field in ("createdAt", "updatedAt"):
        assert booking[field].endswith("Z")


@pytest.mark.parametrize(
    "header, kind",
    [
        (None, "missing_api_token"),
        ("Basic dXNlcjpwYXNz", "missing_api_token"),
        ("Bearer", "missing_api_token"),
        ("Bearer tok_ext_v1_unknown.token", "invalid_api_token"),
        (f"Bearer {TOKENS['expired']}", "invalid_api_token"),
        ("Bearer tok_ext_v1_demo.revoked", "invalid_api_token"),
    ],
)
def test_A1_missing_or_invalid_token_is_401(client, header, kind):
    headers = {} if header is None else {"Authorization": header}
    response = client.get(f"{BASE}/courts/{COURT}", headers=headers)
    assert response.status_code == 401 and error_type(response) == kind
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_A2_write_implies_read_and_missing_level_is_403(api):
    read_only = api.as_(TOKENS["read_only"])
    assert read_only.list().status_code == 200
    response = read_only.upsert("a2")
    assert response.status_code == 403 and error_type(response) == "scope_permission_denied"
    assert api.list().status_code == 200  # write implies read
    no_scope = api.as_(TOKENS["no_scope"])
    assert error_type(no_scope.list()) == "scope_permission_denied"


OPERATIONS = [
    ("GET", f"/courts/{COURT}", "read"),
    ("GET", "/facilities/5f9c1d7e-2b4a-4c1e-9d3f-8a6b7c5d4e3f/courts", "read"),
    ("GET", f"/external-services/{SERVICE}/court-mappings", "read"),
    ("GET", f"/external-services/{SERVICE}/courts/{COURT}/mapping", "read"),
    ("PUT", f"/external-services/{SERVICE}/courts/{COURT}/mapping", "write"),
    ("DELETE", f"/external-services/{SERVICE}/courts/{COURT}/mapping", "write"),
    ("GET", f"/external-services/{SERVICE}/court-bookings", "read"),
    ("GET", f"/external-services/{SERVICE}/court-bookings/by-external-id/demo-seed-1", "read"),
    ("PUT", f"/external-services/{SERVICE}/court-bookings/by-external-id/a3", "write"),
    (
        "DELETE",
        f"/external-services/{SERVICE}/court-bookings/by-external-id/a3?externalUpdatedAt=2031-01-01T00:00:00Z",
        "write",
    ),
]
BODIES = {"PUT": {"mapping": {"externalCourtId": "A3"}, "by-external-id": booking_body()}}


@pytest.mark.parametrize("method, path, level", OPERATIONS)
def test_A3_court_area_needs_court_booking_scope(api, method, path, level):
    body = next((b for key, b in BODIES.get(method, {}).items() if key in path), None)
    for token, expect_ok in (("write", True), ("read_only", level == "read"), ("no_scope", False)):
        response = api.as_(TOKENS[token]).call(method, path, json=body)
        if expect_ok:
            assert response.status_code == 200, (token, response.text)
        else:
            assert response.status_code == 403 and error_type(response) == "scope_permission_denied", token


def test_A4_checks_run_in_order(api):
    bad_body = {"courtId": "not-a-uuid"}
    assert (
        error_type(
            api.as_("tok_ext_v1_nope").call(
                "PUT", "/external-services/x/court-bookings/by-external-id/a4", json=bad_body
            )
        )
        == "invalid_api_token"
    )
    assert (
        error_type(api.as_(TOKENS["read_only"], OTHER_SERVICE).upsert("a4", courtId="x")) == "scope_permission_denied"
    )
    assert (
        error_type(api.as_(TOKENS["write"], OTHER_SERVICE).upsert("a4", courtId="x"))
        == "external_service_access_denied"
    )
    assert error_type(api.upsert("a4", courtId="x", endDate="2031-05-01T09:00:00Z")) == "invalid_schema"
    assert error_type(api.upsert("a4", courtId=UNKNOWN_COURT, endDate="2031-05-01T09:00:00Z")) == "invalid_time_range"
    api.upsert("a4", externalUpdatedAt="2031-02-01T00:00:00Z")
    assert error_type(api.upsert("a4", courtId=UNKNOWN_COURT)) == "court_not_found"
    assert error_type(api.upsert("a4", participants=[{"userId": USERS["unrelated"]}])) == "user_access_denied"
    api.upsert("a4-blocker", courtId=COURT_2)
    stale_and_overlapping = api.upsert("a4", courtId=COURT_2)
    assert error_type(stale_and_overlapping) == "stale_write"
    assert (
        error_type(api.upsert("a4", courtId=COURT_2, externalUpdatedAt="2031-03-01T00:00:00Z"))
        == "court_booking_overlap"
    )


def test_A5_invalid_schema_lists_every_issue_with_path_and_message(api):
    response = api.upsert(
        "a5", courtId="nope", startDate="soon", participants=[{"email": "x@example.com", "phone": 1}], extra=True
    )
    assert response.status_code == 400 and response.headers["content-type"] == "application/json"
    error = response.json()["error"]
    assert error["type"] == "invalid_schema" and error["message"]
    paths = [issue["path"] for issue in error["issues"]]
    assert ["body", "courtId"] in paths and ["body", "startDate"] in paths
    assert ["body"] in paths and ["body", "participants", 0] in paths  # unknown fields, top level and nested
    assert all(isinstance(issue["message"], str) and issue["message"] for issue in error["issues"])
    missing = api.call("PUT", f"/external-services/{SERVICE}/court-bookings/by-external-id/a5", json={})
    assert sorted(i["path"][-1] for i in missing.json()["error"]["issues"]) == sorted(booking_body())


MALFORMED = [
    (b'{"courtId": ', "application/json"),
    (b"\xff\xfe\x00garbage", "application/json"),
    (b'{"courtId": "\xc3\x28"}', "application/json"),
    (b"[1, 2, 3]", "application/json"),
    (b"null", "application/json"),
    (b'"just a string"', "application/json"),
    (
        b'{"courtId": 1, "startDate": [], "endDate": {}, "externalUpdatedAt": true, "participants": "x"}',
        "application/json",
    ),
    (b'{"participants": [' + b"[" * 5000 + b"]" * 5000 + b"]}", "application/json"),
    (b"x" * (1024 * 1024), "application/json"),
    (b"courtId=1", "application/x-www-form-urlencoded"),
    (b"<booking/>", "text/xml"),
]


@pytest.mark.parametrize("raw, content_type", MALFORMED, ids=range(len(MALFORMED)))
def test_A6_malformed_requests_never_get_a_5xx(api, raw, content_type):
    response = api.call(
        "PUT",
        f"/external-services/{SERVICE}/court-bookings/by-external-id/a6",
        content=raw,
        headers={"Content-Type": content_type},
    )
    assert 400 <= response.status_code < 500, response.text
    assert error_type(response) == "invalid_schema"
    assert api.get("a6").status_code == 404


@pytest.mark.parametrize(
    "path",
    [
        "/courts/not-a-uuid",
        f"/courts/{COURT}?unknown=1",
        "/facilities/%ZZ/courts",
        f"/external-services/{SERVICE}/court-bookings?from=2031-01-01T00:00:00%2B99:00",
        f"/external-services/{SERVICE}/court-bookings?from=0001-01-01T00:00:00%2B01:00",
        f"/external-services/{SERVICE}/court-bookings?from=9999-12-31T23:59:59-01:00",
        f"/external-services/{SERVICE}/court-bookings?limit=99999999999999999999999",
    ],
)
def test_A6_malformed_parameters_never_get_a_5xx(api, path):
    response = api.call("GET", path)
    assert 400 <= response.status_code < 500, response.text


def test_A6_overflowing_instants_in_bodies_are_400(api):
    response = api.upsert("a6-range", startDate="0001-01-01T00:00:00+01:00")
    assert response.status_code == 400 and error_type(response) == "invalid_schema"
