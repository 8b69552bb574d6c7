"""GET /api/v1/services/search and /api/v1/services/{id} over HTTP: shapes, errors, paging."""

from __future__ import annotations

import pytest
from factories import MIAMI, IndexedServiceFactory, weekly

from carenet.extensions import db
from search.places import point_at

URL = "/api/v1/services/search"


@pytest.fixture
def shelter(app_ctx):
    return IndexedServiceFactory(
        name="Safe house",
        locations=[point_at(MIAMI, 1)],
        categories=("safety",),
        confidential=True,
        phones=("305-555-0199",),
    )


def bearer_for(role: str, org_kind: str) -> dict[str, str]:
    from carenet.accounts import service as accounts
    from carenet.directory.models import Organization

    org = Organization(name=f"{role} org", kind=org_kind)
    db.session.add(org)
    db.session.flush()
    user = accounts.create_user(f"{role}@example.org", "a long test passphrase", role, org.id)
    _, token = accounts.create_api_token(user, "test")
    db.session.commit()
    return {"Authorization": f"Bearer {token}"}


def test_result_has_the_documented_fields(client, app_ctx):
    IndexedServiceFactory(
        name="Caregiver circle", locations=[point_at(MIAMI, 1)], schedules=(weekly(),)
    )
    body = client.get(URL, query_string={"near": "33130"}).get_json()
    assert set(body) >= {"total_items", "total_pages", "page_number", "size", "first_page",
                         "last_page", "empty", "contents"}  # fmt: skip
    result = body["contents"][0]
    assert set(result) >= {"service", "organization", "location", "distance_mi", "distance_km",
                           "serves_patient_area", "open_now", "next_open_at", "capacity_status",
                           "phones"}  # fmt: skip
    assert result["service"]["categories"] == ["support-groups"]
    assert result["organization"]["name"] == "Caregiver circle Inc."
    assert set(result["location"]) >= {"id", "name", "address", "latitude", "longitude"}
    assert result["phones"][0]["number"] == "305-555-0100"


def test_paging_envelope(client, app_ctx):
    for i in range(25):
        IndexedServiceFactory(name=f"Group {i:02d}", locations=[point_at(MIAMI, 0.1 + i * 0.1)])
    first = client.get(URL, query_string={"near": "33130", "per_page": 10}).get_json()
    assert (first["total_items"], first["total_pages"], first["page_number"]) == (25, 3, 1)
    assert (first["size"], first["first_page"], first["last_page"]) == (10, True, False)
    last = client.get(URL, query_string={"near": "33130", "per_page": 10, "page": 3}).get_json()
    assert (last["size"], last["last_page"], last["empty"]) == (5, True, False)
    names = [r["service"]["name"] for r in first["contents"] + last["contents"]]
    assert len(set(names)) == 15
    beyond = client.get(URL, query_string={"near": "33130", "per_page": 10, "page": 9}).get_json()
    assert (beyond["total_items"], beyond["empty"], beyond["contents"]) == (25, True, [])
    assert first["total_items_exact"] is True


def test_a_search_counts_and_pages_through_its_nearest_matches_only(client, app, app_ctx):
    """Past SEARCH_MAX_RESULTS the total is the cap, flagged inexact; the last page of the
    window is served, a page beyond it is a 400 naming ``page``; the HTML page says so."""
    app.config["SEARCH_MAX_RESULTS"] = 12
    for i in range(25):
        IndexedServiceFactory(name=f"Group {i:02d}", locations=[point_at(MIAMI, 0.1 + i * 0.1)])
    first = client.get(URL, query_string={"near": "33130", "per_page": 5}).get_json()
    assert (first["total_items"], first["total_items_exact"], first["total_pages"]) == (
        12,
        False,
        3,
    )
    third = client.get(URL, query_string={"near": "33130", "per_page": 5, "page": 3}).get_json()
    assert (third["size"], third["last_page"]) == (2, True)
    names = [r["service"]["name"] for r in third["contents"]]
    assert names == ["Group 10", "Group 11"]
    beyond = client.get(URL, query_string={"near": "33130", "per_page": 5, "page": 4})
    assert beyond.status_code == 400
    assert "page" in beyond.get_json()["errors"]
    html = client.get("/search", query_string={"near": "33130"}).get_data(as_text=True)
    assert "12+ services" in html


def test_repeatable_category_parameter(client, app_ctx):
    IndexedServiceFactory(
        name="Rides", locations=[point_at(MIAMI, 1)], categories=("transportation",)
    )
    IndexedServiceFactory(
        name="Meals", locations=[point_at(MIAMI, 2)], categories=("meal-delivery",)
    )
    IndexedServiceFactory(
        name="Group", locations=[point_at(MIAMI, 3)], categories=("support-groups",)
    )
    query = "near=33130&category=transportation&category=meal-delivery"
    body = client.get(f"{URL}?{query}").get_json()
    assert sorted(r["service"]["name"] for r in body["contents"]) == ["Meals", "Rides"]


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ({"lat": 91, "lon": 0}, "lat"),
        ({"lat": 10, "lon": -181}, "lon"),
        ({"lat": 10}, "lon"),
        ({"lat": "north", "lon": 1}, "lat"),
        ({"near": "33130", "radius_mi": 0}, "radius_mi"),
        ({"near": "33130", "radius_mi": 1000}, "radius_mi"),
        ({"near": "33130", "radius_mi": "nan"}, "radius_mi"),
        ({"near": "00000"}, "near"),
        ({"near": "somewhere without a zip"}, "near"),
        ({}, "near"),
        ({"near": "33130", "category": "teleportation"}, "category"),
        ({"near": "33130", "category": "DROP TABLE"}, "category"),
        ({"near": "33130", "per_page": 10000}, "per_page"),
        ({"near": "33130", "per_page": 0}, "per_page"),
        ({"near": "33130", "page": 0}, "page"),
        ({"near": "33130", "open_at": "next tuesday"}, "open_at"),
        ({"near": "33130", "open_at": "2026-13-45T99:00"}, "open_at"),
        ({"near": "33130", "open_now": "maybe"}, "open_now"),
        ({"near": "33130", "age": -1}, "age"),
        ({"near": "33130", "age": "old"}, "age"),
        ({"near": "33130", "language": "english"}, "language"),
        ({"near": "33130", "free": "perhaps"}, "free"),
        ({"near": "33130", "colour": "red"}, "colour"),
    ],
)
def test_bad_input_is_a_400_problem_naming_the_parameter(client, app_ctx, query, parameter):
    IndexedServiceFactory(name="Group", locations=[point_at(MIAMI, 1)])
    response = client.get(URL, query_string=query)
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["status"] == 400
    assert parameter in body["errors"], body


def test_stop_words_only_text_finds_nothing_without_error(client, app_ctx):
    IndexedServiceFactory(name="Group", locations=[point_at(MIAMI, 1)])
    response = client.get(URL, query_string={"near": "33130", "q": "the"})
    assert response.status_code == 200
    assert response.get_json()["contents"] == []


def test_confidential_address_is_redacted_for_anonymous_callers(client, shelter):
    body = client.get(URL, query_string={"near": "33130"}).get_json()
    result = body["contents"][0]
    assert result["location"]["redacted"] is True
    assert result["location"]["address"] is None
    assert result["location"]["latitude"] is None and result["location"]["longitude"] is None
    assert result["distance_mi"] is None
    assert result["phones"][0]["number"] == "305-555-0199"


def test_confidential_address_is_shown_to_a_coordinator(client, shelter):
    headers = bearer_for("coordinator", "care")
    body = client.get(URL, query_string={"near": "33130"}, headers=headers).get_json()
    location = body["contents"][0]["location"]
    assert location["redacted"] is False
    assert location["address"] == "1 Main St, Miami, FL 33130"
    assert location["latitude"] == pytest.approx(point_at(MIAMI, 1)[0])


def test_confidential_address_stays_hidden_from_a_program_lead(client, shelter):
    headers = bearer_for("program_lead", "network")
    body = client.get(URL, query_string={"near": "33130"}, headers=headers).get_json()
    assert body["contents"][0]["location"]["address"] is None


def test_one_service_with_organization_locations_schedules_areas(client, app_ctx):
    made = IndexedServiceFactory(
        name="Meals",
        locations=[point_at(MIAMI, 1)],
        categories=("meal-delivery",),
        schedules=(weekly("MO", "10:00", "12:00"),),
        areas=({"kind": "postcodes", "postcodes": ["33130", "33157"]},),
    )
    body = client.get(f"/api/v1/services/{made.id}").get_json()
    assert body["name"] == "Meals" and body["organization"]["name"] == "Meals Inc."
    assert body["locations"][0]["addresses"][0]["postal_code"] == "33130"
    assert body["schedules"][0]["byday"] == "MO" and body["schedules"][0]["opens_at"] == "10:00:00"
    assert body["service_areas"][0]["postcodes"] == ["33130", "33157"]
    assert body["categories"][0]["code"] == "meal-delivery"


def test_one_confidential_service_is_redacted_for_anonymous_callers(client, shelter):
    body = client.get(f"/api/v1/services/{shelter.id}").get_json()
    assert body["locations"][0]["redacted"] is True
    assert body["locations"][0]["addresses"] == [] and body["locations"][0]["latitude"] is None
    assert body["phones"][0]["number"] == "305-555-0199"


def test_unknown_service_is_a_404_problem(client, app_ctx):
    response = client.get("/api/v1/services/no-such-id")
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"


def test_results_are_in_the_result_schemas_shape(client, app_ctx, shelter):
    """The page's items skip a second marshmallow pass: they must already be exactly what
    SearchResultSchema would dump (keys, types, nesting), redacted or not."""
    from carenet.directory.search.schemas import SearchResultSchema

    IndexedServiceFactory(
        name="Caregiver circle",
        locations=[point_at(MIAMI, 1)],
        schedules=(weekly(),),
        areas=({"kind": "postcodes", "postcodes": ["33130"]},),
    )
    IndexedServiceFactory(
        name="Virtual group", locations=[], areas=({"kind": "postcodes", "postcodes": ["33130"]},)
    )
    body = client.get(URL, query_string={"near": "33130"}).get_json()
    assert len(body["contents"]) == 3
    schema = SearchResultSchema()
    for item in body["contents"]:
        assert schema.dump(item) == item
        assert set(item) == set(schema.fields)


def test_a_search_that_finds_nothing_is_logged_as_a_service_gap(client, app_ctx):
    """End to end, anonymous (on PostgreSQL the search reads in autocommit, then the
    de-identified gap row is written in its own transaction)."""
    IndexedServiceFactory(name="Caregiver circle", locations=[point_at(MIAMI, 1)])
    query = {"near": "33130", "category": "transportation", "radius_mi": 2}
    assert client.get(URL, query_string=query).get_json()["total_items"] == 0
    rows = db.session.execute(db.text("SELECT category, postcode, radius_mi FROM search_gap")).all()
    assert [tuple(r) for r in rows] == [("transportation", "33130", 2.0)]
    found = client.get(URL, query_string={"near": "33130"}).get_json()
    assert found["total_items"] == 1
    assert db.session.execute(db.text("SELECT count(*) FROM search_gap")).scalar() == 1
