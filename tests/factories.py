"""Factories for directory objects (organization, service with location, address, phone,
schedule, categories, service area). Each writes real rows through the session and
flushes; pass keyword arguments to override any column.

Import with ``from factories import make_service`` (tests/ is on sys.path because
tests/conftest.py lives there).
"""

from __future__ import annotations

import itertools
from datetime import time
from typing import Any

from carenet.db.types import point_wkt
from carenet.directory.hsds.conventions import circle_polygon, multipolygon_ewkt
from carenet.directory.models import (
    Address,
    Language,
    Location,
    Organization,
    Phone,
    Schedule,
    Service,
    ServiceArea,
    ServiceAreaPostcode,
    ServiceAtLocation,
    TaxonomyTerm,
)
from carenet.extensions import db

_numbers = itertools.count(1)


def make_organization(**fields: Any) -> Organization:
    """An organization (kind community unless given)."""
    n = next(_numbers)
    org = Organization(**{"name": f"Organization {n}", "description": "A test CBO", **fields})
    db.session.add(org)
    db.session.flush()
    return org


def make_location(
    organization: Organization | None = None,
    *,
    latitude: float | None = 25.7617,
    longitude: float | None = -80.1918,
    postal_code: str = "33130",
    address: dict[str, Any] | None = None,
    **fields: Any,
) -> Location:
    """A physical location with one address; ``geom`` follows latitude/longitude."""
    n = next(_numbers)
    location = Location(
        organization_id=organization.id if organization else None,
        name=f"Site {n}",
        latitude=latitude,
        longitude=longitude,
        geocode_method="source" if latitude is not None else None,
        geom=point_wkt(longitude, latitude) if latitude is not None else None,
        **fields,
    )
    db.session.add(location)
    db.session.flush()
    values = {"address_1": f"{n} Main Street", "city": "Miami", "state_province": "FL"}
    values.update(postal_code=postal_code, **(address or {}))
    db.session.add(Address(location_id=location.id, **values))
    db.session.flush()
    return location


def make_service(
    organization: Organization | None = None,
    *,
    location: Location | None = None,
    categories: tuple[str, ...] = (),
    with_location: bool = True,
    **fields: Any,
) -> Service:
    """A service of ``organization`` (made if omitted), at ``location`` (made if omitted)."""
    organization = organization or make_organization()
    n = next(_numbers)
    service = Service(organization_id=organization.id, name=f"Service {n}", **fields)
    db.session.add(service)
    db.session.flush()
    if with_location:
        location = location or make_location(organization)
        db.session.add(ServiceAtLocation(service_id=service.id, location_id=location.id))
    for slug in categories:
        term = db.session.get(TaxonomyTerm, f"carenet-categories:{slug}")
        if term is None:
            raise LookupError(f"no term {slug}: call ensure_taxonomy() first")
        service.categories.append(term)
    db.session.flush()
    return service


def add_phone(service: Service, number: str = "305-555-0100", **fields: Any) -> Phone:
    phone = Phone(service_id=service.id, number=number, **fields)
    db.session.add(phone)
    db.session.flush()
    return phone


def add_language(service: Service, code: str = "es", name: str = "Spanish") -> Language:
    language = Language(service_id=service.id, code=code, name=name)
    db.session.add(language)
    db.session.flush()
    return language


def add_schedule(
    service: Service,
    byday: str = "MO,TU,WE,TH,FR",
    opens_at: time = time(9),
    closes_at: time = time(17),
    **fields: Any,
) -> Schedule:
    """A weekly schedule of the service (location-independent unless location_id given)."""
    schedule = Schedule(
        service_id=service.id, byday=byday, opens_at=opens_at, closes_at=closes_at, **fields
    )
    db.session.add(schedule)
    db.session.flush()
    return schedule


def add_service_area(service: Service, kind: str = "postcodes", **fields: Any) -> ServiceArea:
    """A service area: kind postcodes (``postcodes=[...]``), county (``county``, ``state``,
    ``postcodes``), radius (``center_latitude``, ``center_longitude``, ``radius_mi``) or
    polygon (``geom`` EWKT, ``extent`` GeoJSON)."""
    postcodes = fields.pop("postcodes", ["33130", "33131"] if kind == "postcodes" else [])
    if kind == "radius":
        lat = fields.setdefault("center_latitude", 25.7617)
        lon = fields.setdefault("center_longitude", -80.1918)
        radius = fields.setdefault("radius_mi", 10.0)
        fields.setdefault("geom", multipolygon_ewkt(circle_polygon(lat, lon, radius)))
    area = ServiceArea(service_id=service.id, kind=kind, **fields)
    db.session.add(area)
    db.session.flush()
    for code in postcodes:
        db.session.add(ServiceAreaPostcode(service_area_id=area.id, postcode=code))
    db.session.flush()
    return area
