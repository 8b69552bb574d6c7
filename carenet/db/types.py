"""Column types and helpers that behave the same on SpatiaLite and PostGIS."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from geoalchemy2 import Geometry
from sqlalchemy import DateTime, String
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

SRID = 4326

ID = String(64)  # HSDS-style identifiers: UUIDs as text, or an importer's own ids


def one_of(column: str, values: tuple[str, ...]) -> str:
    """SQL for a CHECK constraint: ``column`` takes one of ``values``."""
    quoted = ", ".join(f"'{v}'" for v in values)
    return f"{column} IN ({quoted})"


def point_column_type() -> Geometry:
    """A WGS84 point with a spatial index (R*Tree on SpatiaLite, GiST on PostGIS)."""
    return Geometry(geometry_type="POINT", srid=SRID, spatial_index=True)


def area_column_type() -> Geometry:
    """A WGS84 multipolygon with a spatial index."""
    return Geometry(geometry_type="MULTIPOLYGON", srid=SRID, spatial_index=True)


class UTCDateTime(TypeDecorator[datetime]):
    """A moment in UTC that reads back timezone-aware on both backends.

    PostgreSQL keeps the offset (``timestamptz``); SQLite stores text without
    one, so values are written as UTC wall time and read back tagged as UTC.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None or value.tzinfo is None:
            return value  # naive values are taken to be UTC already
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


def new_id() -> str:
    """A new HSDS-style identifier (a UUID as text)."""
    return str(uuid.uuid4())


def utcnow() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


def as_utc(moment: datetime) -> datetime:
    """``moment`` as an aware UTC datetime; naive values (SQLite hands them back) are UTC."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def point_wkt(longitude: float, latitude: float) -> str:
    """EWKT for a WGS84 point; longitude first, as WKT wants."""
    return f"SRID={SRID};POINT({longitude!r} {latitude!r})"
