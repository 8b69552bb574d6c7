"""Taxonomies of any vocabulary: imported terms give carenet categories (the mapping file) and
are searchable through the HSDS API (``taxonomy_term_id``, ``taxonomy_id``), and the whole
vocabulary of a 2.x package is listed by ``/api/hsds/taxonomy_terms``. Both backends."""

from __future__ import annotations

import csv
import json
import uuid
from collections import defaultdict
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from flask.testing import FlaskClient
from flask_migrate import downgrade, upgrade
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from sqlalchemy import select
from test_hsds_api import FOOD, FORMATS, OFFICIAL, SCHEMAS, get

from carenet.directory.hsds import import_path
from carenet.directory.hsds.attribute_links import rebuild_all
from carenet.directory.hsds.conventions import derived_id
from carenet.directory.hsds.models import service_attribute_term
from carenet.directory.models import Service
from carenet.extensions import db

COUNTY = "5f0c3a3e-1f6b-4c39-9d43-0b6a0d6c1a01"  # a county's own vocabulary
OTHER = "5f0c3a3e-1f6b-4c39-9d43-0b6a0d6c1a02"  # another vocabulary
RIDES_TERM = "7a1e0c1e-0000-4000-8000-000000000001"  # county: "Rides to the clinic"
MEALS_TERM = "7a1e0c1e-0000-4000-8000-000000000002"  # county: "Hot meals"
OE_PANTRY = "7a1e0c1e-0000-4000-8000-000000000003"  # Open Eligibility: "Food Pantry"
LEGAL_TERM = "7a1e0c1e-0000-4000-8000-000000000004"  # other vocabulary: "Legal aid"
LONE_TERM = "7a1e0c1e-0000-4000-8000-000000000005"  # county, imported on its own


def _local(uri: str) -> Resource[Any]:
    """A referenced official schema (``taxonomy.json`` from ``taxonomy_detail``...): the
    copies carry no ``$schema``, so draft 2020-12 is said here."""
    name = uri.removeprefix(OFFICIAL).removeprefix("compiled/")
    contents = json.loads((SCHEMAS / name).read_text())
    return Resource.from_contents(contents, default_specification=DRAFT202012)


REGISTRY: Registry[Any] = Registry(retrieve=_local)  # type: ignore[call-arg]


def valid(name: str, obj: dict[str, Any]) -> None:
    """``obj`` against the official schema ``name`` (its $refs resolved), formats asserted."""
    schema = json.loads((SCHEMAS / f"{name}.json").read_text())
    schema.setdefault("$id", f"{OFFICIAL}{name}.json")
    validator = Draft202012Validator(schema, registry=REGISTRY, format_checker=FORMATS)
    errors = sorted(validator.iter_errors(obj), key=str)
    assert not errors, [f"{list(e.absolute_path)}: {e.message}" for e in errors[:5]]


def valid_page(name: str, page: dict[str, Any]) -> None:
    assert page["size"] == len(page["contents"]) and page["contents"]
    for item in page["contents"]:
        valid(name, item)


def _sid(n: int) -> str:
    return f"9b2d0000-0000-4000-8000-{n:012d}"


ORG = {"id": "9b2d0000-0000-4000-8000-00000000a000", "name": "County Aid", "description": ""}


def _term(term_id: str, name: str, taxonomy: str, taxonomy_name: str) -> dict[str, Any]:
    detail = {"id": taxonomy, "name": taxonomy_name, "description": ""}
    return {"id": term_id, "name": name, "description": "", "taxonomy_detail": detail}


def _attribute(service: str, term: dict[str, Any] | None, term_id: str = "") -> dict[str, Any]:
    term_id = term_id or (term or {})["id"]
    attribute: dict[str, Any] = {
        "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{service}/{term_id}")),
        "link_id": service,
        "link_type": "service",
        "taxonomy_term_id": term_id,
    }
    if term is not None:
        attribute["taxonomy_term"] = term
    return attribute


def _service(n: int, name: str, *attributes: dict[str, Any]) -> dict[str, Any]:
    service = {
        "id": _sid(n),
        "name": name,
        "status": "active",
        "organization": ORG,
        "attributes": list(attributes),
        "service_at_locations": [
            {
                "id": _sid(100 + n),
                "location": {
                    "id": _sid(200 + n),
                    "location_type": "physical",
                    "name": name,
                    "latitude": 25.77,
                    "longitude": -80.19,
                },
            }
        ],
    }
    return service


RIDES = _term(RIDES_TERM, "Rides to the clinic", COUNTY, "Our County Terms")
MEALS = _term(MEALS_TERM, "Hot meals", COUNTY, "Our County Terms")
PANTRY = _term(OE_PANTRY, "Food Pantry", "8c8c0000-0000-4000-8000-00000000e001", "Open Eligibility")
LEGAL = _term(LEGAL_TERM, "Legal aid", OTHER, "Another Vocabulary")
LONE = {
    "id": LONE_TERM,
    "name": "Home visits",
    "description": "",
    "taxonomy_id": COUNTY,
}


def _records() -> list[dict[str, Any]]:
    s1, s2, s3, s4, s5, s6 = (_sid(n) for n in range(1, 7))
    return [
        _service(1, "Clinic Rides", _attribute(s1, RIDES)),
        _service(2, "Meals and Rides", _attribute(s2, MEALS), _attribute(s2, RIDES)),
        _service(3, "Legal Clinic", _attribute(s3, LEGAL)),
        _service(4, "Pantry", _attribute(s4, PANTRY)),
        _service(5, "Nothing Tagged"),
        LONE,  # a term on its own; service 6's attribute names it by id only
        _service(6, "Home Visits", _attribute(s6, None, LONE_TERM)),
    ]


@pytest.fixture
def tagged(app_ctx: Any, tmp_path: Path) -> Path:
    path = tmp_path / "tagged.json"
    path.write_text(json.dumps(_records()))
    report = import_path(path)
    assert report.rejected == [], report.rejected
    return path


def _ids(client: FlaskClient, url: str) -> set[str]:
    page = get(client, url)
    assert page["total_items"] == len(page["contents"])
    return {item.get("service_id", item["id"]) for item in page["contents"]}


def test_a_foreign_term_id_finds_the_services_carrying_it(client: FlaskClient, tagged: Path):
    s = _sid
    assert _ids(client, f"/api/hsds/services?taxonomy_term_id={RIDES_TERM}") == {s(1), s(2)}
    assert _ids(client, f"/api/hsds/services?taxonomy_term_id={MEALS_TERM}") == {s(2)}
    assert _ids(client, f"/api/hsds/services?taxonomy_term_id={LEGAL_TERM}") == {s(3)}
    # named by id only: the term was imported on its own
    assert _ids(client, f"/api/hsds/services?taxonomy_term_id={LONE_TERM}") == {s(6)}
    assert _ids(client, f"/api/hsds/services?taxonomy_term_id={uuid.uuid4()}") == set()
    # an Open Eligibility term: by its own id, and by the carenet category it maps to
    assert _ids(client, f"/api/hsds/services?taxonomy_term_id={OE_PANTRY}") == {s(4)}
    assert _ids(client, f"/api/hsds/services?taxonomy_term_id={FOOD}") == {s(4)}
    sals = "/api/hsds/service_at_locations?taxonomy_term_id="
    assert _ids(client, sals + RIDES_TERM) == {s(1), s(2)}
    both = f"/api/hsds/services?taxonomy_term_id={RIDES_TERM}&search=meals"
    assert _ids(client, both) == {s(2)}


def test_a_foreign_taxonomy_id_finds_services_with_any_of_its_terms(client, tagged):
    s = _sid
    # RIDES/MEALS name the taxonomy; LONE_TERM only through its stored term row
    assert _ids(client, f"/api/hsds/services?taxonomy_id={COUNTY}") == {s(1), s(2), s(6)}
    assert _ids(client, f"/api/hsds/services?taxonomy_id={OTHER}") == {s(3)}
    sals = _ids(client, f"/api/hsds/service_at_locations?taxonomy_id={OTHER}")
    assert sals == {s(3)}
    assert _ids(client, "/api/hsds/services?taxonomy_id=carenet-categories") == {s(4)}


def test_pages_filtered_by_foreign_terms_validate(client: FlaskClient, tagged: Path) -> None:
    valid_page("service", get(client, f"/api/hsds/services?taxonomy_id={COUNTY}&full=true"))
    valid_page("service_list", get(client, f"/api/hsds/services?taxonomy_term_id={RIDES_TERM}"))
    url = f"/api/hsds/service_at_locations?taxonomy_term_id={RIDES_TERM}&full=true"
    valid_page("service_at_location", get(client, url))
    terms = get(client, f"/api/hsds/taxonomy_terms?taxonomy_id={COUNTY}")
    valid_page("taxonomy_term", terms)
    assert {t["id"] for t in terms["contents"]} == {RIDES_TERM, MEALS_TERM, LONE_TERM}
    taxonomies = get(client, "/api/hsds/taxonomies")
    valid_page("taxonomy", taxonomies)
    assert {COUNTY, OTHER} <= {t["id"] for t in taxonomies["contents"]}
    valid("taxonomy_term", get(client, f"/api/hsds/taxonomy_terms/{RIDES_TERM}"))


def test_a_reimport_replaces_the_terms_a_service_carries(client, tagged, tmp_path):
    again = _records()
    again[1]["attributes"] = [_attribute(_sid(2), LEGAL)]  # meals and rides -> legal aid
    path = tmp_path / "again.json"
    path.write_text(json.dumps(again))
    assert import_path(path).rejected == []
    assert _ids(client, f"/api/hsds/services?taxonomy_term_id={RIDES_TERM}") == {_sid(1)}
    assert _ids(client, f"/api/hsds/services?taxonomy_term_id={MEALS_TERM}") == set()
    assert _ids(client, f"/api/hsds/services?taxonomy_id={OTHER}") == {_sid(2), _sid(3)}
    db.session.delete(db.session.get(Service, _sid(1)))  # the links go with the service
    db.session.commit()
    assert _ids(client, f"/api/hsds/services?taxonomy_term_id={RIDES_TERM}") == set()


def test_attributes_whose_ids_cannot_be_links_never_reject_the_service(app_ctx, tmp_path):
    s = _sid(9)
    nasty = [
        {"id": "x" * 70, "link_id": s, "taxonomy_term_id": "t" * 70},  # longer than an id
        {"id": "a\u0000b", "link_id": s, "taxonomy_term_id": "a\u0000b"},  # NUL
        {"id": 5, "link_id": s, "taxonomy_term_id": 12345},
        {"id": "n", "link_id": s, "taxonomy_term": {"id": None, "taxonomy_detail": "no"}},
        "not an attribute",
        _attribute(s, RIDES),
    ]
    path = tmp_path / "nasty.json"
    path.write_text(json.dumps([_service(9, "Nasty Attributes", *nasty)]))  # type: ignore[arg-type]
    report = import_path(path)
    assert report.rejected == [] and db.session.get(Service, s) is not None
    assert {link[1] for link in _links() if link[0] == s} <= {RIDES_TERM, "12345"}
    assert (s, RIDES_TERM, COUNTY) in _links()


def _links() -> list[tuple[Any, ...]]:
    t = service_attribute_term
    rows = db.session.execute(select(t.c.service_id, t.c.taxonomy_term_id, t.c.taxonomy_id))
    return sorted(tuple(row) for row in rows)


def test_links_are_rebuilt_from_what_is_stored(tagged: Path) -> None:
    before = _links()
    assert (_sid(6), LONE_TERM, None) in before and (_sid(2), MEALS_TERM, COUNTY) in before
    assert len(before) == 6  # carenet's own terms are service_category rows, not links
    assert rebuild_all(batch=2) == 6
    db.session.commit()
    assert _links() == before


def test_relink_command_refills_the_links(runner: Any, tagged: Path) -> None:
    before = _links()
    db.session.execute(service_attribute_term.delete())
    db.session.commit()
    result = runner.invoke(args=["relink-hsds-terms"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("linked 6 service taxonomy terms in ")
    db.session.expire_all()
    assert _links() == before


def test_migration_0022_fills_the_links_of_services_imported_before_it(tagged: Path) -> None:
    before = _links()
    db.session.remove()
    db.engine.dispose()
    try:
        downgrade(revision="0021_import_speed")
        db.engine.dispose()
    finally:
        upgrade()
        db.engine.dispose()
    assert _links() == before


def test_an_imported_terms_parent_is_read_by_the_term_filters(client, app_ctx, data_dir):
    """The official taxonomy_term example names a parent (not imported): the term is listed
    under that parent and not among the top-level terms."""
    assert import_path(data_dir / "hsds3_examples" / "taxonomy_term.json").rejected == []
    term, parent = "3f7b145d-84af-42d7-8fae-eaca714b02b2", "0bc248fa-dc27-4650-9ba4-8f1a24ef16a2"
    children = get(client, f"/api/hsds/taxonomy_terms?parent_id={parent}")
    assert [t["id"] for t in children["contents"]] == [term]
    valid_page("taxonomy_term", children)
    top = {
        t["id"]
        for t in get(client, "/api/hsds/taxonomy_terms?top_only=true&per_page=100")["contents"]
    }
    assert term not in top and FOOD in top
    assert get(client, f"/api/hsds/taxonomy_terms?parent_id={term}")["total_items"] == 0


# --- the DC directory (HSDS 2.x) --------------------------------------------------------


def _dc_terms_of_services(data_dir: Path) -> dict[str, set[str]]:
    """Source term names of each DC service (carenet's id), read from the CSVs."""
    folder = data_dir / "dc_sample"
    with (folder / "taxonomy_terms.csv").open(encoding="utf-8-sig") as handle:
        names = {r["id"]: r["term"] for r in csv.DictReader(handle)}
    terms: dict[str, set[str]] = defaultdict(set)
    with (folder / "service_attributes.csv").open(encoding="utf-8-sig") as handle:
        for row in csv.DictReader(handle):
            service = derived_id("hsds1", "service", row["service_id"])
            terms[service].add(names[row["taxonomy_term_id"]])
    return terms


def _dc_term_id(data_dir: Path, name: str, vocabulary: str) -> str:
    with (data_dir / "dc_sample" / "taxonomy_terms.csv").open(encoding="utf-8-sig") as handle:
        for row in csv.DictReader(handle):
            if row["term"] == name and row["taxonomy"] == vocabulary:
                return derived_id("hsds1", "taxonomy_term", row["id"])
    raise AssertionError(name)


def test_dc_directory_services_get_carenet_categories(client, app_ctx, data_dir) -> None:
    import_path(data_dir / "dc_sample")
    services = db.session.scalars(select(Service)).all()
    categorised = {s.id: set(s.category_slugs) for s in services if s.category_slugs}
    print(f"\nDC directory: {len(categorised)} of {len(services)} services categorised")
    assert len(services) == 497 and len(categorised) >= 150
    terms = _dc_terms_of_services(data_dir)
    expected = {
        "Help Pay for Utilities": "utilities",
        "Housing": "housing",
        "Food": "food-pantry",
        "Money": "financial-help",
        "Survivors of Intimate Partner Violence": "safety",
    }
    for name, slug in expected.items():
        carrying = {s.id for s in services if name in terms.get(s.id, set())}
        assert carrying, name
        assert all(slug in categorised.get(i, set()) for i in carrying), name
    # searchable by the DC vocabulary's own term ids: exactly the services carrying them
    for name, vocabulary in (("Housing", "Service Category"), ("Veterans", "Service Eligibility")):
        carrying = {s.id for s in services if name in terms.get(s.id, set())}
        term_id = _dc_term_id(data_dir, name, vocabulary)
        found = _ids(client, f"/api/hsds/services?taxonomy_term_id={term_id}&per_page=100")
        assert found == carrying and found, name


def test_dc_directory_vocabularies_are_listed_whole(client, app_ctx, data_dir) -> None:
    import_path(data_dir / "dc_sample")
    category = derived_id("hsds1", "taxonomy", "Service Category")
    eligibility = derived_id("hsds1", "taxonomy", "Service Eligibility")
    page = get(client, f"/api/hsds/taxonomy_terms?taxonomy_id={category}&per_page=100")
    assert page["total_items"] == 235  # every Service Category row, carried by a service or not
    valid_page("taxonomy_term", page)
    page = get(client, f"/api/hsds/taxonomy_terms?taxonomy_id={eligibility}&per_page=100")
    assert page["total_items"] == 192
    names = {t["name"] for t in get(client, "/api/hsds/taxonomies?per_page=100")["contents"]}
    assert {"Service Category", "Service Eligibility"} <= names
    in_eligibility = get(client, f"/api/hsds/services?taxonomy_id={eligibility}&minimal=true")
    assert in_eligibility["total_items"] > 100


# --- fuzz: no 500 from any query --------------------------------------------------------

KEYS = [
    "taxonomy_term_id",
    "taxonomy_id",
    "parent_id",
    "organization_id",
    "search",
    "top_only",
    "full",
    "minimal",
    "page",
    "per_page",
    "postcode",
    "proximity",
    "modified_after",
    "format",
]
TEXT = st.text(st.characters(codec="utf-8"), max_size=80)
VALUES = st.one_of(
    TEXT,
    st.sampled_from(
        [RIDES_TERM, COUNTY, OTHER, LONE_TERM, FOOD, "carenet-categories", "x" * 300, "\x00"]
    ),
    st.sampled_from(["", "true", "0", "-1", "1e400", "nan", "33130", "9" * 30, "%00", "'"]),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
)
QUERIES = st.dictionaries(st.one_of(st.sampled_from(KEYS), TEXT), VALUES, max_size=4)
PATHS = ["services", "service_at_locations", "taxonomy_terms", "taxonomies", "organizations"]


def test_no_query_of_the_taxonomy_filters_makes_a_500(client: FlaskClient, tagged: Path) -> None:
    @settings(
        max_examples=150, deadline=None, suppress_health_check=list(HealthCheck), database=None
    )
    @given(st.sampled_from(PATHS), QUERIES)
    def query(path: str, params: dict[str, str]) -> None:
        response = client.get(f"/api/hsds/{path}?{urlencode(params)}")
        assert response.status_code < 500, (path, params, response.get_data(as_text=True))
        if response.status_code == 400:
            assert response.mimetype == "application/problem+json"
            assert response.get_json()["errors"], params
        else:
            assert response.status_code == 200, (path, params, response.status_code)

    query()
