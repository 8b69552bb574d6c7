"""The HSDS 3.0 API (/api/hsds): every answer valid against the official schemas, true
paging, filters, confidential addresses hidden from anonymous callers, CORS, errors."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from functools import cache
from importlib import resources
from typing import Any
from urllib.parse import urlsplit

import pytest
from factories import (
    IndexedServiceFactory,
    LocationFactory,
    OrganizationFactory,
    PhoneFactory,
    ScheduleFactory,
    ServiceFactory,
    UserFactory,
)
from flask.testing import FlaskClient
from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource

from carenet.accounts import tokens
from carenet.accounts.models import User
from carenet.db.types import utcnow
from carenet.directory.hsds.conventions import term_uuid
from carenet.directory.models import Service
from carenet.directory.service import ensure_taxonomy
from carenet.extensions import db

SCHEMAS = resources.files("carenet.directory.hsds") / "schema"
OFFICIAL = "https://raw.githubusercontent.com/openreferral/specification/3.0/schema/"
FOOD = term_uuid("carenet-categories:food-pantry")  # carenet's terms: stable UUIDs (v5)
MIAMI_BOX = [(-80.3, 25.7), (-80.1, 25.7), (-80.1, 25.9), (-80.3, 25.9)]

FORMATS = FormatChecker(["date", "date-time", "email", "time"])


@FORMATS.checks("uuid")
def _uuid(value: object) -> bool:
    """A UUID (carenet's own vocabulary ids are exported as UUIDs v5, docs/hsds.md)."""
    if not isinstance(value, str):
        return True
    uuid.UUID(value)
    return True


@FORMATS.checks("uri", raises=ValueError)
def _uri(value: object) -> bool:
    if not isinstance(value, str):
        return True
    parts = urlsplit(value)
    if not (parts.scheme and (parts.netloc or parts.path)):
        raise ValueError(f"{value!r} is not an absolute URI")
    return True


def _local(uri: str) -> Resource[Any]:
    name = uri.removeprefix(OFFICIAL).removeprefix("compiled/")
    return Resource.from_contents(json.loads((SCHEMAS / name).read_text()))


REGISTRY: Registry[Any] = Registry(retrieve=_local)  # type: ignore[call-arg]


@cache
def validator(name: str) -> Draft202012Validator:
    """The official schema ``name`` (compiled, or taxonomy/taxonomy_term with their $refs
    resolved to the local copies), draft 2020-12, formats checked."""
    schema = json.loads((SCHEMAS / f"{name}.json").read_text())
    schema.setdefault("$id", f"{OFFICIAL}{name}.json")
    return Draft202012Validator(schema, registry=REGISTRY, format_checker=FORMATS)


def valid(name: str, obj: dict[str, Any]) -> None:
    errors = sorted(validator(name).iter_errors(obj), key=str)
    assert not errors, [f"{list(e.absolute_path)}: {e.message}" for e in errors[:5]]


def valid_page(name: str, page: dict[str, Any]) -> None:
    for key in ("total_items", "total_pages", "page_number", "size"):
        assert isinstance(page[key], int)
    for key in ("first_page", "last_page", "empty"):
        assert isinstance(page[key], bool)
    assert page["size"] == len(page["contents"])
    for item in page["contents"]:
        valid(name, item)


def get(client: FlaskClient, url: str, **headers: str) -> dict[str, Any]:
    response = client.get(url, headers=headers)
    assert response.status_code == 200, response.get_json()
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    return response.get_json()


@pytest.fixture
def directory(app_ctx: Any) -> dict[str, Any]:
    """Two organizations; four services (one confidential, one with a polygon area, one
    with a ZIP list, one modified long ago); a location shared by two services."""
    ensure_taxonomy()
    org = OrganizationFactory(name="Harbor Aid", website="https://harbor.example.org")
    other = OrganizationFactory(name="Other Org")
    shared = LocationFactory(organization=org, at=(25.77, -80.19))
    pantry = IndexedServiceFactory(
        name="Harbor Pantry",
        organization=org,
        categories=("food-pantry",),
        locations=[shared],
        areas=[{"kind": "polygon", "lonlats": MIAMI_BOX}],
    )
    PhoneFactory(service=pantry, location=shared, number="305-555-0111")
    ScheduleFactory(service=pantry, location=shared, byday="SA")
    shelter = IndexedServiceFactory(
        name="Safe Shelter",
        organization=org,
        categories=("housing",),
        confidential=True,
        locations=[(25.80, -80.20)],
    )
    rides = IndexedServiceFactory(
        name="Ride Line",
        organization=other,
        categories=("transportation",),
        locations=[shared],
        areas=[{"kind": "postcodes", "postcodes": ["33101"]}],
    )
    old = ServiceFactory(name="Old Service", organization=other, locations=[(26.5, -81.9)])
    db.session.flush()
    db.session.get(Service, old.id).updated_at = utcnow() - timedelta(days=400)
    db.session.commit()
    return {
        "org": org.id,
        "other": other.id,
        "shared": shared.id,
        "pantry": pantry.id,
        "shelter": shelter.id,
        "shelter_location": shelter.service_at_locations[0].location_id,
        "shelter_sal": shelter.service_at_locations[0].id,
        "rides": rides.id,
        "old": old.id,
    }


def test_every_endpoint_answers_valid_hsds(client: FlaskClient, directory: dict) -> None:
    about = get(client, "/api/hsds/")
    assert about["version"] == "3.0" and about["openapi_url"].endswith("/api/openapi.json")
    valid_page("service_list", get(client, "/api/hsds/services"))
    valid_page("service", get(client, "/api/hsds/services?full=true"))
    valid("service", get(client, f"/api/hsds/services/{directory['pantry']}"))
    valid_page("organization_list", get(client, "/api/hsds/organizations"))
    valid_page("organization", get(client, "/api/hsds/organizations?full=true&full_service=1"))
    org = get(client, f"/api/hsds/organizations/{directory['org']}")
    valid("organization", org)
    assert {s["id"] for s in org["services"]} == {directory["pantry"], directory["shelter"]}
    full = get(client, f"/api/hsds/organizations/{directory['org']}?full_service=true")
    valid("organization", full)
    assert all("service_at_locations" in s for s in full["services"])
    sals = get(client, "/api/hsds/service_at_locations")
    valid_page("service_at_location_list", sals)
    valid_page("service_at_location", get(client, "/api/hsds/service_at_locations?full=true"))
    one = get(client, f"/api/hsds/service_at_locations/{sals['contents'][0]['id']}")
    valid("service_at_location", one)
    valid_page("taxonomy", get(client, "/api/hsds/taxonomies"))
    valid("taxonomy", get(client, "/api/hsds/taxonomies/carenet-categories"))
    terms = get(client, "/api/hsds/taxonomy_terms?taxonomy_id=carenet-categories&per_page=100")
    valid_page("taxonomy_term", terms)
    assert FOOD in {t["id"] for t in terms["contents"]}
    valid("taxonomy_term", get(client, f"/api/hsds/taxonomy_terms/{FOOD}"))


def test_paging_reports_the_true_total(client: FlaskClient, directory: dict) -> None:
    first = get(client, "/api/hsds/services?per_page=3")
    assert (first["total_items"], first["total_pages"], first["size"]) == (4, 2, 3)
    assert first["first_page"] and not first["last_page"] and not first["empty"]
    second = get(client, "/api/hsds/services?per_page=3&page=2")
    assert (second["page_number"], second["size"], second["last_page"]) == (2, 1, True)
    ids = [s["id"] for s in first["contents"] + second["contents"]]
    assert ids == sorted(ids) and len(set(ids)) == 4
    past = get(client, "/api/hsds/services?per_page=3&page=9")
    assert past["total_items"] == 4 and past["empty"] and past["contents"] == []
    assert get(client, "/api/hsds/service_at_locations?per_page=1")["total_items"] == 4


def _ids(client: FlaskClient, url: str) -> set[str]:
    page = get(client, url)
    assert page["total_items"] == len(page["contents"])
    return {item.get("service_id", item["id"]) for item in page["contents"]}


def test_service_filters(client: FlaskClient, directory: dict) -> None:
    d = directory
    assert _ids(client, f"/api/hsds/services?taxonomy_term_id={FOOD}") == {d["pantry"]}
    in_taxonomy = _ids(client, "/api/hsds/services?taxonomy_id=carenet-categories")
    assert in_taxonomy == {d["pantry"], d["shelter"], d["rides"]}
    assert _ids(client, f"/api/hsds/services?organization_id={d['other']}") == {
        d["rides"],
        d["old"],
    }
    recent = _ids(client, "/api/hsds/services?modified_after=2000-01-01T00:00:00Z")
    assert len(recent) == 4
    since = (utcnow() - timedelta(days=30)).date().isoformat()
    assert d["old"] not in _ids(client, f"/api/hsds/services?modified_after={since}T00:00:00")
    assert _ids(client, "/api/hsds/services?search=pantry") == {d["pantry"]}
    minimal = get(client, "/api/hsds/services?minimal=true")["contents"][0]
    assert set(minimal) == {"id", "name", "status", "last_modified"}
    assert _ids(client, "/api/hsds/organizations?search=harbor") == {d["org"]}
    assert _ids(client, "/api/hsds/taxonomy_terms?search=pantry") == {FOOD}
    assert len(_ids(client, "/api/hsds/taxonomy_terms?top_only=true")) > 5
    assert _ids(client, f"/api/hsds/taxonomy_terms?parent_id={FOOD}") == set()


def test_service_at_location_filters(client: FlaskClient, directory: dict) -> None:
    d = directory
    url = "/api/hsds/service_at_locations"
    assert _ids(client, f"{url}?organization_id={d['other']}") == {d["rides"], d["old"]}
    assert _ids(client, f"{url}?taxonomy_term_id={FOOD}") == {d["pantry"]}
    # 33101: a ZIP-list area (rides) and a polygon holding the ZIP's centroid (pantry)
    assert _ids(client, f"{url}?postcode=33101") == {d["pantry"], d["rides"]}
    # 33130: the addresses the factories give every location
    assert d["old"] in _ids(client, f"{url}?postcode=33130")
    # within 5 km of 33130's centroid: the Miami locations, not the one near Fort Myers
    near = _ids(client, f"{url}?postcode=33130&proximity=5000")
    assert near == {d["pantry"], d["rides"], d["shelter"]}
    assert _ids(client, f"{url}?postcode=33130&proximity=1") == set()


def test_confidential_locations_are_redacted_for_anonymous(
    client: FlaskClient, directory: dict
) -> None:
    d = directory
    shelter = get(client, f"/api/hsds/services/{d['shelter']}")
    location = shelter["service_at_locations"][0]["location"]
    assert location["addresses"] == [] and "latitude" not in location
    pantry = get(client, f"/api/hsds/services/{d['pantry']}")
    assert pantry["service_at_locations"][0]["location"]["addresses"]
    org = get(client, f"/api/hsds/organizations/{d['org']}")
    hidden = {loc["id"]: loc for loc in org["locations"]}[d["shelter_location"]]
    assert hidden["addresses"] == [] and "longitude" not in hidden
    sal = get(client, f"/api/hsds/service_at_locations/{d['shelter_sal']}")
    assert sal["location"]["addresses"] == [] and "latitude" not in sal["location"]
    listed = get(client, f"/api/hsds/service_at_locations?organization_id={d['org']}")
    for item in listed["contents"]:
        assert ("latitude" in item["location"]) == (item["location_id"] != d["shelter_location"])
    body = json.dumps(get(client, "/api/hsds/services?full=true&per_page=100"))
    assert "25.8," not in body, body[body.find("25.8") - 300 : body.find("25.8") + 50]


def test_staff_see_confidential_addresses(client: FlaskClient, directory: dict) -> None:
    care = OrganizationFactory(kind="care")
    user_id = UserFactory(role="coordinator", organization=care).id
    db.session.commit()
    _, token = tokens.create_api_token(db.session.get(User, user_id), "hsds")
    db.session.commit()
    url = f"/api/hsds/services/{directory['shelter']}"
    seen = get(client, url, Authorization=f"Bearer {token}")["service_at_locations"][0]
    assert seen["location"]["addresses"]
    assert seen["location"]["latitude"] == pytest.approx(25.80)


@pytest.mark.parametrize(
    "path",
    [
        "services/nope",
        "organizations/nope",
        "service_at_locations/nope",
        "taxonomies/nope",
        "taxonomy_terms/nope",
    ],
)
def test_unknown_ids_are_404_problems(client: FlaskClient, directory: dict, path: str) -> None:
    response = client.get(f"/api/hsds/{path}")
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["status"] == 404
    assert response.headers["Access-Control-Allow-Origin"] == "*"


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("services?page=0", "page"),
        ("services?per_page=1000", "per_page"),
        ("services?page=x", "page"),
        ("services?full=maybe", "full"),
        ("services?modified_after=yesterday", "modified_after"),
        ("services?modified_after=3000-01-01T00:00:00", "modified_after"),
        ("services?format=ndjson", "format"),
        ("services?colour=blue", "colour"),
        ("services?postcode=33101", "postcode"),
        ("organizations?minimal=true", "minimal"),
        ("service_at_locations?proximity=100", "postcode"),
        ("service_at_locations?postcode=00000", "postcode"),
        ("service_at_locations?postcode=331", "postcode"),
        ("service_at_locations?postcode=33101&proximity=-5", "proximity"),
        ("service_at_locations?postcode=33101&proximity=nan", "proximity"),
        ("taxonomy_terms?top_only=perhaps", "top_only"),
        ("taxonomies?search=", "search"),
    ],
)
def test_bad_parameters_are_400_problems_naming_them(
    client: FlaskClient, query: str, field: str
) -> None:
    response = client.get(f"/api/hsds/{query}")
    assert response.status_code == 400, response.get_json()
    assert response.mimetype == "application/problem+json"
    assert field in response.get_json()["errors"]
    assert response.headers["Access-Control-Allow-Origin"] == "*"
