"""Scenario tests of user relations: R1-R8 (request, repeats, conflicts, read, re-key, delete, list, answers).

The relations a test makes are its own: a request for `wingfield.users.requestable_email` (a user with no
relation to the service), or the relations of users the test created (U1); all are deleted afterwards. The
profile's other users are only read. The user's answer to a request (R8) comes through `wingfield.control`; the
tests that need it are skipped without one. No order of relations is asserted (P4).
"""

import pytest

from .conftest import optional
from .wingfield import every_page

documented, decision = pytest.mark.documented, pytest.mark.decision
UNKNOWN = "00000000-0000-4000-8000-000000000000"


def kind(response) -> str:
    return response.json()["error"]["type"]


@pytest.fixture
def requestable(api) -> str:
    """The e-mail of a user with no relation to the service (profile: users.requestable_email)."""
    return optional(api.target, "users", "requestable_email")


def request_new(api, email: str, external_user_id: str) -> dict:
    """Setup: a new PENDING relation of this test's own (deleted after the test)."""
    response = api.request_relation(email, external_user_id)
    assert response.status_code == 200, response.text
    return response.json()


def relation_of(api, user_id: str) -> dict:
    response = api.relation(user_id)
    assert response.status_code == 200, response.text
    return response.json()


def every_relation(api, **filters) -> list[dict]:
    return every_page(lambda **page: api.relations(**filters, **page), limit=100)[0]


@documented
def test_R1_request_makes_a_pending_relation_without_user(api, scenario, requestable):
    response = api.request_relation(requestable, scenario.id("asked"))
    assert response.status_code == 200, response.text
    relation = response.json()
    assert (relation["status"], relation["user"], relation["externalUserId"]) == ("PENDING", None, scenario.id("asked"))
    assert relation["email"].lower() == requestable.lower() and isinstance(relation["userId"], str)
    assert relation_of(api, relation["userId"]) == relation


@documented
def test_R1_unknown_email_is_user_not_found(api, scenario):
    response = api.request_relation(scenario.email("nobody"), scenario.id("nobody"))
    assert response.status_code == 404 and kind(response) == "user_not_found"
    assert api.relations(externalUserId=scenario.id("nobody")).json()["totalCount"] == 0


@documented
@pytest.mark.parametrize("missing", ["email", "externalUserId"])
def test_R1_email_and_external_user_id_are_required(api, scenario, requestable, missing):
    sent = {"email": requestable, "externalUserId": scenario.id("asked")}
    del sent[missing]
    response = api.call("POST", f"/external-services/{api.service}/user-relations/request", json=sent)
    assert response.status_code == 400 and kind(response) == "invalid_schema"
    assert api.relations(externalUserId=scenario.id("asked")).json()["totalCount"] == 0


@decision
def test_R2_repeat_with_the_same_external_user_id_returns_the_relation_unchanged(api, scenario, requestable):
    first = request_new(api, requestable, scenario.id("asked"))
    again = api.request_relation(requestable, scenario.id("asked"))
    assert again.status_code == 200 and again.json() == first
    if related := api.target.users.get("related"):  # an ACCEPTED relation stays ACCEPTED
        accepted = relation_of(api, related)
        again = api.request_relation(accepted["email"], accepted["externalUserId"], remove_after=False)
        assert again.status_code == 200 and again.json() == accepted
        assert relation_of(api, related) == accepted


@decision
def test_R2_repeat_with_another_external_user_id_is_external_user_id_mismatch(api, scenario, requestable):
    first = request_new(api, requestable, scenario.id("asked"))
    again = api.request_relation(requestable, scenario.id("other"))
    assert again.status_code == 409 and kind(again) == "external_user_id_mismatch"
    assert relation_of(api, first["userId"]) == first
    assert api.relations(externalUserId=scenario.id("other")).json()["totalCount"] == 0


@decision
def test_R2_a_rejected_relation_becomes_pending_again(api, scenario, requestable, control):
    first = request_new(api, requestable, scenario.id("asked"))
    control.answer_relation(api.service, first["userId"], "REJECTED")
    assert relation_of(api, first["userId"])["status"] == "REJECTED"
    again = api.request_relation(requestable, scenario.id("asked"))
    assert again.status_code == 200 and again.json()["status"] == "PENDING", again.text
    assert relation_of(api, first["userId"])["status"] == "PENDING"


@documented
def test_R3_request_with_the_external_user_id_of_another_user_is_409(api, scenario, requestable):
    other = api.new_user("other")
    response = api.request_relation(requestable, scenario.id("other"))
    assert response.status_code == 409 and kind(response) == "external_user_id_already_in_use"
    listed = api.relations(externalUserId=scenario.id("other")).json()
    assert [r["userId"] for r in listed["items"]] == [other["id"]]
    request_new(api, requestable, scenario.id("asked"))  # the refused request made no relation


@documented
def test_R3_patch_to_the_external_user_id_of_another_user_is_409(api, scenario):
    api.new_user("first")
    second = api.new_user("second")
    before = relation_of(api, second["id"])
    response = api.patch_relation(second["id"], {"externalUserId": scenario.id("first")})
    assert response.status_code == 409 and kind(response) == "external_user_id_already_in_use"
    assert relation_of(api, second["id"]) == before


@documented
def test_R4_a_pending_relation_has_no_user(api, scenario, requestable):
    mine = request_new(api, requestable, scenario.id("asked"))
    assert relation_of(api, mine["userId"])["user"] is None
    if pending := api.target.users.get("pending"):
        relation = relation_of(api, pending)
        assert (relation["status"], relation["user"]) == ("PENDING", None)


@decision
def test_R4_an_accepted_relation_shows_the_user_object(api):
    for user_id in filter(None, (api.target.users.get("related"), api.new_user("shown")["id"])):
        relation = relation_of(api, user_id)
        assert relation["status"] == "ACCEPTED" and relation["user"] == api.user(user_id).json()


@documented
def test_R4_no_relation_is_user_relation_not_found(api):
    for user_id in (optional(api.target, "users", "unrelated"), UNKNOWN):
        response = api.relation(user_id)
        assert response.status_code == 404 and kind(response) == "user_relation_not_found", user_id


@documented
def test_R5_patch_replaces_the_external_user_id(api, scenario):
    user = api.new_user("rekeyed")
    response = api.patch_relation(user["id"], {"externalUserId": scenario.id("renamed")})
    assert response.status_code == 200, response.text
    relation = response.json()
    assert (relation["userId"], relation["externalUserId"]) == (user["id"], scenario.id("renamed"))
    assert relation_of(api, user["id"]) == relation
    assert [r["userId"] for r in api.relations(externalUserId=scenario.id("renamed")).json()["items"]] == [user["id"]]
    assert api.relations(externalUserId=scenario.id("rekeyed")).json()["totalCount"] == 0


@documented
def test_R5_patch_without_relation_is_user_relation_not_found(api, scenario):
    for user_id in (optional(api.target, "users", "unrelated"), UNKNOWN):
        response = api.patch_relation(user_id, {"externalUserId": scenario.id("x")})
        assert response.status_code == 404 and kind(response) == "user_relation_not_found", user_id


@documented
@pytest.mark.parametrize("sent", [{}, {"externalUserId": None}], ids=["missing", "null"])
def test_R5_external_user_id_is_required(api, sent):
    user = api.new_user("required")
    before = relation_of(api, user["id"])
    response = api.patch_relation(user["id"], sent)
    assert response.status_code == 400 and kind(response) == "invalid_schema"
    assert relation_of(api, user["id"]) == before


@documented
def test_R6_delete_removes_the_relation_and_is_not_idempotent(api, scenario, requestable):
    mine = request_new(api, requestable, scenario.id("asked"))
    response = api.delete_relation(mine["userId"])
    assert response.status_code == 200 and response.json() == {}
    for response in (api.relation(mine["userId"]), api.delete_relation(mine["userId"])):
        assert response.status_code == 404 and kind(response) == "user_relation_not_found"


@documented
def test_R6_delete_without_relation_is_user_relation_not_found(api):
    for user_id in (optional(api.target, "users", "unrelated"), UNKNOWN):
        response = api.delete_relation(user_id)
        assert response.status_code == 404 and kind(response) == "user_relation_not_found", user_id


@decision
def test_R6_afterwards_a_user_the_service_created_is_not_visible(api):
    user = api.new_user("gone")
    assert api.delete_relation(user["id"]).status_code == 200
    for response in (api.user(user["id"]), api.patch_user(user["id"], {}), api.sessions(user["id"])):
        assert response.status_code == 403 and kind(response) == "user_access_denied", response.request.url.path
    listed, _ = every_page(lambda **page: api.users(**page), limit=100)
    assert user["id"] not in {u["id"] for u in listed}


@decision
def test_R6_a_user_the_service_created_takes_part_in_bookings_until_its_relation_is_deleted(api, scenario):
    """B16 with R6: a created user is a valid participant while the relation lasts."""
    user = api.new_user("player")
    assert api.upsert(scenario.id("before"), participants=[{"userId": user["id"]}]).status_code == 200
    assert api.delete_relation(user["id"]).status_code == 200
    response = api.upsert(scenario.id("after"), participants=[{"userId": user["id"]}])
    assert response.status_code == 403 and kind(response) == "user_access_denied"
    assert api.get(scenario.id("after")).status_code == 404


@documented
def test_R7_list_holds_the_services_relations_and_filters_exactly(api, scenario, requestable):
    pending = request_new(api, requestable, scenario.id("pending"))
    accepted = relation_of(api, api.new_user("accepted")["id"])
    found = api.relations(externalUserId=scenario.id("pending"))
    assert found.status_code == 200 and found.json() == {"items": [pending], "totalCount": 1}
    for near in (scenario.id("pendin"), scenario.id("pending") + "x", scenario.id("pending").upper()):
        assert api.relations(externalUserId=near).json() == {"items": [], "totalCount": 0}, near
    everything = every_relation(api)
    assert pending in everything and accepted in everything
    for status, mine, not_mine in (("PENDING", pending, accepted), ("ACCEPTED", accepted, pending)):
        listed = every_relation(api, status=status)
        assert {r["status"] for r in listed} == {status}
        assert mine in listed and not_mine not in listed


@documented
def test_R7_another_services_list_does_not_hold_the_relation(api, other, scenario):
    api.new_user("mine")
    assert other.relations(externalUserId=scenario.id("mine")).json() == {"items": [], "totalCount": 0}


@documented
def test_R7_list_is_paged_with_a_total_count(api):
    mine = api.new_user("paged")
    items, totals = every_page(lambda **page: api.relations(**page), limit=1)
    assert len(totals) == 1 and len(items) == totals.pop()
    ids = [relation["userId"] for relation in items]
    assert len(set(ids)) == len(ids) and mine["id"] in ids  # complete, and no relation twice


@decision
@pytest.mark.parametrize("params", [{"offset": -1}, {"limit": 0}, {"limit": 101}, {"status": "MAYBE"}])
def test_R7_out_of_range_paging_or_unknown_status_is_invalid_schema(api, params):
    response = api.relations(**params)
    assert response.status_code == 400 and kind(response) == "invalid_schema"


@decision
def test_R8_the_partner_api_cannot_answer_a_relation(api, scenario, requestable):
    """Only the user answers, inside Wingfield: a partner's patch carrying a status is refused or changes no status."""
    mine = request_new(api, requestable, scenario.id("asked"))
    response = api.patch_relation(mine["userId"], {"externalUserId": scenario.id("asked"), "status": "ACCEPTED"})
    assert response.status_code == 200 or (response.status_code == 400 and kind(response) == "invalid_schema")
    assert relation_of(api, mine["userId"]) == mine
    denied = api.user(mine["userId"])
    assert denied.status_code == 403 and kind(denied) == "user_access_denied"


@decision
def test_R8_an_accepted_answer_makes_the_user_visible(api, scenario, requestable, control):
    mine = request_new(api, requestable, scenario.id("asked"))
    control.answer_relation(api.service, mine["userId"], "ACCEPTED")
    user = api.user(mine["userId"])
    assert user.status_code == 200, user.text
    relation = relation_of(api, mine["userId"])
    assert (relation["status"], relation["user"]) == ("ACCEPTED", user.json())
    listed, _ = every_page(lambda **page: api.users(**page), limit=100)
    assert user.json() in listed
    assert api.upsert(scenario.id(), participants=[{"userId": mine["userId"]}]).status_code == 200


@decision
def test_R8_a_rejected_answer_leaves_the_user_invisible(api, scenario, requestable, control):
    mine = request_new(api, requestable, scenario.id("asked"))
    control.answer_relation(api.service, mine["userId"], "REJECTED")
    relation = relation_of(api, mine["userId"])
    assert (relation["status"], relation["user"]) == ("REJECTED", None)
    denied = api.user(mine["userId"])
    assert denied.status_code == 403 and kind(denied) == "user_access_denied"
