"""Scenario tests of users: U1-U5 (create, conflicts, read, patch, list), and the user area's scopes (A3).

Users cannot be deleted: each test creates its own, with e-mails and `externalUserId`s from its scenario's
prefix, and deletes their relations afterwards, so they leave the service's lists again. The profile's users
(`wingfield.users`) are only read, or patched with their own values. No order of users is asserted (P4).
"""

import uuid
from datetime import datetime

import pytest

from .conftest import optional
from .wingfield import every_page

documented, decision = pytest.mark.documented, pytest.mark.decision
UNKNOWN = "00000000-0000-4000-8000-000000000000"
PROFILE_FIELDS = ("firstName", "lastName", "birthday", "gender", "mainSportType", "playingHand")


def kind(response) -> str:
    return response.json()["error"]["type"]


def instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def body(scenario, name: str = "user", **fields) -> dict:
    return {
        "email": scenario.email(name),
        "externalUserId": scenario.id(name),
        "firstName": name.title(),
        "lastName": "Tester",
        **fields,
    }


def known(api, email: str) -> bool:
    """Whether a user has this e-mail, asked through requestUserRelation (R1: an unknown e-mail is 404
    `user_not_found`); a relation the question makes is deleted after the test."""
    response = api.request_relation(email, api.scenario.id(f"probe-{uuid.uuid4().hex[:8]}"))
    return not (response.status_code == 404 and kind(response) == "user_not_found")


def visible_ids(api) -> set[str]:
    items, _ = every_page(lambda **page: api.users(**page), limit=100)
    return {user["id"] for user in items}


@documented
def test_U1_create_returns_the_user_managed_by_and_related_to_the_service(api, scenario):
    sent = body(scenario, "new", birthday="1991-02-03")
    response = api.create_user(sent)
    assert response.status_code == 200, response.text
    user = response.json()
    assert isinstance(user["id"], str) and (user["firstName"], user["lastName"]) == ("New", "Tester")
    assert instant(user["birthday"]).date().isoformat() == "1991-02-03"
    relation = api.relation(user["id"])
    assert relation.status_code == 200, relation.text
    assert (relation.json()["status"], relation.json()["externalUserId"]) == ("ACCEPTED", sent["externalUserId"])
    assert api.user(user["id"]).json() == user
    patched = api.patch_user(user["id"], {"lastName": "Managed"})  # managed by the service (U4)
    assert patched.status_code == 200 and patched.json()["lastName"] == "Managed", patched.text


@documented
def test_U1_email_is_stored_lowercased(api, scenario):
    mixed = f"Mixed.Case.{scenario.prefix}@Example.COM"
    user = api.new_user("mixed", email=mixed)
    again = api.request_relation(mixed.lower(), scenario.id("mixed"), remove_after=False)
    assert not (again.status_code == 404 and kind(again) == "user_not_found"), "the lowercased e-mail is unknown"
    if again.status_code == 200:
        assert again.json()["userId"] == user["id"]


@decision
@pytest.mark.parametrize("missing", ["email", "externalUserId", "firstName", "lastName"])
def test_U1_required_fields_are_invalid_schema_when_missing(api, scenario, missing):
    sent = body(scenario)
    del sent[missing]
    response = api.create_user(sent)
    assert response.status_code == 400 and kind(response) == "invalid_schema"
    assert missing == "email" or not known(api, sent["email"])


@decision
@pytest.mark.parametrize(
    "field, value",
    [
        ("email", "not-an-e-mail"),
        ("externalUserId", ""),
        ("firstName", ""),
        ("lastName", ""),
        ("birthday", "12.04.1990"),
        ("birthday", "1990-04-12T00:00:00Z"),
        ("gender", "UNKNOWN"),
        ("mainSportType", "GOLF"),
        ("playingHand", "BOTH"),
    ],
)
def test_U1_invalid_fields_are_invalid_schema_and_create_nothing(api, scenario, field, value):
    sent = body(scenario, **{field: value})
    response = api.create_user(sent)
    assert response.status_code == 400 and kind(response) == "invalid_schema"
    assert field == "email" or not known(api, sent["email"])


@decision
def test_U1_optional_fields_take_each_documented_value(api, scenario):
    bare = api.new_user("bare")
    assert bare["firstName"] == "Bare" and not bare.get("birthday")
    values = [("MALE", "TENNIS", "LEFT"), ("FEMALE", "PADEL", "RIGHT"), ("OTHER", "PICKLEBALL", "RIGHT")]
    for number, (gender, sport, hand) in enumerate(values):
        user = api.new_user(f"full{number}", gender=gender, mainSportType=sport, playingHand=hand)
        assert (user["gender"], user["mainSportType"], user["playingHand"]) == (gender, sport, hand)


@documented
def test_U2_email_of_any_user_is_email_already_in_use_and_creates_nothing(api, scenario):
    api.new_user("taken")
    emails = [scenario.email("taken").upper()]
    if requestable := api.target.users.get("requestable_email"):  # a user with no relation to the service
        emails.append(requestable.upper())
    for email in emails:
        response = api.create_user(body(scenario, "second", email=email))
        assert response.status_code == 409 and kind(response) == "email_already_in_use", email
    assert api.relations(externalUserId=scenario.id("second")).json()["totalCount"] == 0


@documented
def test_U2_external_user_id_of_another_relation_is_409_and_creates_nothing(api, scenario):
    first = api.new_user("first")
    taken = [scenario.id("first")]
    if related := api.target.users.get("related"):
        taken.append(api.relation(related).json()["externalUserId"])
    for external_user_id in taken:
        response = api.create_user(body(scenario, "second", externalUserId=external_user_id))
        assert response.status_code == 409 and kind(response) == "external_user_id_already_in_use", external_user_id
    assert not known(api, scenario.email("second"))
    listed = api.relations(externalUserId=scenario.id("first")).json()
    assert [r["userId"] for r in listed["items"]] == [first["id"]]


@documented
def test_U3_a_visible_user_is_the_user_object(api):
    user_id = optional(api.target, "users", "related")
    response = api.user(user_id)
    assert response.status_code == 200, response.text
    user = response.json()
    assert user["id"] == user_id and isinstance(user["firstName"], str) and isinstance(user["lastName"], str)


@decision
def test_U3_birthday_is_the_date_at_midnight_utc(api):
    user = api.new_user("born", birthday="1990-04-12")
    assert api.user(user["id"]).json()["birthday"] in ("1990-04-12T00:00:00Z", "1990-04-12T00:00:00.000Z")


@documented
def test_U3_unknown_user_is_user_not_found(api):
    response = api.user(UNKNOWN)
    assert response.status_code == 404 and kind(response) == "user_not_found"


@documented
def test_U3_user_without_relation_is_user_access_denied(api):
    response = api.user(optional(api.target, "users", "unrelated"))
    assert response.status_code == 403 and kind(response) == "user_access_denied"


@decision
def test_U3_user_with_a_pending_relation_is_not_visible(api):
    response = api.user(optional(api.target, "users", "pending"))
    assert response.status_code == 403 and kind(response) == "user_access_denied"


@documented
def test_U4_a_managed_user_is_patched_and_returned(api):
    user = api.new_user("patched")
    response = api.patch_user(user["id"], {"firstName": "Pat"})
    assert response.status_code == 200, response.text
    assert response.json() == {**user, "firstName": "Pat"}
    assert api.user(user["id"]).json() == response.json()


@decision
def test_U4_each_profile_field_can_change_and_empty_changes_nothing(api):
    user = api.new_user("six", birthday="1990-01-01", gender="MALE", mainSportType="TENNIS", playingHand="LEFT")
    changes = {
        "firstName": "Sam",
        "lastName": "Changed",
        "birthday": "1985-06-07",
        "gender": "FEMALE",
        "mainSportType": "PADEL",
        "playingHand": "RIGHT",
    }
    for field, value in changes.items():
        response = api.patch_user(user["id"], {field: value})
        assert response.status_code == 200, response.text
        shown = response.json()[field]
        assert (instant(shown).date().isoformat() if field == "birthday" else shown) == value, field
    patched = api.user(user["id"]).json()
    empty = api.patch_user(user["id"], {})
    assert empty.status_code == 200 and empty.json() == patched
    assert api.user(user["id"]).json() == patched


@decision
@pytest.mark.parametrize(
    "change",
    [
        {"email": "someone.else@example.com"},
        {"nickname": "Pat"},
        {"birthday": "soon"},
        {"gender": "UNKNOWN"},
        {"playingHand": "BOTH"},
    ],
    ids=["email", "unknown field", "bad birthday", "bad gender", "bad hand"],
)
def test_U4_email_unknown_fields_and_bad_values_are_invalid_schema(api, change):
    user = api.new_user("strict")
    response = api.patch_user(user["id"], change)
    assert response.status_code == 400 and kind(response) == "invalid_schema"
    assert api.user(user["id"]).json() == user


@documented
def test_U4_a_visible_user_the_service_did_not_create_is_user_not_managed(api):
    user_id = optional(api.target, "users", "related")
    before = api.user(user_id).json()
    response = api.patch_user(user_id, {"firstName": before["firstName"]})  # its own value: harmless if accepted
    assert response.status_code == 403 and kind(response) == "user_not_managed"
    assert api.user(user_id).json() == before


@documented
def test_U4_a_user_without_relation_is_user_access_denied(api):
    response = api.patch_user(optional(api.target, "users", "unrelated"), {})
    assert response.status_code == 403 and kind(response) == "user_access_denied"


@decision
def test_U4_an_unknown_user_is_user_access_denied(api):
    response = api.patch_user(UNKNOWN, {})
    assert response.status_code == 403 and kind(response) == "user_access_denied"


@documented
def test_U5_list_holds_the_visible_users(api):
    mine = api.new_user("listed")
    items, _ = every_page(lambda **page: api.users(**page), limit=100)
    by_id = {user["id"]: user for user in items}
    assert by_id.get(mine["id"]) == mine
    for name in ("related", "managed"):
        if user_id := api.target.users.get(name):
            assert user_id in by_id, name
    if unrelated := api.target.users.get("unrelated"):
        assert unrelated not in by_id


@decision
def test_U5_list_leaves_out_users_with_a_pending_relation(api):
    assert optional(api.target, "users", "pending") not in visible_ids(api)


@documented
def test_U5_list_is_paged_with_a_total_count(api):
    mine = api.new_user("paged")
    items, totals = every_page(lambda **page: api.users(**page), limit=1)
    assert len(totals) == 1 and len(items) == totals.pop()
    ids = [user["id"] for user in items]
    assert len(set(ids)) == len(ids) and mine["id"] in ids  # complete, and no user twice


@decision
@pytest.mark.parametrize("params", [{"offset": -1}, {"limit": 0}, {"limit": 101}])
def test_U5_out_of_range_paging_is_invalid_schema(api, params):
    response = api.users(**params)
    assert response.status_code == 400 and kind(response) == "invalid_schema"


@decision
def test_A3_user_area_needs_user_scope(api, scenario):
    """`user:read` for GET, `user:write` for every other method, also where the docs' error list leaves
    `scope_permission_denied` out (requestUserRelation, patch and delete of a relation)."""
    read_only = api.as_(optional(api.target, "tokens", "read_only"))
    mine = api.new_user("scoped")
    reads = [read_only.user(mine["id"]), read_only.users(), read_only.relations(), read_only.relation(mine["id"])]
    if player := api.target.sessions.get("user"):
        reads.append(read_only.sessions(player))
    if session := api.target.sessions.get("visible"):
        reads += [read_only.session(session), read_only.videos(session)]
    for response in reads:
        assert response.status_code == 200, (response.request.method, response.request.url.path, response.text)
    writes = [
        read_only.create_user(body(scenario, "refused")),
        read_only.patch_user(mine["id"], {"firstName": "Refused"}),
        read_only.request_relation(scenario.email("nobody"), scenario.id("nobody")),
        read_only.patch_relation(mine["id"], {"externalUserId": scenario.id("refused")}),
        read_only.delete_relation(mine["id"]),
    ]
    for response in writes:
        assert response.status_code == 403 and kind(response) == "scope_permission_denied", (
            response.request.method,
            response.request.url.path,
        )
    assert api.user(mine["id"]).json() == mine
    assert api.relation(mine["id"]).json()["externalUserId"] == scenario.id("scoped")
    assert not known(api, scenario.email("refused"))
