"""Engine options per backend: SpatiaLite loading for SQLite, lock waits, how transactions begin.

Some Python builds (pyenv's default among them) compile ``sqlite3`` without
extension loading, so SpatiaLite cannot be loaded through it. Then we hand
SQLAlchemy the ``pysqlite3`` module (``pysqlite3-binary`` wheel), which can.

How a transaction begins is decided here, in the "begin" hook: on SQLite a
transaction that will write begins ``BEGIN IMMEDIATE`` (it takes the write lock
up front, waiting up to ``LOCK_WAIT_SECONDS`` for it), every other one a plain
deferred ``BEGIN`` (reads never wait for writers in WAL mode). A deferred
transaction that reads and then writes cannot wait: when another connection
committed in between, SQLite refuses at once ("database is locked",
SQLITE_BUSY_SNAPSHOT). A transaction writes when it was started by
``carenet.db.retry`` (the connection's ``WRITES_OPTION``) or when the request
said so (``expect_writes``: every non-GET request). PostgreSQL needs no such
thing; its lock waits are bounded by ``lock_timeout``.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from types import ModuleType
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import DBAPIError, OperationalError

# How long a statement waits for a lock before the database refuses: SQLite's busy timeout,
# PostgreSQL's lock_timeout. Well under gunicorn's 30 s worker timeout, so a request that
# cannot get a lock is answered (503, carenet.errors) instead of its worker being killed.
LOCK_WAIT_SECONDS = 10
WRITES_OPTION = "carenet_writes"  # execution option: the transaction this connection begins writes
_BEGAN_AS_WRITER = "carenet_began_as_writer"  # in Connection.info: how the open transaction began
_writes_expected: ContextVar[bool] = ContextVar("carenet_writes_expected", default=False)
# PostgreSQL: serialization_failure, deadlock_detected, lock_not_available (lock_timeout):
# the transaction may simply be run again.
RETRYABLE_SQLSTATES = frozenset({"40001", "40P01", "55P03"})


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
        return {"module": sqlite_module(), "connect_args": {"timeout": LOCK_WAIT_SECONDS}}
    lock_timeout = f"-c lock_timeout={LOCK_WAIT_SECONDS * 1000}"
    return {"pool_pre_ping": True, "connect_args": {"options": lock_timeout}}


SQLITE_MMAP_BYTES = 4 << 30  # address space only; pages are read in as they are touched


def expect_writes(expected: bool) -> None:
    """Whether transactions begun from now on in this context (a request) write."""
    _writes_expected.set(expected)


def began_as_writer(connection: Connection) -> bool:
    """Whether the transaction open on ``connection`` began as a writer (see the module)."""
    return bool(connection.info.get(_BEGAN_AS_WRITER))


def is_lock_error(exc: BaseException) -> bool:
    """Whether ``exc`` means "another writer holds the lock; run the transaction again"."""
    if not isinstance(exc, DBAPIError):
        return False
    orig = exc.orig
    sqlstate = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    if sqlstate in RETRYABLE_SQLSTATES:
        return True
    if isinstance(exc, OperationalError):  # SQLite: "database is locked", "database is busy"
        text = str(orig).lower()
        return "locked" in text or "busy" in text
    return False


@contextmanager
def short_writing_transaction(engine: Engine, wait_ms: int) -> Iterator[Connection]:
    """A writing transaction on a connection of its own that waits at most ``wait_ms`` for a
    lock (then the database refuses: the caller drops its writes), committed on leaving."""
    with engine.connect() as conn:
        conn = conn.execution_options(**{WRITES_OPTION: True})
        sqlite = engine.dialect.name == "sqlite"
        if sqlite:  # on the DB-API connection: SQLAlchemy would BEGIN before the pragma
            _busy_timeout(conn, wait_ms)
        try:
            with conn.begin():
                if not sqlite:
                    conn.exec_driver_sql(f"SET LOCAL lock_timeout = {int(wait_ms)}")
                yield conn
        finally:
            if sqlite:
                _busy_timeout(conn, LOCK_WAIT_SECONDS * 1000)


def _busy_timeout(conn: Connection, milliseconds: int) -> None:
    cursor = conn.connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout={int(milliseconds)}")
    finally:
        cursor.close()


def install_connect_hooks(engine: Engine, spatialite_library: str = "mod_spatialite") -> None:
    """Load SpatiaLite and set pragmas on every new SQLite connection; begin transactions as
    readers or writers (module docstring)."""
    if engine.dialect.name != "sqlite":

        @event.listens_for(engine, "begin")
        def _on_begin_elsewhere(conn: Any) -> None:
            conn.info[_BEGAN_AS_WRITER] = _writes(conn)  # the driver itself begins

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
        cursor.execute(f"PRAGMA busy_timeout={LOCK_WAIT_SECONDS * 1000}")
        if cursor.execute("PRAGMA journal_mode").fetchone()[0] != "memory":
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        # Read through a memory map instead of read() calls into a 2 MB page cache: searches
        # and reports touch pages all over a multi-GB file (docs/performance.md).
        cursor.execute(f"PRAGMA mmap_size={SQLITE_MMAP_BYTES}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        writer = _writes(conn)
        conn.info[_BEGAN_AS_WRITER] = writer
        conn.exec_driver_sql("BEGIN IMMEDIATE" if writer else "BEGIN")


def _writes(conn: Connection) -> bool:
    return bool(conn.get_execution_options().get(WRITES_OPTION)) or _writes_expected.get()
