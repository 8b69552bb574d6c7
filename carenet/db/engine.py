"""Engine options per backend: SpatiaLite loading for SQLite, nothing special for PostGIS.

Some Python builds (pyenv's default among them) compile ``sqlite3`` without
extension loading, so SpatiaLite cannot be loaded through it. Then we hand
SQLAlchemy the ``pysqlite3`` module (``pysqlite3-binary`` wheel), which can.
"""

from __future__ import annotations

import sqlite3
from types import ModuleType
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url


class SpatiaLiteUnavailable(RuntimeError):
    """Raised when no DB-API module can load the SpatiaLite extension."""


def backend_name(url: str) -> str:
    """``spatialite`` or ``postgis`` for a database URL."""
    backend = make_url(url).get_backend_name()
    if backend == "sqlite":
        return "spatialite"
    if backend in {"postgresql", "postgres"}:
        return "postgis"
    raise ValueError(f"unsupported database backend {backend!r}: use sqlite or postgresql")


def sqlite_module() -> ModuleType:
    """A sqlite3 DB-API module that can load extensions."""
    if hasattr(sqlite3.Connection, "enable_load_extension"):
        return sqlite3
    try:
        from pysqlite3 import dbapi2
    except ImportError as exc:  # pragma: no cover - depends on the machine
        raise SpatiaLiteUnavailable(
            "this Python's sqlite3 cannot load extensions and pysqlite3 is not installed: "
            "pip install pysqlite3-binary"
        ) from exc
    return dbapi2


def engine_options(url: str) -> dict[str, Any]:
    """Options for ``create_engine`` / ``SQLALCHEMY_ENGINE_OPTIONS``."""
    if backend_name(url) == "spatialite":
        return {"module": sqlite_module(), "connect_args": {"timeout": 30}}
    return {"pool_pre_ping": True}


SQLITE_MMAP_BYTES = 4 << 30  # address space only; pages are read in as they are touched


def install_connect_hooks(engine: Engine, spatialite_library: str = "mod_spatialite") -> None:
    """Load SpatiaLite and set pragmas on every new SQLite connection."""
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # pysqlite's own transaction handling breaks SAVEPOINT; let SQLAlchemy emit BEGIN.
        dbapi_conn.isolation_level = None
        dbapi_conn.enable_load_extension(True)
        try:
            dbapi_conn.load_extension(spatialite_library)
        except Exception as exc:
            raise SpatiaLiteUnavailable(
                f"cannot load SpatiaLite ({spatialite_library}): {exc}. "
                "On Debian: apt-get install libsqlite3-mod-spatialite"
            ) from exc
        finally:
            dbapi_conn.enable_load_extension(False)
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        if cursor.execute("PRAGMA journal_mode").fetchone()[0] != "memory":
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        # Read through a memory map instead of read() calls into a 2 MB page cache: searches
        # and reports touch pages all over a multi-GB file (docs/performance.md).
        cursor.execute(f"PRAGMA mmap_size={SQLITE_MMAP_BYTES}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN")
