"""Service areas named in words ("San Mateo County" with extent_type other, as a real county
directory gives them; "City of Miami"; "Statewide: FL") are imported as the ZIP codes of that
place, so "serves my address" finds them; a name that is no known place is kept and reported."""

from __future__ import annotations

import json

from carenet.directory.hsds import import_path
from carenet.directory.models import ServiceArea, ServiceAreaPostcode
from carenet.directory.search import SearchParams, search_services
from carenet.extensions import db
from carenet.geo.gazetteer import resolve_area

ORG = {"id": "00000000-0000-4000-8000-00000000c001", "name": "Peninsula Rides"}


def _service(number: int, state: str, postcode: str, areas: list[dict]) -> dict:
    city = {"CA": "Sacramento", "FL": "Tallahassee"}[state]
    return {
        "id": f"00000000-0000-4000-8000-{number:012d}",
        "name": f"Rides {number}",
        "organization": ORG,
        "attributes": [{"taxonomy_term": {"id": "carenet-categories:transportation"}}],
        "service_areas": areas,
        "service_at_locations": [{"location": {
            "id": f"00000000-0000-4000-8000-{number + 500:012d}", "name": "Depot",
            "addresses": [{"address_1": "1 Depot Rd", "city": city, "state_province": state,
                           "postal_code": postcode, "country": "US"}]}}],
    }  # fmt: skip


def _import(tmp_path, *services: dict):
    path = tmp_path / "services.json"
    path.write_text(json.dumps(list(services)))
    report = import_path(path)
    assert report.rejected == []
    return report


def _serving(near: str) -> set[str]:
    page = search_services(SearchParams(near=near, categories=("transportation",), radius_mi=1))
    return {r["service"]["name"] for r in page.contents if r.get("serves_patient_area")}


def test_a_county_named_in_words_serves_every_address_in_it(app_ctx, tmp_path):
    _import(
        tmp_path,
        _service(
            1,
            "CA",
            "95814",
            [{"name": "San Mateo County", "extent": "San Mateo County", "extent_type": "other"}],
        ),  # fmt: skip
        _service(2, "CA", "95814", [{"name": "San Mateo County", "extent_type": "other"}]),
    )
    codes = resolve_area("San Mateo County")
    areas = db.session.query(ServiceArea).order_by(ServiceArea.service_id).all()
    assert [(a.kind, a.name) for a in areas] == [("postcodes", "San Mateo County")] * 2
    stored = {p.postcode for p in db.session.query(ServiceAreaPostcode)}
    assert stored == set(codes)
    assert _serving("94401") == {"Rides 1", "Rides 2"}  # San Mateo, 80+ miles from the depot
    assert _serving("95814") == set()  # the depot's own ZIP is not in the area


def test_miami_names_use_the_state_of_the_services_address(app_ctx, tmp_path):
    _import(
        tmp_path,
        _service(3, "FL", "32301", [{"name": "City of Miami", "extent_type": "other"}]),
        _service(4, "FL", "32301", [{"name": "Miami-Dade", "extent_type": "other"}]),
        _service(5, "FL", "32301", [{"extent": "Statewide: FL", "extent_type": "other"}]),
        _service(6, "FL", "32301", [{"extent": "ZIP 33139, 33140", "extent_type": "other"}]),
    )
    assert _serving("33130") == {"Rides 3", "Rides 4", "Rides 5"}  # downtown Miami
    assert _serving("33139") == {"Rides 4", "Rides 5", "Rides 6"}  # Miami Beach: not the city
    assert _serving("32601") == {"Rides 5"}  # Gainesville: statewide only


def test_a_name_that_is_no_known_place_is_kept_and_reported(app_ctx, tmp_path, client):
    report = _import(
        tmp_path,
        _service(7, "CA", "95814", [{"id": "00000000-0000-4000-8000-00000000d001",
                                     "name": "The Peninsula", "extent_type": "other"}]),
    )  # fmt: skip
    assert any("00000000-0000-4000-8000-00000000d001" in str(w) for w in report.warnings)
    assert db.session.query(ServiceArea).count() == 0
    assert _serving("94401") == set()
