"""Table counts, a normalized dump and a wipe of the directory tables, for tests."""

from __future__ import annotations

from pathlib import Path

from geoalchemy2 import Geometry
from sqlalchemy import func, select

from carenet.extensions import db

DATA = Path(__file__).resolve().parents[2] / "data"
DIRECTORY_TABLES = (
    "organization",
    "service",
    "location",
    "address",
    "service_at_location",
    "phone",
    "schedule",
    "language",
    "taxonomy",
    "taxonomy_term",
    "service_category",
    "service_area",
    "service_area_postcode",
)


def table_counts() -> dict[str, int]:
    """Rows per directory table."""
    tables = db.metadata.tables
    return {
        name: db.session.scalar(select(func.count()).select_from(tables[name])) or 0
        for name in DIRECTORY_TABLES
    }


def dump_directory() -> dict[str, list[tuple]]:
    """Every directory row (timestamps left out, geometries as WKT), sorted: for equality."""
    out: dict[str, list[tuple]] = {}
    for name in DIRECTORY_TABLES:
        table = db.metadata.tables[name]
        columns = [
            func.ST_AsText(c) if isinstance(c.type, Geometry) else c
            for c in table.columns
            if c.name not in {"created_at", "updated_at"}
        ]
        rows = db.session.execute(select(*columns)).all()
        out[name] = sorted((tuple(r) for r in rows), key=repr)
    return out


def wipe_directory() -> None:
    """Delete every directory row, and rows of tables that point at them (children first)."""
    names = set(DIRECTORY_TABLES)
    grown = True
    while grown:
        grown = False
        for table in db.metadata.sorted_tables:
            targets = {fk.column.table.name for fk in table.foreign_keys}
            if table.name not in names and targets & names:
                names.add(table.name)
                grown = True
    for table in reversed(db.metadata.sorted_tables):
        if table.name in names:
            db.session.execute(table.delete())
    db.session.commit()
