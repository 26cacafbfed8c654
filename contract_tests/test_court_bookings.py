"""Scenario tests of the court-booking rules B1-B28 (docs/rules.md), one or more per rule, named after it.

Each test works in its own corner (unique external ids, a random far-future day) and only asserts on data it
created, so the suite can run against a shared environment. Markers: `documented` (the public docs promise
it) or `decision` (bookingkit's answer where the docs are silent).
"""

from datetime import datetime

import pytest

from .conftest import optional

documented, decision = pytest.mark.documented, pytest.mark.decision
UNKNOWN_COURT = "00000000-0000-4000-8000-000000000000"


def kind(response) -> str:
    return response.json()["error"]["type"]


def instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))


@documented
def test_B1_upsert_creates_missing_booking_and_returns_it(api, scenario):
    response = api.upsert(scenario.id())
    assert response.status_code == 200, response.text
    booking = response.json()
    assert booking["externalCourtBookingId"] == scenario.id() and booking["externalServiceId"] == api.service
    assert booking["courtId"] == api.target.granted_courts[0]
    assert instant(booking["startDate"]) == instant(scenario.at(0))
    assert api.get(scenario.id()).json() == booking


@documented
def test_B2_older_upsert_is_stale_write_and_changes_nothing(api, scenario):
    stored = api.upsert(scenario.id(), externalUpdatedAt=scenario.version(2)).json()
    response = api.upsert(scenario.id(), externalUpdatedAt=scenario.version(1), endDate=scenario.at(2))
    assert response.status_code == 409 and kind(response) == "stale_write"
    assert api.get(scenario.id()).json() == stored


@documented
def test_B3_equal_version_and_payload_is_idempotent(api, scenario):
    first = api.upsert(scenario.id()).json()
    again = api.upsert(scenario.id())
    assert again.status_code == 200
    assert again.json() == first and again.json()["updatedAt"] == first["updatedAt"]


@decision
def test_B4_equal_version_with_changed_payload_is_version_conflict(api, scenario):
    stored = api.upsert(scenario.id()).json()
    response = api.upsert(scenario.id(), endDate=scenario.at(1.5))
    assert response.status_code == 409 and kind(response) == "version_conflict"
    assert api.get(scenario.id()).json() == stored


@documented
def test_B5_newer_upsert_replaces_booking(api, scenario):
    first = api.upsert(scenario.id()).json()
    second_court = api.target.granted_courts[1]
    response = api.upsert(
        scenario.id(), externalUpdatedAt=scenario.version(2), courtId=second_court, participants=[scenario.guest("new")]
    )
    assert response.status_code == 200, response.text
    second = response.json()
    assert second["courtId"] == second_court and second["participants"] == [scenario.guest("new")]
    assert second["createdAt"] == first["createdAt"]
    assert instant(second["updatedAt"]) > instant(first["updatedAt"])
    assert api.get(scenario.id()).json() == second


@decision
@pytest.mark.parametrize("notation", ["{date}T00:01:00.000Z", "{date}T01:01:00+01:00", "{previous}T19:01:00-05:00"])
def test_B6_timestamps_compare_as_instants(api, scenario, notation):
    version = scenario.version(1)  # 2030-01-01T00:01:00Z
    first = api.upsert(scenario.id(), externalUpdatedAt=version).json()
    same = notation.format(date="2030-01-01", previous="2029-12-31")
    again = api.upsert(scenario.id(), externalUpdatedAt=same)
    assert again.status_code == 200 and again.json()["updatedAt"] == first["updatedAt"]
    older = api.upsert(scenario.id(), externalUpdatedAt="2030-01-01T01:00:59+01:00")
    assert older.status_code == 409 and kind(older) == "stale_write"


@decision
def test_B7_payload_equality_ignores_notation_order_and_email_case(api, scenario):
    one, two = scenario.guest("one"), scenario.guest("two")
    first = api.upsert(scenario.id(), participants=[one, two]).json()
    start = scenario.day.replace(hour=2).strftime("%Y-%m-%dT%H:%M:%S+02:00")
    again = api.upsert(
        scenario.id(),
        startDate=start,
        endDate=scenario.at(1).replace("Z", ".000Z"),
        participants=[{"email": two["email"].upper()}, one],
    )
    assert again.status_code == 200, again.text
    assert again.json()["updatedAt"] == first["updatedAt"]


@documented
@pytest.mark.parametrize("count", [0, 5])
def test_B8_participants_hold_one_to_four_entries(api, scenario, count):
    participants = [scenario.guest(f"p{i}") for i in range(count)]
    response = api.upsert(scenario.id(), participants=participants)
    assert response.status_code == 400 and kind(response) == "invalid_schema"
    assert api.get(scenario.id()).status_code == 404
    assert api.upsert(scenario.id(), participants=[scenario.guest(f"p{i}") for i in range(4)]).status_code == 200


@documented
@pytest.mark.parametrize("shape", ["neither", "both"])
def test_B9_participant_needs_exactly_one_of_user_id_and_email(api, scenario, shape):
    participant = {} if shape == "neither" else {"userId": "2c4a230c-5085-4924-a3e1-25fb4fc5965b", **scenario.guest()}
    response = api.upsert(scenario.id(), participants=[participant])
    assert response.status_code == 400 and kind(response) == "mutually_exclusive_fields_violation"
    assert api.get(scenario.id()).status_code == 404


@documented
def test_B10_duplicate_participants_are_refused(api, scenario):
    response = api.upsert(scenario.id(), participants=[scenario.guest(), scenario.guest()])
    assert response.status_code == 400 and kind(response) == "duplicate_entries_provided"
    user = optional(api.target, "users", "related")
    response = api.upsert(scenario.id(), participants=[{"userId": user}, {"userId": user}])
    assert response.status_code == 400 and kind(response) == "duplicate_entries_provided"


@decision
def test_B10_emails_are_compared_lowercased(api, scenario):
    guest = scenario.guest()
    response = api.upsert(scenario.id(), participants=[guest, {"email": guest["email"].upper()}])
    assert response.status_code == 400 and kind(response) == "duplicate_entries_provided"


@documented
def test_B11_email_is_stored_and_returned_lowercased(api, scenario):
    mixed = f"Mixed.Case.{scenario.prefix}@Example.COM"
    response = api.upsert(scenario.id(), participants=[{"email": mixed}])
    assert response.json()["participants"] == [{"email": mixed.lower()}]
    assert api.get(scenario.id()).json()["participants"] == [{"email": mixed.lower()}]


@documented
def test_B12_start_after_end_is_invalid_time_range(api, scenario):
    response = api.upsert(scenario.id(), startDate=scenario.at(1), endDate=scenario.at(0))
    assert response.status_code == 400 and kind(response) == "invalid_time_range"


@decision
def test_B12_start_equal_to_end_is_invalid_time_range(api, scenario):
    response = api.upsert(scenario.id(), startDate=scenario.at(1), endDate=scenario.at(1))
    assert response.status_code == 400 and kind(response) == "invalid_time_range"


@documented
def test_B13_overlapping_booking_is_refused(api, scenario):
    assert api.upsert(scenario.id("a")).status_code == 200  # 00:00-01:00
    for name, start, end in (("b", 0.5, 1.5), ("c", 0.25, 0.75), ("d", -0.5, 2)):
        response = api.upsert(scenario.id(name), startDate=scenario.at(start), endDate=scenario.at(end))
        assert response.status_code == 409 and kind(response) == "court_booking_overlap", name
    assert api.upsert(scenario.id("e"), courtId=api.target.granted_courts[1]).status_code == 200


@decision
def test_B13_touching_bookings_are_accepted(api, scenario):
    assert api.upsert(scenario.id("a"), startDate=scenario.at(1), endDate=scenario.at(2)).status_code == 200
    assert api.upsert(scenario.id("before"), startDate=scenario.at(0), endDate=scenario.at(1)).status_code == 200
    assert api.upsert(scenario.id("after"), startDate=scenario.at(2), endDate=scenario.at(3)).status_code == 200


@decision
def test_B14_overlap_covers_other_services_and_reveals_nothing(api, other, scenario):
    theirs = other.upsert(scenario.id("theirs"))
    if theirs.status_code == 403:
        pytest.skip("the other service cannot book the first granted court")
    assert theirs.status_code == 200, theirs.text
    response = api.upsert(scenario.id("mine"))
    assert response.status_code == 409 and kind(response) == "court_booking_overlap"
    assert scenario.id("theirs") not in response.text and other.service not in response.text


@decision
def test_B14_deleted_bookings_and_the_booking_itself_never_overlap(api, scenario):
    assert api.upsert(scenario.id("gone")).status_code == 200
    assert api.delete(scenario.id("gone"), scenario.version(1)).status_code == 200
    assert api.upsert(scenario.id("mine")).status_code == 200
    moved = api.upsert(scenario.id("mine"), externalUpdatedAt=scenario.version(2), endDate=scenario.at(1.5))
    assert moved.status_code == 200, moved.text


@documented
def test_B15_unknown_court_is_court_not_found(api, scenario):
    response = api.upsert(scenario.id(), courtId=UNKNOWN_COURT)
    assert response.status_code == 404 and kind(response) == "court_not_found"
    assert api.get(scenario.id()).status_code == 404


@documented
def test_B15_court_of_unrelated_organization_is_denied(api, scenario):
    court = optional(api.target, "courts", "not_granted")
    response = api.upsert(scenario.id(), courtId=court)
    assert response.status_code == 403 and kind(response) == "organization_access_denied"
    assert api.get(scenario.id()).status_code == 404


@documented
def test_B16_related_user_may_take_part(api, scenario):
    user = optional(api.target, "users", "related")
    assert api.upsert(scenario.id(), participants=[{"userId": user}]).status_code == 200


@documented
def test_B16_unrelated_user_is_denied(api, scenario):
    user = optional(api.target, "users", "unrelated")
    response = api.upsert(scenario.id(), participants=[{"userId": user}, scenario.guest()])
    assert response.status_code == 403 and kind(response) == "user_access_denied"
    assert api.get(scenario.id()).status_code == 404


@decision
def test_B16_user_created_by_the_service_may_take_part(api, scenario):
    user = optional(api.target, "users", "managed")
    assert api.upsert(scenario.id(), participants=[{"userId": user}]).status_code == 200


@documented
def test_B17_delete_missing_booking_returns_empty_object(api, scenario):
    response = api.delete(scenario.id("never-existed"), scenario.version(1))
    assert response.status_code == 200 and response.json() == {}


@documented
def test_B18_older_delete_is_stale_write_and_booking_stays(api, scenario):
    stored = api.upsert(scenario.id(), externalUpdatedAt=scenario.version(2)).json()
    response = api.delete(scenario.id(), scenario.version(1))
    assert response.status_code == 409 and kind(response) == "stale_write"
    assert api.get(scenario.id()).json() == stored


@documented
@pytest.mark.parametrize("offset", [0, 1], ids=["same", "newer"])
def test_B19_same_or_newer_delete_is_idempotent(api, scenario, offset):
    api.upsert(scenario.id(), externalUpdatedAt=scenario.version(2))
    for _ in range(2):
        response = api.delete(scenario.id(), scenario.version(2 + offset))
        assert response.status_code == 200 and response.json() == {}


@documented
def test_B20_deleted_booking_is_gone_from_list_and_read(api, scenario):
    api.upsert(scenario.id())
    window = {"from": scenario.at(-1), "to": scenario.at(2)}
    assert api.own_ids(**window) == [scenario.id()]
    assert api.delete(scenario.id(), scenario.version(1)).status_code == 200
    assert api.own_ids(**window) == []
    assert api.own_ids(externalCourtBookingId=scenario.id()) == []
    assert api.get(scenario.id()).status_code == 404


@decision
def test_B20_read_of_deleted_booking_is_court_booking_not_found(api, scenario):
    api.upsert(scenario.id())
    api.delete(scenario.id(), scenario.version(1))
    response = api.get(scenario.id())
    assert response.status_code == 404 and kind(response) == "court_booking_not_found"


@decision
def test_B21_delete_leaves_a_tombstone(api, scenario):
    api.upsert(scenario.id(), externalUpdatedAt=scenario.version(1))
    api.delete(scenario.id(), scenario.version(5))
    for version in (scenario.version(1), scenario.version(5)):
        late = api.upsert(scenario.id(), externalUpdatedAt=version)
        assert late.status_code == 409 and kind(late) == "stale_write"
    again = api.upsert(scenario.id(), externalUpdatedAt=scenario.version(6))
    assert again.status_code == 200 and api.get(scenario.id()).status_code == 200


@decision
def test_B21_delete_of_never_existing_booking_leaves_a_tombstone(api, scenario):
    assert api.delete(scenario.id(), scenario.version(5)).status_code == 200
    late = api.upsert(scenario.id(), externalUpdatedAt=scenario.version(4))
    assert late.status_code == 409 and kind(late) == "stale_write"


@documented
@pytest.mark.parametrize("version", [None, "yesterday", "2031-13-01T00:00:00Z", "2031-01-01"])
def test_B22_delete_requires_a_valid_external_updated_at(api, scenario, version):
    api.upsert(scenario.id())
    response = api.delete(scenario.id(), version)
    assert response.status_code == 400 and kind(response) == "invalid_schema"
    assert api.get(scenario.id()).status_code == 200


@documented
def test_B23_list_is_sorted_by_updated_at_descending(api, scenario):
    for index, name in enumerate("abc"):
        api.upsert(scenario.id(name), startDate=scenario.at(index), endDate=scenario.at(index + 0.5))
    api.upsert(
        scenario.id("a"), startDate=scenario.at(0), endDate=scenario.at(0.75), externalUpdatedAt=scenario.version(2)
    )
    window = {"from": scenario.at(-1), "to": scenario.at(4)}
    assert api.own_ids(**window) == [scenario.id("a"), scenario.id("c"), scenario.id("b")]
    items = [b for b in api.list(**window).json()["items"] if b["externalCourtBookingId"].startswith(scenario.prefix)]
    updated = [instant(b["updatedAt"]) for b in items]
    assert updated == sorted(updated, reverse=True)


@documented
def test_B24_paging_defaults_and_total_count(api, scenario):
    for hour in range(7):
        api.upsert(scenario.id(f"{hour}"), startDate=scenario.at(hour), endDate=scenario.at(hour + 0.5))
    window = {"from": scenario.at(0), "to": scenario.at(7)}
    everything = api.list(**window).json()
    assert everything["totalCount"] == 7 and len(everything["items"]) == 7
    page = api.list(**window, offset=2, limit=3).json()
    assert page["totalCount"] == 7
    assert page["items"] == everything["items"][2:5]
    assert api.list(**window, offset=7).json() == {"items": [], "totalCount": 7}


@documented
@pytest.mark.parametrize("params", [{"offset": -1}, {"limit": 0}, {"limit": 101}, {"limit": "ten"}])
def test_B24_out_of_range_paging_is_invalid_schema(api, params):
    response = api.list(**params)
    assert response.status_code == 400 and kind(response) == "invalid_schema"


@documented
def test_B25_list_filters_match_exactly(api, scenario):
    one, two = api.target.granted_courts
    guest = scenario.guest("filter")
    api.upsert(scenario.id("f1"), participants=[scenario.guest("solo")])
    api.upsert(scenario.id("f2"), courtId=two, participants=[{"email": guest["email"].upper()}])
    api.upsert(scenario.id("f3"), startDate=scenario.at(2), endDate=scenario.at(3), participants=[guest])
    window = {"from": scenario.at(-1), "to": scenario.at(6)}
    assert sorted(api.own_ids(**window, courtId=one)) == [scenario.id("f1"), scenario.id("f3")]
    assert api.own_ids(externalCourtBookingId=scenario.id("f2")) == [scenario.id("f2")]
    assert sorted(api.own_ids(participantEmail=guest["email"])) == [scenario.id("f2"), scenario.id("f3")]
    user = api.target.users.get("related")
    if user:
        api.upsert(scenario.id("f4"), startDate=scenario.at(4), endDate=scenario.at(5), participants=[{"userId": user}])
        assert api.own_ids(participantUserId=user, **window) == [scenario.id("f4")]


@decision
def test_B25_email_filter_is_case_insensitive(api, scenario):
    api.upsert(scenario.id(), participants=[scenario.guest("case")])
    assert api.own_ids(participantEmail=scenario.guest("case")["email"].upper()) == [scenario.id()]


@decision
def test_B25_time_filters_keep_overlapping_bookings_and_bound_updated_at(api, scenario):
    api.upsert(scenario.id("early"), startDate=scenario.at(0), endDate=scenario.at(1))
    late = api.upsert(scenario.id("late"), startDate=scenario.at(2), endDate=scenario.at(3)).json()
    assert api.own_ids(**{"from": scenario.at(1), "to": scenario.at(2)}) == []  # touching is not overlapping
    assert sorted(api.own_ids(**{"from": scenario.at(0.5), "to": scenario.at(2.5)})) == [
        scenario.id("early"),
        scenario.id("late"),
    ]
    window = {"from": scenario.at(-1), "to": scenario.at(4)}
    assert api.own_ids(**window, updatedFrom=late["updatedAt"], updatedTo=late["updatedAt"]) == [scenario.id("late")]


@documented
def test_B26_reversed_time_filters_are_refused(api, scenario):
    response = api.list(**{"from": scenario.at(1), "to": scenario.at(0)})
    assert response.status_code == 400 and kind(response) == "invalid_filter_time_range"
    response = api.list(updatedFrom=scenario.at(1), updatedTo=scenario.at(0))
    assert response.status_code == 400 and kind(response) == "invalid_updated_filter_time_range"


@documented
def test_B26_equal_bounds_are_allowed(api, scenario):
    assert api.list(**{"from": scenario.at(1), "to": scenario.at(1)}).status_code == 200
    assert api.list(updatedFrom=scenario.at(1), updatedTo=scenario.at(1)).status_code == 200


@documented
def test_B27_another_service_never_sees_or_changes_a_booking(api, other, scenario):
    mine = api.upsert(scenario.id()).json()
    assert other.get(scenario.id()).status_code == 404
    assert scenario.id() not in other.own_ids(externalCourtBookingId=scenario.id())
    assert other.delete(scenario.id(), "2999-01-01T00:00:00Z").status_code == 200  # deletes only its own (none)
    assert api.get(scenario.id()).json() == mine


@documented
def test_B27_path_service_must_be_the_tokens(api, other, scenario):
    mine = api.upsert(scenario.id()).json()
    crossing = api.as_(other.token, api.service)  # their token, my service in the path
    for response in (
        crossing.get(scenario.id()),
        crossing.upsert(scenario.id()),
        crossing.delete(scenario.id(), "2999-01-01T00:00:00Z"),
        crossing.list(),
    ):
        assert response.status_code == 403 and kind(response) == "external_service_access_denied"
    assert api.get(scenario.id()).json() == mine


@decision
def test_B28_timestamps_are_returned_in_utc_with_z(api, scenario):
    local_start = scenario.day.replace(hour=2).strftime("%Y-%m-%dT%H:%M:%S+02:00")
    booking = api.upsert(scenario.id(), startDate=local_start, externalUpdatedAt="2030-01-01T05:31:00+05:30").json()
    assert booking["startDate"] == scenario.at(0)
    assert instant(booking["externalUpdatedAt"]) == instant(scenario.version(1))
    for field in ("startDate", "endDate", "externalUpdatedAt", "createdAt", "updatedAt"):
        assert booking[field].endswith("Z"), field
