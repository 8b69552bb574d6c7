"""carenet seed: real Open211 Miami services, idempotent, the four key categories in every area."""

from __future__ import annotations

from directory_helpers import table_counts
from sqlalchemy import select

from carenet.directory.models import (
    Address,
    Location,
    Service,
    ServiceArea,
    ServiceAreaPostcode,
    ServiceAtLocation,
    TaxonomyTerm,
    service_category,
)
from carenet.directory.seed import seed_directory
from carenet.extensions import db

AREAS = {
    "North Miami-Dade": {"33161", "33169", "33180", "33162"},
    "Central Miami": {"33136", "33130", "33125", "33142"},
    "South Miami-Dade": {"33176", "33157", "33143", "33186"},
    "Florida Keys": {"33040", "33050", "33070", "33037"},
}
DELIVERED = ("transportation", "meal-delivery", "in-home-help")


def _located_in(slug: str) -> set[str]:
    rows = db.session.execute(
        select(Address.postal_code)
        .join(Location, Address.location_id == Location.id)
        .join(ServiceAtLocation, ServiceAtLocation.location_id == Location.id)
        .join(service_category, service_category.c.service_id == ServiceAtLocation.service_id)
        .join(TaxonomyTerm, TaxonomyTerm.id == service_category.c.taxonomy_term_id)
        .where(TaxonomyTerm.code == slug)
    )
    return {r[0] for r in rows}


def _reached_by_zip(slug: str) -> set[str]:
    rows = db.session.execute(
        select(ServiceAreaPostcode.postcode)
        .join(ServiceArea, ServiceArea.id == ServiceAreaPostcode.service_area_id)
        .join(service_category, service_category.c.service_id == ServiceArea.service_id)
        .join(TaxonomyTerm, TaxonomyTerm.id == service_category.c.taxonomy_term_id)
        .where(TaxonomyTerm.code == slug)
    )
    return {r[0] for r in rows}


def test_seed_is_idempotent_realistic_and_covers_the_four_categories_in_every_area(app_ctx):
    first = seed_directory(echo=lambda line: None)
    assert first.rejected == []
    counts = table_counts()
    assert counts["service"] > 300 and counts["organization"] > 100
    second = seed_directory(echo=lambda line: None)
    assert second.counts["service_created"] == 0
    assert second.counts["service_updated"] == counts["service"]
    assert table_counts() == counts
    for area, zips in AREAS.items():
        assert _located_in("support-groups") & zips, f"{area}: no support group"
        for slug in DELIVERED:
            # delivered: a site in the area, or a county/ZIP-list area that reaches it
            located, reached = _located_in(slug), _reached_by_zip(slug)
            assert (located | reached) & zips, f"{area}: no {slug}"

    # realistic capacity, a few confidential services, every kind of delivered area
    statuses = set(db.session.scalars(select(Service.capacity_status)))
    assert {"capacity", "waitlist", "no-capacity"} <= statuses
    assert db.session.query(Service).filter(Service.confidential.is_(True)).count() >= 1
    kinds = set(db.session.scalars(select(ServiceArea.kind)))
    assert {"county", "postcodes", "radius"} <= kinds
    radius = db.session.scalars(select(ServiceArea).where(ServiceArea.kind == "radius")).first()
    assert radius.geom is not None and radius.radius_mi in (10.0, 15.0, 20.0)


def test_cli_seed_twice_prints_the_same_totals(runner):
    first = runner.invoke(args=["seed"])
    second = runner.invoke(args=["seed"])
    assert first.exit_code == 0 and second.exit_code == 0
    assert "rejected: 0" in first.stdout
    assert "services: 0 created" in second.stdout
