"""Column types and helpers that behave the same on SpatiaLite and PostGIS."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from geoalchemy2 import Geometry

SRID = 4326


def point_column_type() -> Geometry:
    """A WGS84 point with a spatial index (R*Tree on SpatiaLite, GiST on PostGIS)."""
    return Geometry(geometry_type="POINT", srid=SRID, spatial_index=True)


def area_column_type() -> Geometry:
    """A WGS84 multipolygon with a spatial index."""
    return Geometry(geometry_type="MULTIPOLYGON", srid=SRID, spatial_index=True)


def new_id() -> str:
    """A new HSDS-style identifier (a UUID as text)."""
    return str(uuid.uuid4())


def utcnow() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


def point_wkt(longitude: float, latitude: float) -> str:
    """EWKT for a WGS84 point; longitude first, as WKT wants."""
    return f"SRID={SRID};POINT({longitude!r} {latitude!r})"
