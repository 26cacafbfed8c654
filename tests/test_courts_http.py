"""HTTP tests of the court area: getCourtById, listFacilityCourts and the four court-mapping operations."""

import copy
from datetime import UTC, datetime

import pytest
import yaml

from mock_server.app import create_app
from mock_server.wingfield.models import CourtMapping

from .conftest import COURT, COURT_2, COURT_NOT_GRANTED, OTHER_SERVICE, SERVICE, TOKENS, check_error_contract

COURT_3 = "1a2b3c4d-5e6f-4a1b-8c2d-3e4f5a6b7c8d"  # Riverside, unmapped in the default world
COURT_4 = "2b3c4d5e-6f70-4a81-9b2c-3d4e5f6a7b8c"  # Riverside, unmapped too: the suite's second scratch court
FACILITY = "5f9c1d7e-2b4a-4c1e-9d3f-8a6b7c5d4e3f"  # Riverside Center
FACILITY_NOT_GRANTED = "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d"  # Hillside Park
UNKNOWN = "00000000-0000-4000-8000-000000000000"


def error_type(response) -> str:
    return response.json()["error"]["type"]


def issue_paths(response) -> list[list]:
    return [issue["path"] for issue in response.json()["error"]["issues"]]


def instant(text: str) -> datetime:
    assert text.endswith("Z"), text  # B28
    return datetime.fromisoformat(text)


def mapping_path(court: str, service: str) -> str:
    return f"/external-services/{service}/courts/{court}/mapping"


def mappings_path(service: str) -> str:
    return f"/external-services/{service}/court-mappings"


def put_mapping(api, court: str, body):
    return api.call("PUT", mapping_path(court, api.service), json=body)


def get_mapping(api, court: str):
    return api.call("GET", mapping_path(court, api.service))


def delete_mapping(api, court: str):
    return api.call("DELETE", mapping_path(court, api.service))


def list_mappings(api, **params):
    return api.call("GET", mappings_path(api.service), params=params)


def court(api, court_id: str):
    return api.call("GET", f"/courts/{court_id}")


def facility_courts(api, facility: str = FACILITY, **params):
    return api.call("GET", f"/facilities/{facility}/courts", params=params)


@pytest.fixture(scope="module")
def default_world_app():
    """One app per module: building it (spec parsing and validation) costs more than all of a test's requests."""
    app = create_app(validate_responses=True)
    return app, copy.deepcopy(vars(app.mock.store))


@pytest.fixture
def app(default_world_app):
    """Overrides conftest's `app`: the shared app, its store put back to the default world before each test."""
    app, pristine = default_world_app
    store = vars(app.mock.store)
    store.clear()
    store.update(copy.deepcopy(pristine))
    return app


@pytest.fixture
def other(api):
    return api.as_(TOKENS["other_service"], OTHER_SERVICE)


# -- getCourtById ----------------------------------------------------------------------------------


def test_get_court_returns_the_court_with_the_services_mapping(api):
    response = court(api, COURT)
    assert response.status_code == 200
    body = response.json()
    mapping = body.pop("mapping")
    assert body == {
        "id": COURT,
        "name": "Court 1",
        "facilityId": FACILITY,
        "facilityName": "Riverside Center",
        "systemInstalled": True,
    }
    stored = get_mapping(api, COURT).json()
    assert mapping == {
        "externalCourtId": "RIV-1",
        "externalCourtName": "Centre Court",
        "updatedAt": stored["updatedAt"],
    }
    instant(mapping["updatedAt"])


def test_get_court_has_null_mapping_when_unmapped(api):
    response = court(api, COURT_3)
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == COURT_3 and body["name"] == "Court 3" and body["systemInstalled"] is False
    assert "mapping" in body and body["mapping"] is None


@pytest.mark.parametrize(
    "court_id, status, kind",
    [
        (UNKNOWN, 404, "court_not_found"),
        (COURT_NOT_GRANTED, 403, "organization_access_denied"),
        ("not-a-uuid", 400, "invalid_schema"),
        ("79ae2927-a9bc-46ed-8f9e-079af32b761", 400, "invalid_schema"),  # one hex digit short
    ],
)
def test_get_court_errors(api, court_id, status, kind):
    response = court(api, court_id)
    assert response.status_code == status and error_type(response) == kind
    if kind == "invalid_schema":
        assert ["path", "courtId"] in issue_paths(response)


def test_get_court_shows_only_the_calling_services_mapping(api, other):
    theirs = court(other, COURT)
    assert theirs.status_code == 200 and theirs.json()["mapping"] is None  # the demo service's RIV-1 stays hidden
    assert court(other, COURT_NOT_GRANTED).json()["mapping"] is None  # related to Hillside, so 200 for them
    assert put_mapping(other, COURT, {"externalCourtId": "THEIRS-1", "externalCourtName": None}).status_code == 200
    assert court(other, COURT).json()["mapping"]["externalCourtId"] == "THEIRS-1"
    mine = court(api, COURT).json()["mapping"]
    assert mine["externalCourtId"] == "RIV-1" and mine["externalCourtName"] == "Centre Court"


# -- listFacilityCourts ----------------------------------------------------------------------------


def test_facility_courts_are_sorted_by_name_each_with_mapping_or_null(api):
    response = facility_courts(api)
    assert response.status_code == 200
    page = response.json()
    assert page["totalCount"] == 4
    assert [c["id"] for c in page["items"]] == [COURT, COURT_2, COURT_3, COURT_4]  # by name; by id: 2, 3, 4, 1
    assert [c["name"] for c in page["items"]] == ["Court 1", "Court 2", "Court 3", "Court 4"]
    mapped = [c["mapping"] and c["mapping"]["externalCourtId"] for c in page["items"]]
    assert mapped == ["RIV-1", "RIV-2", None, None]
    assert all(c["facilityId"] == FACILITY and c["facilityName"] == "Riverside Center" for c in page["items"])
    for item in page["items"]:
        assert court(api, item["id"]).json() == item


def test_facility_courts_mapping_follows_writes_and_service(api, other):
    put_mapping(api, COURT_3, {"externalCourtId": "RIV-3", "externalCourtName": "Clay"})
    delete_mapping(api, COURT)
    mappings = {c["id"]: c["mapping"] for c in facility_courts(api).json()["items"]}
    assert mappings[COURT] is None and mappings[COURT_3]["externalCourtId"] == "RIV-3"
    assert mappings[COURT_3]["externalCourtName"] == "Clay"
    assert all(c["mapping"] is None for c in facility_courts(other).json()["items"])


def test_facility_courts_paging_and_total_count(api):
    everything = facility_courts(api).json()["items"]
    page = facility_courts(api, offset=1, limit=1).json()
    assert page == {"items": everything[1:2], "totalCount": 4}
    assert facility_courts(api, offset=2, limit=100).json() == {"items": everything[2:], "totalCount": 4}
    assert facility_courts(api, limit=2).json() == {"items": everything[:2], "totalCount": 4}
    assert facility_courts(api, offset=4).json() == {"items": [], "totalCount": 4}
    assert facility_courts(api, offset=1000).json() == {"items": [], "totalCount": 4}


@pytest.mark.parametrize(
    "params, where",
    [
        ({"offset": -1}, "offset"),
        ({"limit": 0}, "limit"),
        ({"limit": 101}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"offset": "1.5"}, "offset"),
    ],
)
def test_facility_courts_out_of_range_paging_is_invalid_schema(api, params, where):
    response = facility_courts(api, **params)
    assert response.status_code == 400 and error_type(response) == "invalid_schema"
    assert ["query", where] in issue_paths(response)


@pytest.mark.parametrize(
    "facility, status, kind",
    [
        (UNKNOWN, 404, "facility_not_found"),
        (FACILITY_NOT_GRANTED, 403, "organization_access_denied"),
        ("not-a-uuid", 400, "invalid_schema"),
    ],
)
def test_facility_courts_errors(api, facility, status, kind):
    response = facility_courts(api, facility)
    assert response.status_code == status and error_type(response) == kind


def test_facility_courts_of_hillside_are_visible_to_a_related_service(other):
    page = facility_courts(other, FACILITY_NOT_GRANTED).json()
    assert page["totalCount"] == 1 and [c["id"] for c in page["items"]] == [COURT_NOT_GRANTED]
    assert page["items"][0]["facilityName"] == "Hillside Park" and page["items"][0]["mapping"] is None


def test_facility_courts_sort_by_name_then_id_whatever_the_stored_order(tmp_path):
    """A world whose courts are stored out of order, two of them with the same name."""
    org, facility, service = (
        "11111111-1111-4111-8111-111111111111",
        "22222222-2222-4222-8222-222222222222",
        "33333333-3333-4333-8333-333333333333",
    )
    ids = {key: f"{key * 8}-0000-4000-8000-000000000000" for key in "9abef"}
    courts = [  # stored neither by name nor by id; two courts share a name
        {"id": ids["f"], "facilityId": facility, "name": "Beta"},
        {"id": ids["a"], "facilityId": facility, "name": "Alpha"},
        {"id": ids["9"], "facilityId": facility, "name": "Alpha"},
        {"id": ids["e"], "facilityId": facility, "name": "Alpha 2"},
        {"id": ids["b"], "facilityId": facility, "name": "Aa"},
    ]
    world = {
        "organizations": [{"id": org, "name": "Org"}],
        "facilities": [{"id": facility, "organizationId": org, "name": "Hall"}],
        "courts": courts,
        "externalServices": [{"id": service, "name": "S"}],
        "apiTokens": [{"token": "tok_ext_v1_s.w", "externalServiceId": service, "scopes": {"court-booking": "read"}}],
        "organizationRelations": [
            {"id": UNKNOWN, "externalServiceId": service, "organizationId": org, "externalOrganizationId": "o"}
        ],
    }
    path = tmp_path / "world.yaml"
    path.write_text(yaml.safe_dump(world))
    with create_app(path, validate_responses=True).test_client() as client:
        client.event_hooks["response"] = [check_error_contract]
        response = client.get(
            f"/api/v1/facilities/{facility}/courts", headers={"Authorization": "Bearer tok_ext_v1_s.w"}
        )
        assert response.status_code == 200, response.text
        items = response.json()["items"]
    assert [(c["name"], c["id"]) for c in items] == [
        ("Aa", ids["b"]),
        ("Alpha", ids["9"]),  # same name: 9999... before aaaa...
        ("Alpha", ids["a"]),
        ("Alpha 2", ids["e"]),
        ("Beta", ids["f"]),
    ]


# -- listCourtMappings -----------------------------------------------------------------------------


def test_list_mappings_of_the_default_world(api):
    response = list_mappings(api)
    assert response.status_code == 200
    page = response.json()
    assert page["totalCount"] == 2
    for item in page["items"]:
        created, updated = instant(item.pop("createdAt")), instant(item.pop("updatedAt"))
        assert created <= updated
    assert page["items"] == [
        {
            "externalServiceId": SERVICE,
            "courtId": COURT,
            "externalCourtId": "RIV-1",
            "externalCourtName": "Centre Court",
        },
        {
            "externalServiceId": SERVICE,
            "courtId": COURT_2,
            "externalCourtId": "RIV-2",
            "externalCourtName": "Garden Court",
        },
    ]


def test_list_mappings_is_sorted_by_external_court_id(api):
    assert put_mapping(api, COURT_3, {"externalCourtId": "A-3"}).status_code == 200
    assert [(m["externalCourtId"], m["courtId"]) for m in list_mappings(api).json()["items"]] == [
        ("A-3", COURT_3),
        ("RIV-1", COURT),
        ("RIV-2", COURT_2),
    ]
    assert put_mapping(api, COURT, {"externalCourtId": "Z-1"}).status_code == 200  # a replace moves it
    assert put_mapping(api, COURT_3, {"externalCourtId": "RIV-10"}).status_code == 200
    assert [m["externalCourtId"] for m in list_mappings(api).json()["items"]] == ["RIV-10", "RIV-2", "Z-1"]


def test_list_mappings_filter_is_an_exact_match(api):
    page = list_mappings(api, externalCourtId="RIV-2").json()
    assert page["totalCount"] == 1 and [m["courtId"] for m in page["items"]] == [COURT_2]
    for near_miss in ("riv-2", "RIV", "RIV-", "RIV-2 ", "RIV-22", "Garden Court"):
        assert list_mappings(api, externalCourtId=near_miss).json() == {"items": [], "totalCount": 0}, near_miss
    put_mapping(api, COURT_3, {"externalCourtId": "RIV-22"})
    assert [m["courtId"] for m in list_mappings(api, externalCourtId="RIV-22").json()["items"]] == [COURT_3]
    assert list_mappings(api, externalCourtId="RIV-2").json()["totalCount"] == 1
    assert list_mappings(api, externalCourtId="RIV-2", offset=1).json() == {"items": [], "totalCount": 1}


def test_list_mappings_paging_and_total_count(api):
    put_mapping(api, COURT_3, {"externalCourtId": "RIV-3"})
    everything = list_mappings(api).json()["items"]
    assert [m["externalCourtId"] for m in everything] == ["RIV-1", "RIV-2", "RIV-3"]
    assert list_mappings(api, offset=1, limit=1).json() == {"items": everything[1:2], "totalCount": 3}
    assert list_mappings(api, limit=2).json() == {"items": everything[:2], "totalCount": 3}
    assert list_mappings(api, offset=2, limit=100).json() == {"items": everything[2:], "totalCount": 3}
    assert list_mappings(api, offset=3).json() == {"items": [], "totalCount": 3}


@pytest.mark.parametrize(
    "params, where",
    [
        ({"offset": -1}, "offset"),
        ({"limit": 0}, "limit"),
        ({"limit": 101}, "limit"),
        ({"limit": "x"}, "limit"),
        ({"externalCourtId": ""}, "externalCourtId"),
    ],
)
def test_list_mappings_invalid_query_is_invalid_schema(api, params, where):
    response = list_mappings(api, **params)
    assert response.status_code == 400 and error_type(response) == "invalid_schema"
    assert ["query", where] in issue_paths(response)


def test_list_mappings_belong_to_one_service(api, other):
    assert list_mappings(other).json() == {"items": [], "totalCount": 0}
    assert list_mappings(other, externalCourtId="RIV-1").json() == {"items": [], "totalCount": 0}
    put_mapping(other, COURT_NOT_GRANTED, {"externalCourtId": "RIV-1"})
    theirs = list_mappings(other).json()
    assert theirs["totalCount"] == 1 and theirs["items"][0]["externalServiceId"] == OTHER_SERVICE
    assert [m["courtId"] for m in list_mappings(api, externalCourtId="RIV-1").json()["items"]] == [COURT]


def test_list_mappings_hide_courts_the_service_cannot_see(api, app):
    """A mapping left on a court of an unrelated organization (e.g. after the relation ended) is not listed."""
    now = datetime.now(UTC)
    app.mock.store.put_mapping(CourtMapping(SERVICE, COURT_NOT_GRANTED, "HIDDEN", None, now, now))
    page = list_mappings(api).json()
    assert page["totalCount"] == 2 and [m["courtId"] for m in page["items"]] == [COURT, COURT_2]
    assert list_mappings(api, externalCourtId="HIDDEN").json() == {"items": [], "totalCount": 0}


# -- getCourtMapping -------------------------------------------------------------------------------


def test_get_mapping_returns_the_mapping(api):
    response = get_mapping(api, COURT_2)
    assert response.status_code == 200
    body = response.json()
    assert instant(body["createdAt"]) <= instant(body["updatedAt"])
    assert {k: v for k, v in body.items() if not k.endswith("At")} == {
        "externalServiceId": SERVICE,
        "courtId": COURT_2,
        "externalCourtId": "RIV-2",
        "externalCourtName": "Garden Court",
    }
    assert body in list_mappings(api).json()["items"]


@pytest.mark.parametrize(
    "court_id, status, kind",
    [
        (COURT_3, 404, "court_mapping_not_found"),
        (UNKNOWN, 404, "court_not_found"),
        (COURT_NOT_GRANTED, 403, "organization_access_denied"),
        ("not-a-uuid", 400, "invalid_schema"),
    ],
)
def test_get_mapping_errors(api, court_id, status, kind):
    response = get_mapping(api, court_id)
    assert response.status_code == status and error_type(response) == kind


def test_get_mapping_of_another_services_mapping_is_not_found(other):
    response = get_mapping(other, COURT)  # the demo service maps court 1, the other service does not
    assert response.status_code == 404 and error_type(response) == "court_mapping_not_found"


# -- upsertCourtMapping ----------------------------------------------------------------------------


def test_upsert_creates_a_mapping(api):
    response = put_mapping(api, COURT_3, {"externalCourtId": "RIV-3", "externalCourtName": "Clay Court"})
    assert response.status_code == 200
    created = response.json()
    assert {k: v for k, v in created.items() if not k.endswith("At")} == {
        "externalServiceId": SERVICE,
        "courtId": COURT_3,
        "externalCourtId": "RIV-3",
        "externalCourtName": "Clay Court",
    }
    assert instant(created["createdAt"]) == instant(created["updatedAt"])
    assert get_mapping(api, COURT_3).json() == created
    assert created in list_mappings(api).json()["items"]
    assert court(api, COURT_3).json()["mapping"] == {
        "externalCourtId": "RIV-3",
        "externalCourtName": "Clay Court",
        "updatedAt": created["updatedAt"],
    }


@pytest.mark.parametrize("body", [{"externalCourtId": "N-3", "externalCourtName": None}, {"externalCourtId": "N-3"}])
def test_upsert_external_court_name_may_be_null_or_absent(api, body):
    response = put_mapping(api, COURT_3, body)
    assert response.status_code == 200 and response.json()["externalCourtName"] is None
    assert get_mapping(api, COURT_3).json()["externalCourtName"] is None
    assert court(api, COURT_3).json()["mapping"]["externalCourtName"] is None


def test_upsert_replace_keeps_created_at_and_moves_updated_at_forward(api):
    first = put_mapping(api, COURT_3, {"externalCourtId": "RIV-3", "externalCourtName": "Clay"}).json()
    response = put_mapping(api, COURT_3, {"externalCourtId": "RIV-3b", "externalCourtName": "Red clay"})
    assert response.status_code == 200
    second = response.json()
    assert second["externalCourtId"] == "RIV-3b" and second["externalCourtName"] == "Red clay"
    assert second["createdAt"] == first["createdAt"]
    assert instant(second["updatedAt"]) > instant(first["updatedAt"])
    assert get_mapping(api, COURT_3).json() == second
    assert court(api, COURT_3).json()["mapping"]["updatedAt"] == second["updatedAt"]
    # The old externalCourtId is free again; the new one is taken.
    assert list_mappings(api, externalCourtId="RIV-3").json()["totalCount"] == 0
    assert put_mapping(api, COURT, {"externalCourtId": "RIV-3"}).status_code == 200
    assert error_type(put_mapping(api, COURT, {"externalCourtId": "RIV-3b"})) == "external_court_id_already_in_use"


def test_upsert_replace_of_the_name_only_is_a_change(api):
    first = get_mapping(api, COURT).json()
    second = put_mapping(api, COURT, {"externalCourtId": "RIV-1", "externalCourtName": None}).json()
    assert second["externalCourtName"] is None and second["createdAt"] == first["createdAt"]
    assert instant(second["updatedAt"]) > instant(first["updatedAt"])


def test_upsert_identical_repeat_changes_nothing(api):
    body = {"externalCourtId": "RIV-3", "externalCourtName": "Clay"}
    first = put_mapping(api, COURT_3, body).json()
    again = put_mapping(api, COURT_3, body)
    assert again.status_code == 200 and again.json() == first
    assert get_mapping(api, COURT_3).json() == first
    seeded = get_mapping(api, COURT).json()
    assert put_mapping(api, COURT, {"externalCourtId": "RIV-1", "externalCourtName": "Centre Court"}).json() == seeded


def test_upsert_replace_moves_updated_at_forward_even_if_the_clock_stands_still(api, app, monkeypatch):
    monkeypatch.setattr(app.mock.clock, "now", lambda: datetime(2031, 1, 1, 12, 0, tzinfo=UTC))  # frozen or coarse
    first = put_mapping(api, COURT_3, {"externalCourtId": "RIV-3"}).json()
    second = put_mapping(api, COURT_3, {"externalCourtId": "RIV-3", "externalCourtName": "Clay"}).json()
    assert second["createdAt"] == first["createdAt"]
    assert instant(second["updatedAt"]) > instant(first["updatedAt"])


def test_upsert_external_court_id_already_mapped_to_another_court_is_409(api):
    before = list_mappings(api).json()
    response = put_mapping(api, COURT_3, {"externalCourtId": "RIV-1", "externalCourtName": "Copy"})
    assert response.status_code == 409 and error_type(response) == "external_court_id_already_in_use"
    swap = put_mapping(api, COURT, {"externalCourtId": "RIV-2"})
    assert swap.status_code == 409 and error_type(swap) == "external_court_id_already_in_use"
    assert error_type(get_mapping(api, COURT_3)) == "court_mapping_not_found"
    assert list_mappings(api).json() == before
    assert court(api, COURT_3).json()["mapping"] is None


def test_upsert_another_service_may_use_the_same_external_court_id(api, other):
    mine = get_mapping(api, COURT).json()
    response = put_mapping(other, COURT_2, {"externalCourtId": "RIV-1", "externalCourtName": "Theirs"})
    assert response.status_code == 200 and response.json()["externalServiceId"] == OTHER_SERVICE
    assert put_mapping(other, COURT, {"externalCourtId": "RIV-2"}).status_code == 200
    assert put_mapping(other, COURT_NOT_GRANTED, {"externalCourtId": "RIV-3"}).status_code == 200
    assert get_mapping(api, COURT).json() == mine
    assert court(api, COURT_2).json()["mapping"]["externalCourtId"] == "RIV-2"
    assert court(other, COURT_2).json()["mapping"]["externalCourtId"] == "RIV-1"
    # Within the other service the rule still holds.
    clash = put_mapping(other, COURT_3, {"externalCourtId": "RIV-1"})
    assert clash.status_code == 409 and error_type(clash) == "external_court_id_already_in_use"


@pytest.mark.parametrize(
    "body, where",
    [
        ({}, ["body", "externalCourtId"]),
        ({"externalCourtName": "Clay"}, ["body", "externalCourtId"]),
        ({"externalCourtId": ""}, ["body", "externalCourtId"]),
        ({"externalCourtId": None}, ["body", "externalCourtId"]),
        ({"externalCourtId": 3}, ["body", "externalCourtId"]),
        ({"externalCourtId": "x" * 256}, ["body", "externalCourtId"]),
        ({"externalCourtId": "RIV-3", "externalCourtName": 7}, ["body", "externalCourtName"]),
        ({"externalCourtId": "RIV-3", "externalCourtName": "n" * 256}, ["body", "externalCourtName"]),
        ({"externalCourtId": "RIV-3", "surface": "clay"}, ["body"]),
        ([{"externalCourtId": "RIV-3"}], ["body"]),
        ("RIV-3", ["body"]),
        (None, ["body"]),
    ],
)
def test_upsert_body_validation_is_invalid_schema_with_issues(api, body, where):
    response = put_mapping(api, COURT_3, body)
    assert response.status_code == 400 and error_type(response) == "invalid_schema"
    assert where in issue_paths(response)
    assert all(issue["message"] for issue in response.json()["error"]["issues"])
    assert error_type(get_mapping(api, COURT_3)) == "court_mapping_not_found"


def test_upsert_reports_every_body_issue(api):
    response = put_mapping(api, COURT, {"externalCourtId": "", "externalCourtName": 1, "extra": True})
    assert response.status_code == 400 and error_type(response) == "invalid_schema"
    paths = issue_paths(response)
    assert ["body", "externalCourtId"] in paths and ["body", "externalCourtName"] in paths and ["body"] in paths
    assert get_mapping(api, COURT).json()["externalCourtId"] == "RIV-1"


def test_upsert_longest_values_are_accepted(api):
    body = {"externalCourtId": "i" * 255, "externalCourtName": "n" * 255}
    response = put_mapping(api, COURT_3, body)
    assert response.status_code == 200 and response.json()["externalCourtId"] == "i" * 255
    assert list_mappings(api, externalCourtId="i" * 255).json()["totalCount"] == 1


@pytest.mark.parametrize(
    "court_id, status, kind",
    [(UNKNOWN, 404, "court_not_found"), (COURT_NOT_GRANTED, 403, "organization_access_denied")],
)
def test_upsert_court_errors_create_nothing(api, court_id, status, kind):
    response = put_mapping(api, court_id, {"externalCourtId": "NEW"})
    assert response.status_code == status and error_type(response) == kind
    assert list_mappings(api, externalCourtId="NEW").json()["totalCount"] == 0
    assert put_mapping(api, COURT_3, {"externalCourtId": "NEW"}).status_code == 200  # the id was not taken


def test_upsert_on_unknown_court_is_404_before_the_external_id_clash(api):
    response = put_mapping(api, UNKNOWN, {"externalCourtId": "RIV-1"})
    assert response.status_code == 404 and error_type(response) == "court_not_found"


# -- deleteCourtMapping ----------------------------------------------------------------------------


def test_delete_removes_the_mapping_and_is_idempotent(api):
    for _ in range(2):
        response = delete_mapping(api, COURT)
        assert response.status_code == 200 and response.json() == {}
    missing = get_mapping(api, COURT)
    assert missing.status_code == 404 and error_type(missing) == "court_mapping_not_found"
    assert court(api, COURT).json()["mapping"] is None
    page = list_mappings(api).json()
    assert page["totalCount"] == 1 and [m["courtId"] for m in page["items"]] == [COURT_2]
    assert list_mappings(api, externalCourtId="RIV-1").json() == {"items": [], "totalCount": 0}
    # Its externalCourtId is free for another court now.
    assert put_mapping(api, COURT_3, {"externalCourtId": "RIV-1"}).status_code == 200


def test_delete_of_a_never_mapped_court_is_200(api):
    response = delete_mapping(api, COURT_3)
    assert response.status_code == 200 and response.json() == {}
    assert list_mappings(api).json()["totalCount"] == 2


def test_delete_then_upsert_creates_afresh(api):
    seeded = get_mapping(api, COURT).json()
    delete_mapping(api, COURT)
    again = put_mapping(api, COURT, {"externalCourtId": "RIV-1", "externalCourtName": "Centre Court"}).json()
    assert instant(again["createdAt"]) > instant(seeded["createdAt"])
    assert again["createdAt"] == again["updatedAt"]


def test_delete_touches_only_the_calling_services_mapping(api, other):
    theirs = put_mapping(other, COURT, {"externalCourtId": "THEIRS-1"}).json()
    assert delete_mapping(api, COURT).status_code == 200
    assert get_mapping(other, COURT).json() == theirs
    assert court(other, COURT).json()["mapping"]["externalCourtId"] == "THEIRS-1"
    assert delete_mapping(other, COURT_2).status_code == 200  # they have no mapping of court 2
    assert get_mapping(api, COURT_2).json()["externalCourtId"] == "RIV-2"


@pytest.mark.parametrize(
    "court_id, status, kind",
    [
        (UNKNOWN, 404, "court_not_found"),
        (COURT_NOT_GRANTED, 403, "organization_access_denied"),
        ("not-a-uuid", 400, "invalid_schema"),
    ],
)
def test_delete_errors(api, court_id, status, kind):
    response = delete_mapping(api, court_id)
    assert response.status_code == status and error_type(response) == kind
    assert list_mappings(api).json()["totalCount"] == 2


# -- B27: a path service that is not the token's ---------------------------------------------------

MAPPING_OPERATIONS = [
    ("GET", "list", None),
    ("GET", "one", None),
    ("PUT", "one", {"externalCourtId": "RIV-9"}),
    ("PUT", "one", {"externalCourtId": ""}),  # B27 comes before the body check (A4)
    ("DELETE", "one", None),
]


@pytest.mark.parametrize("method, target, body", MAPPING_OPERATIONS)
@pytest.mark.parametrize("court_id", [COURT, UNKNOWN, COURT_NOT_GRANTED])
def test_B27_path_service_must_be_the_tokens(api, other, method, target, body, court_id):
    theirs = put_mapping(other, court_id, {"externalCourtId": "THEIRS"}) if court_id != UNKNOWN else None
    mine_before, theirs_before = list_mappings(api).json(), list_mappings(other).json()
    for caller, path_service in ((api, OTHER_SERVICE), (other, SERVICE)):
        path = mappings_path(path_service) if target == "list" else mapping_path(court_id, path_service)
        response = caller.call(method, path, json=body)
        assert response.status_code == 403 and error_type(response) == "external_service_access_denied"
        assert "THEIRS" not in response.text and "RIV-" not in response.text
    assert list_mappings(api).json() == mine_before and list_mappings(other).json() == theirs_before
    if theirs is not None:
        assert theirs.status_code == 200


def test_B27_malformed_path_service_is_denied(api):
    for method, path in (("GET", mappings_path("not-a-uuid")), ("DELETE", mapping_path(COURT, "not-a-uuid"))):
        response = api.call(method, path)
        assert response.status_code == 403 and error_type(response) == "external_service_access_denied"
