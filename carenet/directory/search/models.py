"""Denormalized search tables, derived from the directory by ``index``.

``search_entry`` holds one row per (service at location, category) plus one
"any category" row (``category_code`` 0) per service at location, so that every
search filters on the leading column of one composite spatial index:
PostGIS GiST over ``(category_code, geog)`` (btree_gist), SQLite R*Tree
``search_entry_rtree`` with the category as a third dimension. The spatial
columns and virtual tables are backend-specific and created by migration 0002;
the tables below are the columns both backends share.

Never edit these rows by hand: ``index.refresh_services`` rebuilds them.
"""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Float, Index, Integer, String, Table, Text

from carenet.db.types import ID
from carenet.extensions import db

ANY_CATEGORY = 0  # category_code of the one-per-location row that matches any category

search_category = Table(
    "search_category",
    db.Model.metadata,
    Column("id", Integer, primary_key=True),
    Column("slug", String(64), nullable=False, unique=True),
)

search_timezone = Table(
    "search_timezone",
    db.Model.metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(64), nullable=False, unique=True),
)

search_entry = Table(
    "search_entry",
    db.Model.metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("any_id", Integer, nullable=False),  # id of this location's "any category" row
    Column("category_code", Integer, nullable=False),
    Column("service_id", ID, nullable=False),
    Column("location_id", ID),
    Column("service_at_location_id", ID),
    Column("organization_id", ID, nullable=False),
    Column("organization_name", String(255), nullable=False),
    Column("service_name", String(255), nullable=False),
    Column("service_description", Text),
    Column("categories", Text, nullable=False),  # ",slug,slug," for residual filtering
    Column("languages", String(255), nullable=False),  # ",en,es,"
    Column("free", Boolean, nullable=False),
    Column("minimum_age", Integer),
    Column("maximum_age", Integer),
    Column("capacity_status", String(40), nullable=False),
    Column("confidential", Boolean, nullable=False),
    Column("has_area", Boolean, nullable=False),
    Column("area_primary", Boolean, nullable=False),  # the row an area match shows
    Column("latitude", Float),
    Column("longitude", Float),
    Column("timezone", String(64), nullable=False),
    Column("tz_code", Integer, nullable=False),
    Column("location_name", String(255)),
    Column("address", Text),
    Column("phones", Text, nullable=False),  # JSON list of {number, extension, type}
    Column("schedules", Text, nullable=False),  # JSON list of opening rules
    Index("ix_search_entry_service", "service_id", "category_code"),
    Index("ix_search_entry_any", "any_id"),
)

# One row per (service area, category code). Shapes and circles are in the spatial index;
# ZIP-list and county areas (no shape) are reached from ``service_area_postcode``.
search_area = Table(
    "search_area",
    db.Model.metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("service_id", ID, nullable=False),
    Column("service_area_id", ID, nullable=False),
    Column("category_code", Integer, nullable=False),
    # A radius area is tested as a true circle (geodesic distance from its centre).
    Column("center_latitude", Float),
    Column("center_longitude", Float),
    Column("radius_m", Float),
    # The search_entry row an area match shows (area_primary) and its office's point, so
    # counting matches needs no look-up into search_entry.
    Column("entry_id", Integer),
    Column("office_latitude", Float),
    Column("office_longitude", Float),
    Column("shared", Boolean, nullable=False, default=False),  # the service has other areas
    Index("ix_search_area_service", "service_id", "category_code"),
    Index("ix_search_area_service_area", "service_area_id", "category_code"),
)

# The ZIP codes of ZIP-list and county areas, by category (not for the "any category" code):
# one index range finds the areas of one category serving a patient's ZIP.
search_zip = Table(
    "search_zip",
    db.Model.metadata,
    Column("postcode", String(10), primary_key=True),
    Column("category_code", Integer, primary_key=True, autoincrement=False),
    Column("service_id", ID, primary_key=True),
    Column("area_id", Integer, primary_key=True, autoincrement=False),  # search_area.id
    Index("ix_search_zip_service", "service_id"),
    sqlite_with_rowid=False,
)

search_hours = Table(
    "search_hours",
    db.Model.metadata,
    Column("id", Integer, primary_key=True),
    Column("any_id", Integer, nullable=False, index=True),
    Column("dow", Integer),  # 0 = Monday; NULL for a monthly rule
    Column("monthday", Integer),  # 1..31; NULL for a weekly rule
    Column("open_min", Integer, nullable=False),  # minutes after local midnight
    Column("close_min", Integer, nullable=False),  # exclusive, at most 1440
    Column("valid_from", Integer),  # date.toordinal() of the local date
    Column("valid_to", Integer),
)

search_text = Table(
    "search_text",
    db.Model.metadata,
    Column("any_id", Integer, primary_key=True, autoincrement=False),
    Column("body", Text, nullable=False),
)

SEARCH_TABLES = (search_entry, search_area, search_zip, search_hours, search_text)

__all__ = [
    "ANY_CATEGORY",
    "SEARCH_TABLES",
    "search_area",
    "search_category",
    "search_entry",
    "search_hours",
    "search_text",
    "search_timezone",
    "search_zip",
]
