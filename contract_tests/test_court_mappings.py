"""Scenario tests of court mappings: M1-M6 (upsert, conflicts, delete, read, visibility, list).

Writes go only to the profile's scratch courts (`wingfield.courts.scratch`; the rules about two courts need a
second one), and every mapping a test writes is deleted after it. No order is asserted (P4).
"""

import contextlib
from datetime import datetime

import pytest

from .conftest import optional
from .wingfield import ErrorContractViolation, every_page

documented, decision = pytest.mark.documented, pytest.mark.decision


def kind(response) -> str:
    return response.json()["error"]["type"]


def instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def unmap(api, court: str) -> None:
    """Setup, not a check: M3 is asserted by its own tests, so a refused delete here is not this test's failure."""
    with contextlib.suppress(ErrorContractViolation):
        api.delete_mapping(court)


@pytest.fixture
def court(api) -> str:
    """The scratch court, unmapped at the start of the test."""
    court = optional(api.target, "courts", "scratch")
    unmap(api, court)
    return court


@pytest.fixture
def second_court(api, court) -> str:
    if len(api.target.scratch_courts) < 2:
        pytest.skip("the target profile has no second court in wingfield.courts.scratch")
    second = api.target.scratch_courts[1]
    unmap(api, second)
    return second


def put(api, court: str, external_id: str, **fields) -> dict:
    response = api.put_mapping(court, {"externalCourtId": external_id, **fields})
    assert response.status_code == 200, response.text
    return response.json()


@documented
def test_M1_upsert_creates_the_mapping_and_returns_it(api, scenario, court):
    mapping = put(api, court, scenario.id("x"), externalCourtName="Centre Court")
    assert mapping["externalServiceId"] == api.service and mapping["courtId"] == court
    assert mapping["externalCourtId"] == scenario.id("x") and mapping["externalCourtName"] == "Centre Court"
    assert instant(mapping["createdAt"]) <= instant(mapping["updatedAt"])
    assert api.mapping(court).json() == mapping


@documented
def test_M1_upsert_replaces_the_mapping(api, scenario, court):
    put(api, court, scenario.id("x"), externalCourtName="Old")
    replaced = put(api, court, scenario.id("y"), externalCourtName="New")
    assert (replaced["externalCourtId"], replaced["externalCourtName"]) == (scenario.id("y"), "New")
    assert api.mapping(court).json() == replaced


@decision
@pytest.mark.parametrize(
    "body",
    [{}, {"externalCourtId": ""}, {"externalCourtName": "no id"}, {"externalCourtId": None}, {"externalCourtId": 7}],
    ids=["empty", "empty id", "no id", "null id", "number id"],
)
def test_M1_external_court_id_is_a_required_non_empty_string(api, scenario, court, body):
    before = put(api, court, scenario.id("x"))
    response = api.put_mapping(court, body)
    assert response.status_code == 400 and kind(response) == "invalid_schema"
    assert api.mapping(court).json() == before


@decision
@pytest.mark.parametrize("name", ["absent", "null"])
def test_M1_external_court_name_is_optional_and_nullable(api, scenario, court, name):
    body = {"externalCourtId": scenario.id("x")} | ({"externalCourtName": None} if name == "null" else {})
    response = api.put_mapping(court, body)
    assert response.status_code == 200, response.text
    assert response.json().get("externalCourtName") is None


@decision
def test_M1_replace_keeps_created_at_and_moves_updated_at(api, scenario, court):
    first = put(api, court, scenario.id("x"))
    second = put(api, court, scenario.id("y"))
    assert second["createdAt"] == first["createdAt"]
    assert instant(second["updatedAt"]) > instant(first["updatedAt"])


@decision
def test_M1_identical_put_changes_nothing(api, scenario, court):
    first = put(api, court, scenario.id("x"), externalCourtName="Same")
    assert put(api, court, scenario.id("x"), externalCourtName="Same") == first
    assert api.mapping(court).json() == first


def mapped_elsewhere(api, court: str) -> tuple[str, str] | None:
    """(court, externalCourtId) of a mapping of the service on another court, if the service has one."""
    items, _ = every_page(lambda **page: api.mappings(**page), limit=100)
    return next(((m["courtId"], m["externalCourtId"]) for m in items if m["courtId"] != court), None)


@documented
def test_M2_external_court_id_of_another_court_is_409_and_changes_nothing(api, scenario, court):
    if len(api.target.scratch_courts) >= 2:
        other_court = api.target.scratch_courts[1]
        taken = put(api, other_court, scenario.id("taken"))["externalCourtId"]
    elif found := mapped_elsewhere(api, court):
        other_court, taken = found
    else:
        pytest.skip("no other court is mapped: add a second court to wingfield.courts.scratch")
    before_other = api.mapping(other_court).json()
    before = put(api, court, scenario.id("mine"))
    response = api.put_mapping(court, {"externalCourtId": taken})
    assert response.status_code == 409 and kind(response) == "external_court_id_already_in_use"
    assert api.mapping(court).json() == before
    assert api.mapping(other_court).json() == before_other


@documented
def test_M2_resending_a_courts_own_id_is_no_conflict(api, scenario, court):
    put(api, court, scenario.id("x"), externalCourtName="First")
    again = put(api, court, scenario.id("x"), externalCourtName="Second")
    assert again["externalCourtName"] == "Second"


@decision
def test_M2_external_court_id_is_free_again_after_a_change_or_a_delete(api, scenario, court, second_court):
    put(api, court, scenario.id("x"))
    put(api, court, scenario.id("y"))  # x is free again ...
    assert put(api, second_court, scenario.id("x"))["courtId"] == second_court
    assert api.delete_mapping(second_court).status_code == 200  # ... and after this delete, once more
    assert put(api, court, scenario.id("x"))["externalCourtId"] == scenario.id("x")


@documented
def test_M3_delete_is_idempotent(api, scenario, court):
    put(api, court, scenario.id("x"))
    for _ in range(2):
        response = api.delete_mapping(court)
        assert response.status_code == 200 and response.json() == {}
    assert api.mapping(court).status_code == 404


@documented
def test_M3_delete_of_a_court_never_mapped_is_200(api, court):
    response = api.delete_mapping(court)
    assert response.status_code == 200 and response.json() == {}


@documented
def test_M4_unmapped_court_is_court_mapping_not_found(api, court):
    response = api.mapping(court)
    assert response.status_code == 404 and kind(response) == "court_mapping_not_found"


def seen_everywhere(api, court: str) -> dict[str, str | None]:
    """The externalCourtId of the court's mapping as each of the four reads shows it (None: no mapping)."""
    read = api.court(court).json()
    facility = every_page(lambda **page: api.facility_courts(read["facilityId"], **page), limit=100)[0]
    listed = [item for item in facility if item["id"] == court]
    mapping = api.mapping(court)
    mappings = [m for m in every_page(lambda **page: api.mappings(**page), limit=100)[0] if m["courtId"] == court]
    return {
        "getCourtById": (read.get("mapping") or {}).get("externalCourtId"),
        "listFacilityCourts": (listed[0].get("mapping") or {}).get("externalCourtId") if listed else "absent",
        "getCourtMapping": mapping.json()["externalCourtId"] if mapping.status_code == 200 else None,
        "listCourtMappings": mappings[0]["externalCourtId"] if len(mappings) == 1 else None,
    }


@documented
def test_M5_a_mapping_change_shows_at_once_everywhere(api, scenario, court):
    assert set(seen_everywhere(api, court).values()) == {None}
    for external_id in (scenario.id("x"), scenario.id("y")):
        put(api, court, external_id)
        seen = seen_everywhere(api, court)
        assert seen == dict.fromkeys(seen, external_id)
    assert api.delete_mapping(court).status_code == 200
    assert set(seen_everywhere(api, court).values()) == {None}


@documented
def test_M6_list_holds_the_services_mappings_and_filters_exactly(api, scenario, court):
    mapping = put(api, court, scenario.id("exact"))
    found = api.mappings(externalCourtId=scenario.id("exact"))
    assert found.status_code == 200 and found.json() == {"items": [mapping], "totalCount": 1}
    for near in (scenario.id("exac"), scenario.id("exact") + "t"):
        assert api.mappings(externalCourtId=near).json() == {"items": [], "totalCount": 0}, near
    items, _ = every_page(lambda **page: api.mappings(**page), limit=100)
    assert mapping in items and all(m["externalServiceId"] == api.service for m in items)


@documented
def test_M6_another_services_list_does_not_hold_the_mapping(api, other, scenario, court):
    put(api, court, scenario.id("mine"))
    assert other.mappings(externalCourtId=scenario.id("mine")).json() == {"items": [], "totalCount": 0}


@documented
def test_M6_list_is_paged_with_a_total_count(api, scenario, court):
    put(api, court, scenario.id("paged"))
    items, totals = every_page(lambda **page: api.mappings(**page), limit=1)
    assert len(totals) == 1 and len(items) == totals.pop()
    assert len({m["courtId"] for m in items}) == len(items)  # complete, and no court twice
    assert court in {m["courtId"] for m in items}


@decision
@pytest.mark.parametrize("params", [{"offset": -1}, {"limit": 0}, {"limit": 101}])
def test_M6_out_of_range_paging_is_invalid_schema(api, params):
    response = api.mappings(**params)
    assert response.status_code == 400 and kind(response) == "invalid_schema"
