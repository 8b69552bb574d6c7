"""How the search tables are written and kept in shape on each backend — the one place
where building the search index differs between SQLite and PostgreSQL.

``for_dialect(name)`` gives a ``Storage`` with the same methods on both backends;
``index`` uses it and never asks which backend it is.

- PostgreSQL: tables emptied with TRUNCATE, rows written with COPY (many times faster
  than INSERTs), services indexed in id order (id ranges load a batch fastest), then
  rows put in map order by ``CLUSTER`` through a passing geohash index; concurrent
  refreshes serialized by an advisory lock while they take new ids.
- SQLite: rows are kept in id order, so services are indexed in Hilbert-curve order of
  their first location (``carenet.geo.hilbert``) and nearby services get nearby ids;
  the writer holds the database lock, so new ids need no lock of their own.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import select, text

from carenet.db.bulk import insert_rows
from carenet.directory.search.models import (
    search_area,
    search_entry,
    search_hours,
    search_text,
    search_zip,
)
from carenet.directory.search.rows import SearchRows
from carenet.extensions import db
from carenet.geo.hilbert import hilbert_key

OFFICE_POINT_PG = "ST_SetSRID(ST_MakePoint(office_longitude, office_latitude), 4326)"


class Storage:
    """Writing and maintaining the search tables on one backend."""

    name: str
    # A full rebuild indexes services in id order, so a batch is a contiguous id range.
    contiguous: bool

    def clear(self, conn: Any) -> None:
        """Empty every search table (``search_category``/``search_timezone`` codes stay)."""
        raise NotImplementedError

    def service_ids(self, conn: Any) -> list[str]:
        """Every service id, in the order a full rebuild indexes them."""
        raise NotImplementedError

    def write(self, conn: Any, rows: SearchRows) -> None:
        """Append a batch's rows to the search tables."""
        raise NotImplementedError

    def lock_new_ids(self, conn: Any, table: str) -> None:
        """Make this transaction the only one taking new ids of ``table`` until it ends."""

    def finish_rebuild(self, conn: Any) -> None:
        """After a full rebuild: rows in map order where the backend needs it, statistics."""
        raise NotImplementedError

    def settle(self) -> None:
        """Bring the database to rest after a bulk load, as a long time would (the bench
        measures it so)."""
        raise NotImplementedError


class PostgresStorage(Storage):
    name = "postgresql"
    contiguous = True

    def clear(self, conn: Any) -> None:
        conn.execute(
            text("TRUNCATE search_text, search_hours, search_zip, search_area, search_entry")
        )
        conn.execute(text("ANALYZE"))  # fresh statistics, or bulk-loaded tables get seq scans

    def service_ids(self, conn: Any) -> list[str]:
        from carenet.directory.models import Service

        # CLUSTER puts the rows in map order afterwards; id ranges load batches fastest.
        return list(db.session.scalars(select(Service.id).order_by(Service.id)))

    def write(self, conn: Any, rows: SearchRows) -> None:
        """COPY the rows in (many times faster than INSERTs), then take the areas' shapes
        from ``service_area`` in one statement."""
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

    def lock_new_ids(self, conn: Any, table: str) -> None:
        # A transaction-scoped advisory lock serializes concurrent refreshes of the table.
        key = 7_340_001 if table == "search_entry" else 7_340_002
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": key})

    def finish_rebuild(self, conn: Any) -> None:
        # Rows in map order, a category at a time: a search then reads a city's rows from a
        # few pages instead of one page per row (the tables are locked by the TRUNCATE
        # anyway). A GiST index's order groups rows far less tightly than a geohash.
        _cluster(conn, "search_entry", "category_code, ST_GeoHash(geog::geometry, 10)")
        _cluster(conn, "search_area", f"category_code, ST_GeoHash({OFFICE_POINT_PG}, 10)")
        for table in ("search_entry", "search_area", "search_zip", "search_hours", "search_text"):
            conn.execute(text(f"ANALYZE {table}"))

    def settle(self) -> None:
        # Vacuumed (what autovacuum does after a while: the visibility map that index-only
        # scans rely on), with fresh statistics.
        db.session.commit()
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM (ANALYZE)"))


def _cluster(conn: Any, table: str, order: str) -> None:
    """PostgreSQL: rewrite ``table`` in the order of ``order``, through a passing index."""
    conn.execute(text(f"CREATE INDEX {table}_map_order ON {table} ({order})"))
    conn.execute(text(f"CLUSTER {table} USING {table}_map_order"))
    conn.execute(text(f"DROP INDEX {table}_map_order"))


class SqliteStorage(Storage):
    name = "sqlite"
    contiguous = False

    def clear(self, conn: Any) -> None:
        for table in (search_text, search_hours, search_zip, search_area, search_entry):
            conn.execute(table.delete())

    def service_ids(self, conn: Any) -> list[str]:
        """Every service id, ordered along a Hilbert curve by the service's first location
        (services without one last): SQLite keeps rows in id order, so a city's rows then
        share a few pages."""
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

    def write(self, conn: Any, rows: SearchRows) -> None:
        """``executemany`` on the DB-API cursor, statements built once (``carenet.db.bulk``)."""
        insert_rows(conn, search_entry, rows.entries)
        insert_rows(conn, search_area, rows.areas)
        insert_rows(conn, search_hours, rows.hours)
        insert_rows(conn, search_text, rows.texts)

    def finish_rebuild(self, conn: Any) -> None:
        conn.execute(text("ANALYZE"))

    def settle(self) -> None:
        # The write-ahead log folded into the database file.
        db.session.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))


POSTGRES, SQLITE = PostgresStorage(), SqliteStorage()


def for_dialect(name: str) -> Storage:
    """The storage of the SQLAlchemy dialect ``name``: PostgreSQL's for ``postgresql``,
    SQLite's otherwise."""
    return POSTGRES if name == "postgresql" else SQLITE
