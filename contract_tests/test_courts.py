"""Scenario tests of courts: C1-C3 (getCourtById, listFacilityCourts, access to courts).

Writes go only to the profile's scratch courts (`wingfield.courts.scratch`), whose mappings are deleted after
each test. No order of courts is asserted (P4).
"""

import pytest

from .conftest import optional
from .wingfield import every_page

documented, decision = pytest.mark.documented, pytest.mark.decision
UNKNOWN = "00000000-0000-4000-8000-000000000000"
COURT_FIELDS = {"id": str, "name": str, "facilityId": str, "facilityName": str, "systemInstalled": bool}


def kind(response) -> str:
    return response.json()["error"]["type"]


def read_court(api, court_id: str) -> dict:
    response = api.court(court_id)
    assert response.status_code == 200, response.text
    court = response.json()
    for field, expected in COURT_FIELDS.items():
        assert isinstance(court.get(field), expected), (field, court)
    assert court["id"] == court_id
    return court


def shown(mapping: dict | None) -> tuple | None:
    """A court's `mapping` as the court reads show it (no mapping: `null`, or left out)."""
    return None if not mapping else (mapping["externalCourtId"], mapping["externalCourtName"], mapping["updatedAt"])


@documented
def test_C1_court_shows_the_calling_services_mapping(api, scenario):
    court = optional(api.target, "courts", "scratch")
    external_id = scenario.id("court")
    mapping = api.put_mapping(court, {"externalCourtId": external_id, "externalCourtName": "Centre"})
    assert mapping.status_code == 200, mapping.text
    shows = read_court(api, court)["mapping"]
    assert shown(shows) == (external_id, "Centre", mapping.json()["updatedAt"])


@documented
def test_C1_court_shows_no_other_services_mapping(api, other, scenario):
    court = optional(api.target, "courts", "scratch")
    assert api.put_mapping(court, {"externalCourtId": scenario.id("mine")}).status_code == 200
    theirs = other.court(court)
    if theirs.status_code == 403:
        pytest.skip("the other service has no access to the scratch court")
    assert theirs.status_code == 200, theirs.text
    assert (theirs.json().get("mapping") or {}).get("externalCourtId") != scenario.id("mine")


@documented
def test_C1_court_mapping_agrees_with_get_court_mapping(api):
    """Read-only, on a granted court: whatever the service's mapping is, both reads show the same."""
    for court in api.target.granted_courts:
        shows = read_court(api, court).get("mapping")
        mapping = api.mapping(court)
        if mapping.status_code == 404:
            assert not shows, (court, shows)
        else:
            assert mapping.status_code == 200, mapping.text
            body = mapping.json()
            assert shown(shows) == (body["externalCourtId"], body["externalCourtName"], body["updatedAt"])


@decision
def test_C1_unmapped_court_has_null_mapping(api):
    court = optional(api.target, "courts", "scratch")
    assert api.delete_mapping(court).status_code == 200
    court_json = read_court(api, court)
    assert "mapping" in court_json and court_json["mapping"] is None


@documented
def test_C2_unknown_court_is_court_not_found(api, scenario):
    for response in (
        api.court(UNKNOWN),
        api.mapping(UNKNOWN),
        api.put_mapping(UNKNOWN, {"externalCourtId": scenario.id()}),
        api.delete_mapping(UNKNOWN),
    ):
        assert response.status_code == 404 and kind(response) == "court_not_found", response.request.method


@documented
def test_C2_court_of_unrelated_organization_is_denied(api, scenario):
    court = optional(api.target, "courts", "not_granted")
    for response in (
        api.court(court),
        api.mapping(court),
        api.put_mapping(court, {"externalCourtId": scenario.id()}),
        api.delete_mapping(court),
    ):
        assert response.status_code == 403 and kind(response) == "organization_access_denied", response.request.method


@documented
def test_C3_facility_courts_list_the_accessible_courts_with_mappings(api):
    court = read_court(api, api.target.granted_courts[0])
    response = api.facility_courts(court["facilityId"])
    assert response.status_code == 200, response.text
    page = response.json()
    by_id = {item["id"]: item for item in page["items"]}
    assert court["id"] in by_id and page["totalCount"] >= len(page["items"]) >= 1
    for item in page["items"]:
        assert item["facilityId"] == court["facilityId"]
        alone = read_court(api, item["id"])
        assert {k: item[k] for k in COURT_FIELDS} == {k: alone[k] for k in COURT_FIELDS}
        assert shown(item.get("mapping")) == shown(alone.get("mapping"))


@documented
def test_C3_facility_courts_are_paged_with_a_total_count(api):
    facility = read_court(api, api.target.granted_courts[0])["facilityId"]
    everything = api.facility_courts(facility).json()
    items, totals = every_page(lambda **page: api.facility_courts(facility, **page))
    assert totals == {everything["totalCount"]} and len(items) == everything["totalCount"]
    assert sorted(i["id"] for i in items) == sorted(i["id"] for i in everything["items"])  # complete, no repeats
    assert api.facility_courts(facility, offset=everything["totalCount"]).json()["items"] == []


@decision
@pytest.mark.parametrize("params", [{"offset": -1}, {"limit": 0}, {"limit": 101}])
def test_C3_out_of_range_paging_is_invalid_schema(api, params):
    facility = read_court(api, api.target.granted_courts[0])["facilityId"]
    response = api.facility_courts(facility, **params)
    assert response.status_code == 400 and kind(response) == "invalid_schema"


@documented
def test_C3_unknown_facility_is_facility_not_found(api):
    response = api.facility_courts(UNKNOWN)
    assert response.status_code == 404 and kind(response) == "facility_not_found"


@decision
def test_C3_facility_of_unrelated_organization_is_denied(api):
    facility = optional(api.target, "facilities", "not_granted")
    response = api.facility_courts(facility)
    assert response.status_code == 403 and kind(response) == "organization_access_denied"
