"""The reads behind the HSDS 3.0 API (``/api/hsds``): pages of services, organizations,
service_at_locations, taxonomies and taxonomy terms, and one of each by id.

Every list is two statements on ids — ``COUNT(*)`` of what matches (the true total) and
one page of ids in id order (``LIMIT``/``OFFSET``) — then the page's objects are loaded
with ``selectinload`` (one query per relation for the whole page, never per row) and
built by ``exporter``'s builders, the same ones ``export-hsds`` writes with.

Filters use indexes the migrations create: ``service.organization_id``,
``service_category.taxonomy_term_id``, ``service_attribute_term`` by term id and by
taxonomy id (the terms of any vocabulary a service's attributes carry, 0022),
``taxonomy_term (taxonomy_id, code)``, the search index's full text (``search``: only
active services are in it), ``service_area_postcode.postcode``, ``address.postal_code``
and the spatial indexes of ``location.geom`` and ``service_area.geom``. ``modified_after``
(``updated_at``) and the ``search`` of organizations, taxonomies and terms (``LIKE`` on the
name) have no index and scan.

Locations where a confidential service is offered lose their addresses and coordinates
(and a radius area its centre) for viewers ``can_see_confidential`` refuses — wherever they
appear: in a service, a service_at_location or an organization's locations.
"""

# ruff: noqa: S608  (the SQL text below is this module's own; every value is bound)

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, String, column, func, or_, select, text, union
from sqlalchemy.orm import selectinload

from carenet.db.types import as_utc
from carenet.directory.hsds.conventions import carenet_term_id
from carenet.directory.hsds.exporter import (
    location_core_json,
    location_options,
    organization_core_json,
    organization_json,
    service_at_location_json,
    service_core_json,
    service_json,
    service_options,
    taxonomy_json,
    taxonomy_term_json,
)
from carenet.directory.hsds.models import service_attribute_term
from carenet.directory.models import (
    Address,
    Organization,
    Service,
    ServiceArea,
    ServiceAreaPostcode,
    ServiceAtLocation,
    Taxonomy,
    TaxonomyTerm,
    service_category,
)
from carenet.directory.search.fragments import bbox_params, flat_earth_params, for_dialect
from carenet.directory.search.fragments import within_sqlite as _within_sqlite
from carenet.errors import InvalidInput, NotFound
from carenet.extensions import db
from carenet.geo import zip_centroid

HSDS_VERSION = "3.0"


@dataclass(frozen=True)
class Viewer:
    """What the caller may see: addresses of confidential services or not."""

    show_confidential: bool


def envelope(total: int, page: int, per_page: int, contents: list[Any]) -> dict[str, Any]:
    """The HSDS 3.0 paging envelope around one page; ``total`` counts every match."""
    total_pages = math.ceil(total / per_page) if total else 0
    return {
        "total_items": total,
        "total_pages": total_pages,
        "page_number": page,
        "size": len(contents),
        "first_page": page == 1,
        "last_page": page >= total_pages,
        "empty": not contents,
        "contents": contents,
    }


def _page_of_ids(ids: Select[Any], key: Any, args: dict[str, Any]) -> tuple[int, list[str]]:
    """(how many rows ``ids`` selects, the ids of the asked page in ``key`` order)."""
    total = db.session.scalar(select(func.count()).select_from(ids.subquery())) or 0
    offset = (args["page"] - 1) * args["per_page"]
    if offset >= total:
        return total, []
    page = ids.order_by(key).limit(args["per_page"]).offset(offset)
    return total, [str(i) for i in db.session.scalars(page)]


def _load(model: Any, ids: Sequence[str], options: Iterable[Any] = ()) -> list[Any]:
    """The rows of ``model`` with ``ids``, in that order, loaded with ``options``."""
    if not ids:
        return []
    rows = db.session.scalars(select(model).where(model.id.in_(ids)).options(*options)).all()
    by_id = {row.id: row for row in rows}
    return [by_id[i] for i in ids if i in by_id]


def _redacted(viewer: Viewer, location_ids: Iterable[str]) -> set[str]:
    """Of ``location_ids``, those the viewer sees without address: a confidential service is
    offered there and the viewer may not see confidential addresses."""
    wanted = sorted(set(location_ids))
    if viewer.show_confidential or not wanted:
        return set()
    found = db.session.scalars(
        select(ServiceAtLocation.location_id)
        .join(Service, Service.id == ServiceAtLocation.service_id)
        .where(ServiceAtLocation.location_id.in_(wanted), Service.confidential.is_(True))
        .distinct()
    )
    return set(found)


def _last_modified(service: Any) -> str:
    return as_utc(service.updated_at).isoformat()


# --- filters ---------------------------------------------------------------------------


def _text_matches(words: str) -> Any:
    """Ids of the (active) services whose search text holds every word, from the full-text
    index of search (``search_text``: PostgreSQL tsvector + GIN, SQLite FTS5)."""
    params: dict[str, Any] = {}
    condition = for_dialect(db.session.get_bind().dialect.name).text_match(words, params)
    return (
        text(f"SELECT DISTINCT e.service_id FROM search_entry e WHERE {condition}")
        .bindparams(**params)
        .columns(column("service_id", String))
    )


def _with_term(term_id: str) -> Any:
    """Ids of the services with the term: a carenet category (given, or mapped from another
    vocabulary; by its UUID or ``carenet-categories:<slug>``) or a term of any vocabulary
    that one of the service's attributes carries (``service_attribute_term``)."""
    links = service_attribute_term
    return union(
        select(service_category.c.service_id).where(
            service_category.c.taxonomy_term_id == carenet_term_id(term_id)
        ),
        select(links.c.service_id).where(links.c.taxonomy_term_id == term_id),
    )


def _in_taxonomy(taxonomy_id: str) -> Any:
    """Ids of the services with a term of the taxonomy: a carenet category, an attribute
    whose term names the taxonomy, or one whose term is stored under it."""
    links = service_attribute_term
    stored_terms = select(TaxonomyTerm.id).where(TaxonomyTerm.taxonomy_id == taxonomy_id)
    return union(
        select(service_category.c.service_id)
        .join(TaxonomyTerm, TaxonomyTerm.id == service_category.c.taxonomy_term_id)
        .where(TaxonomyTerm.taxonomy_id == carenet_term_id(taxonomy_id)),
        select(links.c.service_id).where(links.c.taxonomy_id == taxonomy_id),
        select(links.c.service_id).where(links.c.taxonomy_term_id.in_(stored_terms)),
    )


def _service_filters(stmt: Select[Any], args: dict[str, Any]) -> Select[Any]:
    """``stmt`` (which reads ``service``) limited by the service filters in ``args``."""
    if args.get("organization_id"):
        stmt = stmt.where(Service.organization_id == args["organization_id"])
    if args.get("taxonomy_term_id"):
        stmt = stmt.where(Service.id.in_(_with_term(args["taxonomy_term_id"])))
    if args.get("taxonomy_id"):
        stmt = stmt.where(Service.id.in_(_in_taxonomy(args["taxonomy_id"])))
    if args.get("modified_after"):
        stmt = stmt.where(Service.updated_at >= args["modified_after"])
    if args.get("search"):
        stmt = stmt.where(Service.id.in_(_text_matches(args["search"])))
    return stmt


def _like(words: str) -> str:
    escaped = words.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _name_search(stmt: Select[Any], model: Any, words: str | None) -> Select[Any]:
    if not words:
        return stmt
    return stmt.where(func.lower(model.name).like(_like(words), escape="\\"))


def _centroid(postcode: str) -> tuple[float, float]:
    point = zip_centroid(postcode)
    if point is None:
        message = f"Unknown ZIP code {postcode}."
        raise InvalidInput(message, {"postcode": [message]})
    return point.latitude, point.longitude


def _shapes_holding(lat: float, lon: float) -> Any:
    """Ids of services with a polygon or radius area holding the point (spatial index)."""
    if db.session.get_bind().dialect.name == "postgresql":
        sql = (
            "SELECT sa.service_id FROM service_area sa WHERE ST_Intersects(sa.geom,"
            " ST_SetSRID(ST_MakePoint(CAST(:lon AS float8), CAST(:lat AS float8)), 4326))"
        )
    else:
        sql = (
            "SELECT sa.service_id FROM service_area sa WHERE sa.rowid IN (SELECT pkid FROM"
            " idx_service_area_geom WHERE xmin <= :lon AND xmax >= :lon AND ymin <= :lat"
            " AND ymax >= :lat) AND ST_Intersects(sa.geom, MakePoint(:lon, :lat, 4326)) = 1"
        )
    return text(sql).bindparams(lat=lat, lon=lon).columns(column("service_id", String))


def _locations_within(lat: float, lon: float, meters: float) -> Any:
    """Ids of the locations within ``meters`` of the point (spatial index, then distance)."""
    params: dict[str, Any] = {"lat": lat, "lon": lon, "radius": meters}
    params.update(bbox_params(lat, lon, meters))
    if db.session.get_bind().dialect.name == "postgresql":
        sql = (
            "SELECT l.id FROM location l WHERE l.geom && ST_MakeEnvelope(:min_lon, :min_lat,"
            " :max_lon, :max_lat, 4326) AND ST_DWithin(l.geom::geography, ST_SetSRID("
            "ST_MakePoint(CAST(:lon AS float8), CAST(:lat AS float8)), 4326)::geography,"
            " CAST(:radius AS float8))"
        )
    else:
        params.update(flat_earth_params(lat))
        within = _within_sqlite("l.latitude", "l.longitude", ":radius")
        sql = (
            "SELECT l.id FROM location l WHERE l.rowid IN (SELECT pkid FROM idx_location_geom"
            " WHERE xmax >= :min_lon AND xmin <= :max_lon AND ymax >= :min_lat"
            f" AND ymin <= :max_lat) AND {within} = 1"
        )
    return text(sql).bindparams(**params).columns(column("id", String))


def _postcode_filter(stmt: Select[Any], args: dict[str, Any]) -> Select[Any]:
    """Service_at_locations for ``postcode``: with ``proximity``, those whose location is
    within that many meters of the ZIP's centroid; without, those whose service has an area
    holding the ZIP (ZIP list, county, or a shape holding its centroid) or whose location's
    address is in it."""
    postcode = args.get("postcode")
    if not postcode:
        return stmt
    lat, lon = _centroid(postcode)
    if args.get("proximity"):
        return stmt.where(
            ServiceAtLocation.location_id.in_(_locations_within(lat, lon, args["proximity"]))
        )
    zip_areas = (
        select(ServiceArea.service_id)
        .join(ServiceAreaPostcode, ServiceAreaPostcode.service_area_id == ServiceArea.id)
        .where(ServiceAreaPostcode.postcode == postcode)
    )
    addressed = select(Address.location_id).where(Address.postal_code == postcode)
    return stmt.where(
        or_(
            Service.id.in_(zip_areas),
            Service.id.in_(_shapes_holding(lat, lon)),
            ServiceAtLocation.location_id.in_(addressed),
        )
    )


# --- services --------------------------------------------------------------------------


def _service_list_item(service: Service) -> dict[str, Any]:
    return {
        **service_core_json(service),
        "last_modified": _last_modified(service),
        "organization": organization_core_json(service.organization),
    }


def _full_service(service: Service, redacted: set[str]) -> dict[str, Any]:
    return {**service_json(service, redacted), "last_modified": _last_modified(service)}


def _sal_locations(services: Iterable[Service]) -> list[str]:
    return [sal.location_id for s in services for sal in s.service_at_locations]


def _minimal(ids: list[str]) -> list[dict[str, Any]]:
    rows = db.session.execute(
        select(Service.id, Service.name, Service.status, Service.updated_at).where(
            Service.id.in_(ids)
        )
    ).all()
    by_id = {
        row.id: {
            "id": row.id,
            "name": row.name,
            "status": row.status,
            "last_modified": _last_modified(row),
        }
        for row in rows
    }
    return [by_id[i] for i in ids if i in by_id]


def list_services(args: dict[str, Any], viewer: Viewer) -> dict[str, Any]:
    """A page of services (``service_list`` objects; ``full``: compiled services;
    ``minimal``: id, name, status and last_modified)."""
    ids = _service_filters(select(Service.id), args)
    total, page = _page_of_ids(ids, Service.id, args)
    if args.get("minimal"):
        contents = _minimal(page)
    elif args.get("full"):
        services = _load(Service, page, service_options())
        redacted = _redacted(viewer, _sal_locations(services))
        contents = [_full_service(s, redacted) for s in services]
    else:
        services = _load(Service, page, [selectinload(Service.organization)])
        contents = [_service_list_item(s) for s in services]
    return envelope(total, args["page"], args["per_page"], contents)


def get_service(service_id: str, viewer: Viewer) -> dict[str, Any]:
    """One compiled service by id; NotFound if there is none."""
    found = _load(Service, [service_id], service_options())
    if not found:
        raise NotFound(f"No service {service_id}.")
    return _full_service(found[0], _redacted(viewer, _sal_locations(found)))


# --- organizations ---------------------------------------------------------------------


def _services_of(org_ids: list[str], full: bool) -> dict[str, list[Service]]:
    """The services of each organization, in id order (one query, plus the relations)."""
    if not org_ids:
        return {}
    options = service_options() if full else []
    services = db.session.scalars(
        select(Service)
        .where(Service.organization_id.in_(org_ids))
        .order_by(Service.id)
        .options(*options)
    ).all()
    grouped: dict[str, list[Service]] = {i: [] for i in org_ids}
    for service in services:
        grouped[service.organization_id].append(service)
    return grouped


def _full_organizations(orgs: list[Organization], full_service: bool, viewer: Viewer) -> list:
    services = _services_of([o.id for o in orgs], full_service)
    everything = [s for group in services.values() for s in group]
    located = [loc.id for o in orgs for loc in o.locations]
    redacted = _redacted(viewer, located + (_sal_locations(everything) if full_service else []))
    build: Callable[[Service], dict[str, Any]] = (
        (lambda s: _full_service(s, redacted))
        if full_service
        else (lambda s: {**service_core_json(s), "last_modified": _last_modified(s)})
    )
    return [
        {
            **organization_json(org, with_locations=True, redacted=redacted),
            "services": [build(s) for s in services[org.id]],
        }
        for org in orgs
    ]


def _organization_options() -> list[Any]:
    return [
        selectinload(Organization.phones),
        selectinload(Organization.locations).options(*location_options()),
    ]


def list_organizations(args: dict[str, Any], viewer: Viewer) -> dict[str, Any]:
    """A page of organizations (``organization_list`` objects; ``full``: with locations and
    services, ``full_service`` nesting each service in full)."""
    ids = _name_search(select(Organization.id), Organization, args.get("search"))
    total, page = _page_of_ids(ids, Organization.id, args)
    if args.get("full"):
        orgs = _load(Organization, page, _organization_options())
        contents = _full_organizations(orgs, args.get("full_service", False), viewer)
    else:
        contents = [organization_core_json(o) for o in _load(Organization, page)]
    return envelope(total, args["page"], args["per_page"], contents)


def get_organization(org_id: str, args: dict[str, Any], viewer: Viewer) -> dict[str, Any]:
    """One compiled organization with its locations and services; NotFound if none."""
    found = _load(Organization, [org_id], _organization_options())
    if not found:
        raise NotFound(f"No organization {org_id}.")
    return _full_organizations(found, args.get("full_service", False), viewer)[0]


# --- service_at_locations --------------------------------------------------------------


def _sal_options(full: bool) -> list[Any]:
    service = selectinload(ServiceAtLocation.service)
    if full:
        return [
            service.options(selectinload(Service.phones), selectinload(Service.schedules)),
            service.selectinload(Service.organization),
            selectinload(ServiceAtLocation.location).options(*location_options()),
        ]
    return [service.selectinload(Service.organization), selectinload(ServiceAtLocation.location)]


def _sal_item(sal: ServiceAtLocation, redacted: set[str], full: bool) -> dict[str, Any]:
    hidden = sal.location_id in redacted
    service = {**service_core_json(sal.service), "last_modified": _last_modified(sal.service)}
    if full:
        return {**service_at_location_json(sal.service, sal, hidden), "service": service}
    obj = {
        "id": sal.id,
        "service_id": sal.service_id,
        "location_id": sal.location_id,
        "description": sal.description,
        "location": location_core_json(sal.location, hidden),
        "service": {**service, "organization": organization_core_json(sal.service.organization)},
    }
    return {k: v for k, v in obj.items() if v is not None}


def list_service_at_locations(args: dict[str, Any], viewer: Viewer) -> dict[str, Any]:
    """A page of service_at_locations with their location and service (``full``: with the
    location's addresses, phones and schedules and the service's at that location)."""
    ids = select(ServiceAtLocation.id).join(Service, Service.id == ServiceAtLocation.service_id)
    ids = _postcode_filter(_service_filters(ids, args), args)
    total, page = _page_of_ids(ids, ServiceAtLocation.id, args)
    sals = _load(ServiceAtLocation, page, _sal_options(args.get("full", False)))
    redacted = _redacted(viewer, [sal.location_id for sal in sals])
    contents = [_sal_item(sal, redacted, args.get("full", False)) for sal in sals]
    return envelope(total, args["page"], args["per_page"], contents)


def get_service_at_location(sal_id: str, viewer: Viewer) -> dict[str, Any]:
    """One fully nested service_at_location; NotFound if there is none."""
    found = _load(ServiceAtLocation, [sal_id], _sal_options(True))
    if not found:
        raise NotFound(f"No service_at_location {sal_id}.")
    return _sal_item(found[0], _redacted(viewer, [found[0].location_id]), True)


# --- taxonomies ------------------------------------------------------------------------


def list_taxonomies(args: dict[str, Any]) -> dict[str, Any]:
    """A page of taxonomies."""
    ids = _name_search(select(Taxonomy.id), Taxonomy, args.get("search"))
    total, page = _page_of_ids(ids, Taxonomy.id, args)
    contents = [taxonomy_json(t) for t in _load(Taxonomy, page)]
    return envelope(total, args["page"], args["per_page"], contents)


def get_taxonomy(taxonomy_id: str) -> dict[str, Any]:
    found = db.session.get(Taxonomy, carenet_term_id(taxonomy_id))
    if found is None:
        raise NotFound(f"No taxonomy {taxonomy_id}.")
    return taxonomy_json(found)


def list_taxonomy_terms(args: dict[str, Any]) -> dict[str, Any]:
    """A page of taxonomy terms (of one taxonomy, children of one term, or top-level)."""
    ids = _name_search(select(TaxonomyTerm.id), TaxonomyTerm, args.get("search"))
    if args.get("taxonomy_id"):
        ids = ids.where(TaxonomyTerm.taxonomy_id == carenet_term_id(args["taxonomy_id"]))
    # an imported term's parent_id is kept as given in hsds_extra (no foreign key to a
    # parent that may come later); carenet's own terms use the column
    given_parent = TaxonomyTerm.hsds_extra["parent_id"].as_string()
    if args.get("parent_id"):
        ids = ids.where(
            or_(
                TaxonomyTerm.parent_id == carenet_term_id(args["parent_id"]),
                given_parent == args["parent_id"],
            )
        )
    if args.get("top_only"):
        ids = ids.where(TaxonomyTerm.parent_id.is_(None), given_parent.is_(None))
    total, page = _page_of_ids(ids, TaxonomyTerm.id, args)
    contents = [taxonomy_term_json(t) for t in _load(TaxonomyTerm, page)]
    return envelope(total, args["page"], args["per_page"], contents)


def get_taxonomy_term(term_id: str) -> dict[str, Any]:
    found = db.session.get(TaxonomyTerm, carenet_term_id(term_id))
    if found is None:
        raise NotFound(f"No taxonomy term {term_id}.")
    return taxonomy_term_json(found)


__all__ = [
    "HSDS_VERSION",
    "Viewer",
    "envelope",
    "get_organization",
    "get_service",
    "get_service_at_location",
    "get_taxonomy",
    "get_taxonomy_term",
    "list_organizations",
    "list_service_at_locations",
    "list_services",
    "list_taxonomies",
    "list_taxonomy_terms",
]
