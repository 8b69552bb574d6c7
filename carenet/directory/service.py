"""Directory use cases: counts, lookups and the carenet taxonomy. No Flask request objects."""

from __future__ import annotations

from sqlalchemy import func, select, text
from sqlalchemy.orm import selectinload

from carenet.directory.models import (
    Location,
    Organization,
    Service,
    ServiceAtLocation,
    Taxonomy,
    TaxonomyTerm,
    service_category,
)
from carenet.directory.taxonomy import (
    CATEGORIES,
    TAXONOMY_ID,
    TAXONOMY_NAME,
    TAXONOMY_URI,
    TAXONOMY_VERSION,
    Category,
)
from carenet.errors import NotFound
from carenet.extensions import db


def ensure_taxonomy() -> dict[str, TaxonomyTerm]:
    """Create or refresh carenet's category taxonomy; returns terms by slug."""
    taxonomy = db.session.get(Taxonomy, TAXONOMY_ID)
    if taxonomy is None:
        taxonomy = Taxonomy(id=TAXONOMY_ID)
        db.session.add(taxonomy)
    taxonomy.name, taxonomy.uri, taxonomy.version = TAXONOMY_NAME, TAXONOMY_URI, TAXONOMY_VERSION
    taxonomy.description = "Service categories of carenet, each mapped to an SDOH domain."
    terms: dict[str, TaxonomyTerm] = {}
    for category in CATEGORIES:
        term = db.session.get(TaxonomyTerm, category.term_id)
        if term is None:
            term = TaxonomyTerm(id=category.term_id, taxonomy_id=TAXONOMY_ID)
            db.session.add(term)
        term.code, term.name, term.description = category.slug, category.name, category.description
        term.sdoh_code, term.delivered = category.sdoh_code, category.delivered
        term.term_uri = f"{TAXONOMY_URI}#{category.slug}"
        terms[category.slug] = term
    db.session.flush()
    return terms


def directory_counts() -> dict[str, int]:
    """How many organizations, services and locations the directory holds."""
    return {
        "organizations": db.session.scalar(select(func.count()).select_from(Organization)) or 0,
        "services": db.session.scalar(select(func.count()).select_from(Service)) or 0,
        "locations": db.session.scalar(select(func.count()).select_from(Location)) or 0,
    }


def category_counts() -> list[tuple[Category, int]]:
    """Each carenet category with its number of services, in taxonomy order."""
    rows = (
        db.session.execute(
            select(TaxonomyTerm.code, func.count(service_category.c.service_id))
            .join(service_category, service_category.c.taxonomy_term_id == TaxonomyTerm.id)
            .group_by(TaxonomyTerm.code)
        )
        .tuples()
        .all()
    )
    counts = dict(rows)
    return [(category, counts.get(category.slug, 0)) for category in CATEGORIES]


def get_service(service_id: str) -> Service:
    """One service with everything its page shows, loaded in a few queries."""
    service = db.session.scalar(
        select(Service)
        .where(Service.id == service_id)
        .options(
            selectinload(Service.organization),
            selectinload(Service.categories),
            selectinload(Service.languages),
            selectinload(Service.phones),
            selectinload(Service.schedules),
            selectinload(Service.service_areas),
            selectinload(Service.service_at_locations)
            .selectinload(ServiceAtLocation.location)
            .selectinload(Location.addresses),
        )
    )
    if service is None:
        raise NotFound(f"No service with id {service_id}")
    return service


def database_ok() -> bool:
    """True when the database answers."""
    return db.session.execute(text("SELECT 1")).scalar() == 1
