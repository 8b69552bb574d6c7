"""Keeps the search tables in step with the directory.

Importers and editors call ``refresh_services`` with the ids of services they
changed, in the same transaction as the change, before committing. It reads
the directory with a few set-based queries per batch (no ORM objects) and
rewrites the services' rows of ``search_entry``, ``search_area``,
``search_hours`` and ``search_text`` (see ``models``): ``rows`` shapes them,
``storage`` writes them the backend's way.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from sqlalchemy import select, text

from carenet.db.bulk import among
from carenet.directory.search.models import (
    ANY_CATEGORY,
    search_area,
    search_category,
    search_entry,
    search_hours,
    search_text,
    search_timezone,
    search_zip,
)
from carenet.directory.search.rows import (
    DirectoryBatch,
    build_rows,
    load_batch,
)
from carenet.directory.search.storage import for_dialect
from carenet.extensions import db

BATCH_SIZE = 2000


def refresh_services(service_ids: Iterable[str]) -> None:
    """Rebuild the search rows of these services in the caller's transaction."""
    db.session.flush()  # the caller's pending edits must be visible to the queries below
    ids = sorted({sid for sid in service_ids if sid})
    for start in range(0, len(ids), BATCH_SIZE):
        _refresh_batch(ids[start : start + BATCH_SIZE])


def refresh_loaded(ids: Sequence[str], batch: DirectoryBatch, indexed: Iterable[str]) -> None:
    """Rebuild the search rows of services ``ids`` (sorted) from ``batch``, what
    ``rows.load_batch`` would read of them now (an importer builds it from the rows it has
    just written), in the caller's transaction. ``indexed``: those of ``ids`` that may have
    search rows already (services that existed before); the others have none to delete."""
    conn = db.session.connection()
    stale = sorted(set(indexed) & set(ids))
    if stale:
        _delete_rows(conn, stale)
    _write_batch(conn, batch)


def rebuild_all(echo: Callable[[str], None] | None = None, batch_size: int = BATCH_SIZE) -> int:
    """Rebuild every search row from the directory; returns the number of services indexed."""
    conn = db.session.connection()
    storage = for_dialect(conn.dialect.name)
    storage.clear(conn)
    from carenet.directory.models import Language

    # Services in the order their rows should be stored: map order where the backend keeps
    # rows in id order (SQLite), else id order (PostgreSQL: CLUSTER afterwards).
    ids = storage.service_ids(conn)
    codes = list(db.session.scalars(select(Language.code).distinct()))
    for start in range(0, len(ids), batch_size):
        _refresh_batch(
            ids[start : start + batch_size],
            fresh=True,
            language_codes=codes,
            contiguous=storage.contiguous,
        )
        if echo and (start // batch_size) % 50 == 49:
            echo(f"  indexed {start + batch_size} services")
    _bulk_fill_zips(conn)
    storage.finish_rebuild(conn)
    return len(ids)


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
    _write_batch(conn, batch, fresh)


def _write_batch(conn: Any, batch: DirectoryBatch, fresh: bool = False) -> None:
    """The search rows of ``batch`` shaped and appended (``search_zip`` too unless
    ``fresh``: a full rebuild fills it once, at the end)."""
    categories = _codes(conn, search_category, "slug", batch.category_slugs())
    zones = _codes(conn, search_timezone, "name", batch.timezones())
    first_entry_id = _reserve_ids(conn, "search_entry", batch.entry_count(categories))
    first_area_id = _reserve_ids(conn, "search_area", batch.area_count(categories))
    rows = build_rows(batch, categories, zones, first_entry_id, first_area_id)
    for_dialect(conn.dialect.name).write(conn, rows)
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


def _delete_rows(conn: Any, ids: Sequence[str]) -> None:
    dialect = conn.dialect.name
    any_ids = select(search_entry.c.any_id).where(among(search_entry.c.service_id, ids, dialect))
    conn.execute(search_hours.delete().where(search_hours.c.any_id.in_(any_ids)))
    conn.execute(search_text.delete().where(search_text.c.any_id.in_(any_ids)))
    conn.execute(search_zip.delete().where(among(search_zip.c.service_id, ids, dialect)))
    conn.execute(search_area.delete().where(among(search_area.c.service_id, ids, dialect)))
    conn.execute(search_entry.delete().where(among(search_entry.c.service_id, ids, dialect)))


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

    Once ``storage`` has locked new ids of ``table`` for this transaction (SQLite: the writer
    holds the database lock anyway), max(id) + 1 is ours.
    """
    if count == 0:
        return 0
    for_dialect(conn.dialect.name).lock_new_ids(conn, table)
    current = conn.execute(text(f"SELECT COALESCE(MAX(id), 0) FROM {table}")).scalar()  # noqa: S608
    return int(current or 0) + 1


__all__ = ["BATCH_SIZE", "DirectoryBatch", "rebuild_all", "refresh_loaded", "refresh_services"]
