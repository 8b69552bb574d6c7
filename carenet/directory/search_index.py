"""Keeps the search tables in step with the directory.

Importers and editors call ``refresh_services`` with the ids of services they
changed, in the same transaction as the change, before committing. It reads
the directory with a few set-based queries per batch (no ORM objects) and
rewrites the services' rows of ``search_entry``, ``search_area``,
``search_hours`` and ``search_text`` (see ``search_models``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from sqlalchemy import select, text

from carenet.directory.search_models import (
    ANY_CATEGORY,
    search_area,
    search_category,
    search_entry,
    search_hours,
    search_text,
    search_timezone,
    search_zip,
)
from carenet.directory.search_rows import (
    DirectoryBatch,
    build_rows,
    load_batch,
)
from carenet.extensions import db
from carenet.geo.hilbert import hilbert_key

BATCH_SIZE = 2000


def refresh_services(service_ids: Iterable[str]) -> None:
    """Rebuild the search rows of these services in the caller's transaction."""
    db.session.flush()  # the caller's pending edits must be visible to the queries below
    ids = sorted({sid for sid in service_ids if sid})
    for start in range(0, len(ids), BATCH_SIZE):
        _refresh_batch(ids[start : start + BATCH_SIZE])


def rebuild_all(echo: Callable[[str], None] | None = None, batch_size: int = BATCH_SIZE) -> int:
    """Rebuild every search row from the directory; returns the number of services indexed."""
    conn = db.session.connection()
    if conn.dialect.name == "postgresql":
        conn.execute(
            text("TRUNCATE search_text, search_hours, search_zip, search_area, search_entry")
        )
    else:
        for table in (search_text, search_hours, search_zip, search_area, search_entry):
            conn.execute(table.delete())
    if conn.dialect.name == "postgresql":
        conn.execute(text("ANALYZE"))  # fresh statistics, or bulk-loaded tables get seq scans
    from carenet.directory.models import Language, Service

    # SQLite keeps rows in id order: write them in map order so that a city's rows share a
    # few pages (PostgreSQL: CLUSTER below; id ranges then load its batches fastest).
    postgres = conn.dialect.name == "postgresql"
    ids = (
        list(db.session.scalars(select(Service.id).order_by(Service.id)))
        if postgres
        else _ids_in_map_order(conn)
    )
    codes = list(db.session.scalars(select(Language.code).distinct()))
    for start in range(0, len(ids), batch_size):
        _refresh_batch(
            ids[start : start + batch_size], fresh=True, language_codes=codes, contiguous=postgres
        )
        if echo and (start // batch_size) % 50 == 49:
            echo(f"  indexed {start + batch_size} services")
    _bulk_fill_zips(conn)
    if conn.dialect.name == "postgresql":
        # Rows in map order, a category at a time: a search then reads a city's rows from a
        # few pages instead of one page per row (the tables are locked by the TRUNCATE above
        # anyway). A GiST index's order groups rows far less tightly than a geohash.
        _cluster(conn, "search_entry", "category_code, ST_GeoHash(geog::geometry, 10)")
        _cluster(conn, "search_area", f"category_code, ST_GeoHash({OFFICE_POINT_PG}, 10)")
        for table in ("search_entry", "search_area", "search_zip", "search_hours", "search_text"):
            conn.execute(text(f"ANALYZE {table}"))
    else:
        conn.execute(text("ANALYZE"))
    return len(ids)


def _ids_in_map_order(conn: Any) -> list[str]:
    """Every service id, ordered along a Hilbert curve by the service's first location
    (services without one last)."""
    from carenet.directory.models import Location, Service, ServiceAtLocation

    point: dict[str, tuple[Any, Any]] = {}
    rows = conn.execute(
        select(Service.id, Location.latitude, Location.longitude)
        .outerjoin(ServiceAtLocation, ServiceAtLocation.service_id == Service.id)
        .outerjoin(Location, Location.id == ServiceAtLocation.location_id)
        .order_by(Service.id, ServiceAtLocation.id)
    )
    for service_id, latitude, longitude in rows:
        point.setdefault(service_id, (latitude, longitude))
    return sorted(point, key=lambda sid: (hilbert_key(*point[sid]), sid))


OFFICE_POINT_PG = "ST_SetSRID(ST_MakePoint(office_longitude, office_latitude), 4326)"


def _cluster(conn: Any, table: str, order: str) -> None:
    """PostgreSQL: rewrite ``table`` in the order of ``order``, through a passing index."""
    conn.execute(text(f"CREATE INDEX {table}_map_order ON {table} ({order})"))
    conn.execute(text(f"CLUSTER {table} USING {table}_map_order"))
    conn.execute(text(f"DROP INDEX {table}_map_order"))


def _refresh_batch(
    ids: Sequence[str],
    fresh: bool = False,
    language_codes: Sequence[str] | None = None,
    contiguous: bool = False,
) -> None:
    conn = db.session.connection()
    if not fresh:
        _delete_rows(conn, ids)
    batch = load_batch(conn, ids, contiguous=contiguous, language_codes=language_codes)
    categories = _codes(conn, search_category, "slug", batch.category_slugs())
    zones = _codes(conn, search_timezone, "name", batch.timezones())
    first_entry_id = _reserve_ids(conn, "search_entry", batch.entry_count(categories))
    first_area_id = _reserve_ids(conn, "search_area", batch.area_count(categories))
    rows = build_rows(batch, categories, zones, first_entry_id, first_area_id)
    if conn.dialect.name == "postgresql":
        _copy_rows(conn, rows)
    else:
        if rows.entries:
            conn.execute(search_entry.insert(), rows.entries)
        if rows.areas:
            conn.execute(search_area.insert(), rows.areas)
        if rows.hours:
            conn.execute(search_hours.insert(), rows.hours)
        if rows.texts:
            conn.execute(search_text.insert(), rows.texts)
    if rows.areas and not fresh:  # a full rebuild fills search_zip once, at the end
        _fill_zips(conn, rows.areas[0]["id"], rows.areas[-1]["id"])


def _fill_zips(conn: Any, first: int, last: int, in_key_order: bool = False) -> None:
    """``search_zip`` rows of the areas ``first``..``last``, from their ZIP lists;
    ``in_key_order`` appends them in primary-key order (a bulk load, not random inserts)."""
    order = " ORDER BY pc.postcode, a.category_code, a.service_id, a.id" if in_key_order else ""
    conn.execute(
        text(
            "INSERT INTO search_zip (postcode, category_code, service_id, area_id)"  # noqa: S608
            " SELECT pc.postcode, a.category_code, a.service_id, a.id FROM search_area a"
            " JOIN service_area_postcode pc ON pc.service_area_id = a.service_area_id"
            f" WHERE a.id BETWEEN :first AND :last AND a.category_code <> :any{order}"
        ),
        {"first": first, "last": last, "any": ANY_CATEGORY},
    )


def _bulk_fill_zips(conn: Any) -> None:
    """``search_zip`` for every area after a full rebuild: its secondary index dropped, the
    rows appended in key order, the index built once (~9M rows at 1M services)."""
    last = conn.execute(text("SELECT COALESCE(MAX(id), 0) FROM search_area")).scalar()
    indexes = list(search_zip.indexes)
    for index in indexes:
        index.drop(conn)
    _fill_zips(conn, 1, int(last or 0), in_key_order=True)
    for index in indexes:
        index.create(conn)


def _copy_rows(conn: Any, rows: Any) -> None:
    """PostgreSQL: COPY the rows in (many times faster than INSERTs), then take the areas'
    shapes from ``service_area`` in one statement."""
    cursor = conn.connection.dbapi_connection.cursor()

    def copy(table: str, records: list[dict[str, Any]], extra: dict[str, Any] | None = None):
        if not records:
            return
        cols = list(records[0]) + list(extra or {})
        with cursor.copy(f"COPY {table} ({', '.join(cols)}) FROM STDIN") as out:
            for record in records:
                values = [record[c] for c in records[0]]
                if extra:
                    values += [fn(record) for fn in extra.values()]
                out.write_row(values)

    def point(lat: str, lon: str) -> Callable[[dict[str, Any]], str | None]:
        def ewkt(record: dict[str, Any]) -> str | None:
            if record[lat] is None or record[lon] is None:
                return None
            return f"SRID=4326;POINT({record[lon]!r} {record[lat]!r})"

        return ewkt

    copy("search_entry", rows.entries, {"geog": point("latitude", "longitude")})
    copy("search_area", rows.areas, {
        "office_geog": point("office_latitude", "office_longitude"),
        "center_geog": point("center_latitude", "center_longitude"),
    })  # fmt: skip
    copy("search_hours", rows.hours)
    copy("search_text", rows.texts)
    if rows.areas:
        conn.execute(
            text(
                "UPDATE search_area a SET geom = sa.geom FROM service_area sa"
                " WHERE sa.id = a.service_area_id AND a.id BETWEEN :first AND :last"
            ),
            {"first": rows.areas[0]["id"], "last": rows.areas[-1]["id"]},
        )


def _delete_rows(conn: Any, ids: Sequence[str]) -> None:
    any_ids = select(search_entry.c.any_id).where(search_entry.c.service_id.in_(ids))
    conn.execute(search_hours.delete().where(search_hours.c.any_id.in_(any_ids)))
    conn.execute(search_text.delete().where(search_text.c.any_id.in_(any_ids)))
    conn.execute(search_zip.delete().where(search_zip.c.service_id.in_(ids)))
    conn.execute(search_area.delete().where(search_area.c.service_id.in_(ids)))
    conn.execute(search_entry.delete().where(search_entry.c.service_id.in_(ids)))


def _codes(conn: Any, table: Any, column: str, names: set[str]) -> dict[str, int]:
    """Small integer codes for names, adding the missing ones."""
    if not names:
        return {}
    col = table.c[column]
    known = dict(conn.execute(select(col, table.c.id).where(col.in_(sorted(names)))).all())
    for name in sorted(names - set(known)):
        conn.execute(table.insert().values({column: name}))
    if len(known) < len(names):
        known = dict(conn.execute(select(col, table.c.id).where(col.in_(sorted(names)))).all())
    return known


def _reserve_ids(conn: Any, table: str, count: int) -> int:
    """The first of ``count`` consecutive new ids of ``table``.

    SQLite: the writer holds the database lock, so max(id) + 1 is ours. PostgreSQL: a
    transaction-scoped advisory lock serializes concurrent refreshes of the same table.
    """
    if count == 0:
        return 0
    if conn.dialect.name == "postgresql":
        key = 7_340_001 if table == "search_entry" else 7_340_002
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": key})
    current = conn.execute(text(f"SELECT COALESCE(MAX(id), 0) FROM {table}")).scalar()  # noqa: S608
    return int(current or 0) + 1


__all__ = ["BATCH_SIZE", "DirectoryBatch", "rebuild_all", "refresh_services"]
