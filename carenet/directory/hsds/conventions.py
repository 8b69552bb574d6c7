"""carenet's conventions on top of HSDS 3.0: its attributes and its service-area extents.

HSDS 3.0 has no fields for a service's category, capacity, "free" and
"confidential" flags, a location's IANA time zone or an organization's kind,
so carenet carries them as HSDS ``attributes`` whose taxonomy terms belong to
two carenet taxonomies (see docs/hsds.md):

- ``carenet-categories``: term id ``carenet-categories:<slug>`` (the category);
- ``carenet-properties``: term id ``carenet-properties:<name>``, the value in
  the attribute's ``value`` (e.g. ``capacity_status`` = ``waitlist``).

Service areas use ``extent_type`` ``geojson`` (Polygon/MultiPolygon, or a
Feature with a Point geometry and ``properties.radius_mi``) or ``text``
(``county:Miami-Dade County, FL`` or ``postcodes:33101 33125``).
"""

from __future__ import annotations

import json
import math
import uuid
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from shapely.geometry import MultiPolygon, Polygon, shape

from carenet.db.types import SRID
from carenet.directory.taxonomy import TAXONOMY_ID, category_for

PROPERTY_TAXONOMY_ID = "carenet-properties"
PROPERTY_TAXONOMY_NAME = "carenet record properties"
# name -> (entity it applies to, description)
PROPERTIES: dict[str, tuple[str, str]] = {
    "capacity_status": ("service", "Whether the service takes new clients now (FHIR SDOHCC)."),
    "free": ("service", "true when the service costs the client nothing."),
    "confidential": ("service", "true when the address must not be shown (e.g. a shelter)."),
    "timezone": ("location", "IANA time zone of the location's schedules."),
    "geocode_method": ("location", "How the coordinates were found: source, postcode, geocoder."),
    "kind": ("organization", "carenet organization kind: care, community or network."),
}
ID_NAMESPACE = uuid.UUID("6f1c1a52-4c1e-4e53-9d33-8f7f0b0c2a11")
CIRCLE_VERTICES = 64
EARTH_RADIUS_MI = 3958.7613


class RecordRejected(Exception):
    """A record that cannot be imported; the message is the reason shown to the user."""


def derived_id(*parts: str) -> str:
    """A stable UUID for a child object that came without an id (same input, same id)."""
    return str(uuid.uuid5(ID_NAMESPACE, ":".join(parts)))


@dataclass
class AttributeValues:
    categories: list[str] = field(default_factory=list)  # given as carenet-categories terms
    properties: dict[str, str] = field(default_factory=dict)
    derived: list[str] = field(default_factory=list)  # mapped from another vocabulary


def term_uuid(term_id: str) -> str:
    """The stable UUID (v5) under which a carenet term (``carenet-categories:food-pantry``,
    ``carenet-properties:free``) or taxonomy id is exported; other ids unchanged."""
    if term_id.startswith((f"{TAXONOMY_ID}", f"{PROPERTY_TAXONOMY_ID}")):
        return derived_id("carenet-term", term_id)
    return term_id


def _carenet_term_ids() -> dict[str, str]:
    """UUID -> carenet term id, for every term carenet exports (so they read back)."""
    from carenet.directory.taxonomy import CATEGORIES

    ids = [c.term_id for c in CATEGORIES] + [f"{PROPERTY_TAXONOMY_ID}:{p}" for p in PROPERTIES]
    ids += [TAXONOMY_ID, PROPERTY_TAXONOMY_ID]
    return {term_uuid(i): i for i in ids}


_BY_UUID: dict[str, str] = {}


def carenet_term_id(value: str) -> str:
    """A carenet term id from its exported UUID (other values unchanged)."""
    if not _BY_UUID:
        _BY_UUID.update(_carenet_term_ids())
    return _BY_UUID.get(value, value)


def _term_of(attribute: dict[str, Any]) -> tuple[str, str, str]:
    term = attribute.get("taxonomy_term") or {}
    if not isinstance(term, dict):
        term = {}
    term_id = str(term.get("id") or attribute.get("taxonomy_term_id") or "")
    code = str(term.get("code") or "")
    detail = term.get("taxonomy_detail") if isinstance(term.get("taxonomy_detail"), dict) else {}
    taxonomy = str(
        term.get("taxonomy_id") or term.get("taxonomy") or (detail or {}).get("id") or ""
    )
    return carenet_term_id(term_id), code, carenet_term_id(taxonomy)


term_of = _term_of  # (carenet term id, code, taxonomy) of an attribute


def foreign_categories(taxonomy: str, code: str, term_id: str, term: Any = None) -> tuple[str, ...]:
    """carenet categories of a term of another vocabulary: a code or id that is a carenet
    slug, else the mapping file (``taxonomy_map``: AIRS/211 code prefixes, Open Eligibility
    terms, the admin's rows) by the term's vocabulary name, code and name."""
    from carenet.directory.hsds.taxonomy_map import categories_for_term

    category = category_for(term_id) or category_for(code)
    if category:
        return (category.slug,)
    term = term if isinstance(term, dict) else {}
    detail = term.get("taxonomy_detail") if isinstance(term.get("taxonomy_detail"), dict) else {}
    vocabulary = term.get("taxonomy") or (detail or {}).get("name") or taxonomy
    name = term.get("name")
    return categories_for_term(
        vocabulary if isinstance(vocabulary, str) else taxonomy,
        code,
        name if isinstance(name, str) else None,
    )


def read_attributes(attributes: Any, entity: str, warnings: list[str]) -> AttributeValues:
    """carenet categories and properties from an HSDS ``attributes`` list.

    A term of a carenet taxonomy that carenet does not know, or a malformed attribute, is
    left out with a warning; a term of another taxonomy gives the categories it maps to
    (``derived``: carenet's reading, never exported as a fact). The attributes themselves
    are kept as given by the caller.
    """
    values = AttributeValues()
    if not attributes:
        return values
    if not isinstance(attributes, list):
        warnings.append(f"{entity}: attributes is not a list; dropped")
        return values
    for attribute in attributes:
        if not isinstance(attribute, dict):
            warnings.append(f"{entity}: an attribute is not an object; dropped")
            continue
        term_id, code, taxonomy = _term_of(attribute)
        if term_id.startswith(f"{TAXONOMY_ID}:") or taxonomy == TAXONOMY_ID:
            category = category_for(term_id) or category_for(code)
            if category is None:
                warnings.append(f"{entity}: unknown taxonomy term '{term_id or code}'; ignored")
                continue
            values.categories.append(category.slug)
        elif term_id.startswith(f"{PROPERTY_TAXONOMY_ID}:") or taxonomy == PROPERTY_TAXONOMY_ID:
            name = term_id.split(":", 1)[1] if ":" in term_id else code
            if PROPERTIES.get(name, ("",))[0] != entity:
                warnings.append(f"{entity}: unknown taxonomy term '{term_id or code}'; ignored")
                continue
            values.properties[name] = str(attribute.get("value") or "").strip()
        else:
            term = attribute.get("taxonomy_term")
            values.derived.extend(foreign_categories(taxonomy, code, term_id, term))
    values.derived = [s for s in dict.fromkeys(values.derived) if s not in values.categories]
    return values


def category_attribute(link_id: str, link_type: str, slug: str) -> dict[str, Any]:
    """The HSDS attribute that says a service belongs to a carenet category."""
    category = category_for(slug)
    assert category is not None
    return {
        "id": derived_id(link_id, category.term_id),
        "link_id": link_id,
        "link_type": link_type,
        "link_entity": link_type,
        "taxonomy_term_id": term_uuid(category.term_id),
        "taxonomy_term": {
            "id": term_uuid(category.term_id),
            "code": category.slug,
            "name": category.name,
            "description": category.description,
            "taxonomy": TAXONOMY_ID,
            "taxonomy_id": term_uuid(TAXONOMY_ID),
        },
    }


def property_attribute(link_id: str, link_type: str, name: str, value: str) -> dict[str, Any]:
    """The HSDS attribute carrying one carenet property (value as text)."""
    term_id = f"{PROPERTY_TAXONOMY_ID}:{name}"
    return {
        "id": derived_id(link_id, term_id),
        "link_id": link_id,
        "link_type": link_type,
        "link_entity": link_type,
        "taxonomy_term_id": term_uuid(term_id),
        "value": value,
        "taxonomy_term": {
            "id": term_uuid(term_id),
            "code": name,
            "name": name,
            "description": PROPERTIES[name][1],
            "taxonomy": PROPERTY_TAXONOMY_ID,
            "taxonomy_id": term_uuid(PROPERTY_TAXONOMY_ID),
        },
    }


def parse_bool(value: str, what: str) -> bool:
    """'true'/'false' (also yes/no/1/0) from an attribute value."""
    lowered = value.strip().lower()
    if lowered in {"true", "yes", "1"}:
        return True
    if lowered in {"false", "no", "0"}:
        return False
    raise RecordRejected(f"{what} must be true or false, not '{value}'")


@lru_cache(maxsize=4096)
def circle_points(
    latitude: float, longitude: float, radius_mi: float
) -> tuple[tuple[float, float], ...]:
    """The ring of a circle of ``radius_mi`` around a point: 64 vertices (spherical earth),
    (longitude, latitude) rounded to 7 decimals, the first repeated last. Cached: services
    of one place often share their circle."""
    lat1, lon1 = math.radians(latitude), math.radians(longitude)
    angular = radius_mi / EARTH_RADIUS_MI
    sin_lat1, cos_lat1 = math.sin(lat1), math.cos(lat1)
    sin_angular, cos_angular = math.sin(angular), math.cos(angular)
    points = []
    for i in range(CIRCLE_VERTICES):
        bearing = 2 * math.pi * i / CIRCLE_VERTICES
        lat2 = math.asin(sin_lat1 * cos_angular + cos_lat1 * sin_angular * math.cos(bearing))
        lon2 = lon1 + math.atan2(
            math.sin(bearing) * sin_angular * cos_lat1, cos_angular - sin_lat1 * math.sin(lat2)
        )
        points.append((round(math.degrees(lon2), 7), round(math.degrees(lat2), 7)))
    points.append(points[0])
    return tuple(points)


def circle_polygon(latitude: float, longitude: float, radius_mi: float) -> Polygon:
    """A circle of ``radius_mi`` around a point, as a 64-vertex polygon (spherical earth)."""
    return Polygon(circle_points(latitude, longitude, radius_mi))


def circle_ewkt(latitude: float, longitude: float, radius_mi: float) -> str:
    """``multipolygon_ewkt(circle_polygon(...))`` written directly (no shapely objects: a
    quarter of the time): the same coordinates, as shapely writes them (7 decimals at most,
    trailing zeros trimmed, never an exponent)."""
    ring = ", ".join(
        f"{_decimal(x)} {_decimal(y)}" for x, y in circle_points(latitude, longitude, radius_mi)
    )
    return f"SRID={SRID};MULTIPOLYGON ((({ring})))"


def _decimal(value: float) -> str:
    """A coordinate rounded to 7 decimals, written without trailing zeros or an exponent."""
    return f"{value:.7f}".rstrip("0").rstrip(".")


def multipolygon_ewkt(geometry: Polygon | MultiPolygon) -> str:
    """EWKT of a (multi)polygon as a MULTIPOLYGON, which the area column stores."""
    if isinstance(geometry, Polygon):
        geometry = MultiPolygon([geometry])
    return f"SRID={SRID};{geometry.wkt}"


def _geojson_area(text: str, where: str) -> dict[str, Any] | None:
    """Model fields for a ``geojson`` extent: a (multi)polygon, or a point with a radius.

    None when the text is not a GeoJSON object or holds another geometry.
    """
    try:
        data = json.loads(text)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    geometry = data.get("geometry") if data.get("type") == "Feature" else data
    if not isinstance(geometry, dict):
        return None
    kind = geometry.get("type")
    if kind in {"Polygon", "MultiPolygon"}:
        return _polygon_area(geometry, kind, where)
    if kind == "Point":
        return _radius_area(data, geometry, where)
    return None


def _polygon_area(geometry: dict[str, Any], kind: str, where: str) -> dict[str, Any]:
    """A GeoJSON (Multi)Polygon as an area; rejects one malformed, invalid or off the globe."""
    try:
        polygon = shape(geometry)
    except (ValueError, TypeError, KeyError, IndexError, AttributeError) as exc:
        raise RecordRejected(f"{where}: GeoJSON {kind} is malformed ({exc})") from None
    if polygon.is_empty or not polygon.is_valid:
        raise RecordRejected(f"{where}: GeoJSON {kind} is not a valid polygon")
    minx, miny, maxx, maxy = polygon.bounds
    if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
        raise RecordRejected(f"{where}: polygon coordinates are outside longitude/latitude")
    return {"kind": "polygon", "geom": multipolygon_ewkt(polygon)}


def _radius_area(data: dict[str, Any], geometry: dict[str, Any], where: str) -> dict[str, Any]:
    """A Point (``geometry``) with ``properties.radius_mi`` (in the Feature ``data``) as a
    circle; rejects one without a radius or with values out of range."""
    properties = data.get("properties") or {}
    coordinates = geometry.get("coordinates") or []
    radius = properties.get("radius_mi") if isinstance(properties, dict) else None
    if radius is None:
        raise RecordRejected(f"{where}: a Point area needs properties.radius_mi")
    try:
        lon, lat, radius_mi = float(coordinates[0]), float(coordinates[1]), float(radius)
    except (TypeError, ValueError, IndexError):
        raise RecordRejected(
            f"{where}: radius area needs numeric coordinates and radius_mi"
        ) from None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise RecordRejected(f"{where}: centre {lat}, {lon} is outside -90..90/-180..180")
    if not 0 < radius_mi <= 500:
        raise RecordRejected(f"{where}: radius_mi {radius_mi:g} is outside 0..500")
    return {
        "kind": "radius",
        "center_latitude": lat,
        "center_longitude": lon,
        "radius_mi": radius_mi,
        "geom": circle_ewkt(lat, lon, radius_mi),
    }


def named_extent(area: dict[str, Any], state_hint: str | None) -> dict[str, Any] | None:
    """A service area named in words — its ``extent`` or else its ``name``: "San Mateo
    County", "City of Miami", "Miami, FL", "Statewide: FL", "ZIP 33130, 33131" — as the ZIP
    codes of that place (``carenet.geo.gazetteer``, offline); None when no place is found.
    ``state_hint``: the state of the service's own addresses, for names found in several."""
    from carenet.geo.gazetteer import resolve_area

    for value in (area.get("extent"), area.get("name")):
        if isinstance(value, str) and value.strip() and value.lstrip()[:1] not in "{[":
            codes = resolve_area(value, state_hint)
            if codes:
                return {"kind": "postcodes", "postcodes": list(codes)}
    return None


def service_state(service: dict[str, Any]) -> str | None:
    """The state of the first address among a service's locations (a hint for named areas)."""
    for sal in service.get("service_at_locations") or ():
        location = sal.get("location") if isinstance(sal, dict) else None
        addresses = location.get("addresses") if isinstance(location, dict) else None
        for address in addresses if isinstance(addresses, list) else ():
            state = address.get("state_province") if isinstance(address, dict) else None
            if isinstance(state, str) and state.strip():
                return state.strip()
    return None


def read_extent(extent: Any, extent_type: Any, where: str) -> dict[str, Any] | None:
    """Model fields for a service area's extent, or None when carenet cannot use it."""
    if not isinstance(extent, str) or not extent.strip():
        return None
    text = extent.strip()
    if str(extent_type or "").lower() == "geojson":
        return _geojson_area(text, where)
    if text.startswith("county:"):
        name, _, state = text[len("county:") :].rpartition(",")
        name, state = name.strip(), state.strip().upper()
        if not name or len(state) != 2:
            raise RecordRejected(f"{where}: county extent must read 'county:<County>, <ST>'")
        return {"kind": "county", "county": name, "state": state}
    if text.startswith("postcodes:"):
        codes = text[len("postcodes:") :].split()
        bad = [c for c in codes if not (c.isdigit() and len(c) == 5)]
        if not codes or bad:
            raise RecordRejected(f"{where}: postcodes extent needs 5-digit ZIP codes, got {bad}")
        return {"kind": "postcodes", "postcodes": sorted(set(codes))}
    return None
