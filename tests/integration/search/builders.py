"""Directory rows for search tests, written through the ORM and indexed for search."""

from __future__ import annotations

from datetime import date, time
from typing import Any

from geopy.distance import geodesic

from carenet.db.types import point_wkt
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
)
from carenet.directory.search.index import refresh_services
from carenet.directory.service import ensure_taxonomy
from carenet.extensions import db
from carenet.geo import postcodes_in_county

MIAMI = (25.7617, -80.1918)


def point_at(
    origin: tuple[float, float], miles: float, bearing: float = 0.0
) -> tuple[float, float]:
    """The point ``miles`` (geodesic) from ``origin`` along ``bearing`` degrees."""
    p = geodesic(miles=miles).destination(origin, bearing)
    return (p.latitude, p.longitude)


def circle_ewkt(center: tuple[float, float], radius_mi: float, vertices: int = 64) -> str:
    points = [point_at(center, radius_mi, 360.0 * i / vertices) for i in range(vertices)]
    ring = ", ".join(f"{lon} {lat}" for lat, lon in points + points[:1])
    return f"SRID=4326;MULTIPOLYGON((({ring})))"


def polygon_ewkt(lonlats: list[tuple[float, float]]) -> str:
    ring = ", ".join(f"{lon} {lat}" for lon, lat in list(lonlats) + [lonlats[0]])
    return f"SRID=4326;MULTIPOLYGON((({ring})))"


def schedule(
    byday: str | None = "MO,TU,WE,TH,FR",
    opens: str | None = "09:00",
    closes: str | None = "17:00",
    **kw: Any,
) -> dict[str, Any]:
    return {"byday": byday, "opens": opens, "closes": closes, **kw}


def _time(value: str | None) -> time | None:
    return time.fromisoformat(value) if value else None


def make_service(
    name: str,
    at: tuple[float, float] | None,
    categories: tuple[str, ...] = ("support-groups",),
    *,
    schedules: tuple[dict[str, Any], ...] = (),
    areas: tuple[dict[str, Any], ...] = (),
    free: bool = False,
    minimum_age: int | None = None,
    maximum_age: int | None = None,
    capacity_status: str = "capacity",
    confidential: bool = False,
    languages: tuple[str, ...] = ("en",),
    phone: str = "305-555-0100",
    timezone: str = "America/New_York",
    description: str | None = None,
    postal_code: str = "33130",
    extra_sites: tuple[tuple[float, float], ...] = (),
    status: str = "active",
) -> Service:
    """A service of a new organization at ``at`` (None: no physical location)."""
    terms = ensure_taxonomy()
    org = Organization(name=f"{name} Inc.")
    service = Service(
        organization=org, name=name, description=description, free=free,
        minimum_age=minimum_age, maximum_age=maximum_age, capacity_status=capacity_status,
        confidential=confidential, status=status,
        categories=[terms[c] for c in categories],
    )  # fmt: skip
    service.languages = [Language(code=code) for code in languages]
    service.phones = [Phone(number=phone)]
    for index, site in enumerate(([at] if at else []) + list(extra_sites)):
        location = Location(
            organization=org, name=f"{name} site {index + 1}", latitude=site[0],
            longitude=site[1], geom=point_wkt(site[1], site[0]), timezone=timezone,
        )  # fmt: skip
        location.addresses = [
            Address(
                address_1=f"{index + 1} Main St",
                city="Miami",
                state_province="FL",
                postal_code=postal_code,
            )
        ]
        service.service_at_locations.append(ServiceAtLocation(location=location))
    for s in schedules:
        service.schedules.append(Schedule(
            freq=s.get("freq", "WEEKLY"), byday=s.get("byday"), bymonthday=s.get("bymonthday"),
            opens_at=_time(s.get("opens")), closes_at=_time(s.get("closes")),
            valid_from=s.get("valid_from"), valid_to=s.get("valid_to"),
        ))  # fmt: skip
    for a in areas:
        service.service_areas.append(_area(a))
    db.session.add(service)
    db.session.flush()
    refresh_services([service.id])
    db.session.commit()
    return service


def _area(spec: dict[str, Any]) -> ServiceArea:
    kind = spec["kind"]
    if kind == "radius":
        center = spec["center"]
        return ServiceArea(kind="radius", center_latitude=center[0], center_longitude=center[1],
                           radius_mi=spec["radius_mi"],
                           geom=circle_ewkt(center, spec["radius_mi"]))  # fmt: skip
    if kind == "polygon":
        return ServiceArea(kind="polygon", geom=polygon_ewkt(spec["lonlats"]))
    if kind == "county":
        area = ServiceArea(kind="county", county=spec["county"], state=spec["state"])
        codes = postcodes_in_county(spec["county"], spec["state"])
    else:
        area = ServiceArea(kind="postcodes")
        codes = spec["postcodes"]
    area.postcodes = [ServiceAreaPostcode(postcode=code) for code in codes]
    return area


__all__ = ["MIAMI", "date", "make_service", "point_at", "schedule"]
