"""Bulk loading (the HSDS import, demo history, benchmarks): where the two backends differ.

PostgreSQL takes rows through ``COPY … FROM STDIN`` (many times faster than
INSERTs) and wants fresh planner statistics after a bulk load; SQLite takes an
``executemany`` and keeps no statistics a load would spoil. Callers ask
``can_copy`` and call ``copy_rows`` or their own INSERT, or hand rows as dicts to
``insert_rows``, which picks the way; nothing else in the loaders looks at the
dialect.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import repeat
from operator import itemgetter
from typing import Any

from sqlalchemy import ARRAY, Table, any_, bindparam, literal, text
from sqlalchemy.exc import DBAPIError


def can_copy(conn: Any) -> bool:
    """Whether ``conn`` (a SQLAlchemy connection) takes ``copy_rows`` (PostgreSQL)."""
    return bool(conn.dialect.name == "postgresql")


def copy_rows(conn: Any, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """``COPY table (columns) FROM STDIN`` with ``rows`` (PostgreSQL only, see ``can_copy``)."""
    cursor = conn.connection.dbapi_connection.cursor()
    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def analyze(session: Any) -> None:
    """PostgreSQL: refresh the planner's statistics after a bulk load (commits); SQLite: nothing."""
    if can_copy(session.get_bind()):
        session.execute(text("ANALYZE"))
        session.commit()


@dataclass(frozen=True)
class _InsertPlan:
    """How rows of one table (with one set of keys) go in: SQL, columns, converters."""

    sql: str  # an INSERT, or a COPY … FROM STDIN (PostgreSQL)
    columns: tuple[str, ...]
    processors: tuple[Any, ...]  # the column types' bind processors (None: as is)
    defaults: tuple[tuple[str, Any, bool], ...]  # (column, value or callable, is callable)

    @property
    def copy(self) -> bool:
        return self.sql.startswith("COPY ")


@lru_cache(maxsize=256)
def _plan(table: Table, dialect: Any, keys: frozenset[str], copy: bool) -> _InsertPlan | None:
    """The plan, or None when SQLAlchemy must do it (a SQL default, named parameters)."""
    columns = [c for c in table.columns if c.name in keys or c.default is not None]
    defaults = []
    for column in columns:
        default = column.default
        if column.name in keys or default is None:
            continue
        if not (default.is_scalar or default.is_callable):
            return None
        defaults.append((column.name, getattr(default, "arg", None), bool(default.is_callable)))
    names = tuple(c.name for c in columns)
    if copy:
        sql = f"COPY {table.name} ({', '.join(names)}) FROM STDIN"
    else:
        statement = table.insert().values(
            {c.name: bindparam(c.name, type_=c.type) for c in columns}
        )
        compiled = statement.compile(dialect=dialect)
        if compiled.positiontup is None or tuple(compiled.positiontup) != names:
            return None
        sql = compiled.string
    processors = tuple(c.type._cached_bind_processor(dialect) for c in columns)
    return _InsertPlan(sql, names, processors, tuple(defaults))


@dataclass(frozen=True)
class PreparedRows:
    """Rows of one table ready for the database (``prepare_rows``): the plan and the
    processed values, or the dicts when SQLAlchemy must insert them (``plan`` None)."""

    table: Table
    plan: _InsertPlan | None
    values: Sequence[Any]


def prepare_rows(conn: Any, table: Table, rows: Sequence[dict[str, Any]]) -> PreparedRows:
    """The Python side of ``insert_rows``: the statement and the values in column order."""
    plan = _plan(table, conn.dialect, frozenset(rows[0]), can_copy(conn)) if rows else None
    return PreparedRows(table, plan, _values(plan, rows) if plan else list(rows))


def insert_rows(conn: Any, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """INSERT ``rows`` (dicts with the same keys, named by column) into ``table`` in
    ``conn``'s transaction, as SQLAlchemy's ``conn.execute(table.insert(), rows)`` would
    (column defaults for the columns not given, values through the column types), without
    its per-row work: the statement is built once per table and the rows go to the DB-API
    cursor — COPY on PostgreSQL, ``executemany`` on SQLite."""
    if rows:
        insert_prepared(conn, prepare_rows(conn, table, rows))


def insert_prepared(conn: Any, prepared: PreparedRows) -> None:
    """The database side of ``insert_rows`` (``carenet bench import --floor`` times it)."""
    plan, values = prepared.plan, prepared.values
    if not values:
        return
    if plan is None:
        conn.execute(prepared.table.insert(), list(values))
        return
    cursor = conn.connection.dbapi_connection.cursor()
    dbapi_error = conn.dialect.loaded_dbapi.Error
    try:
        if plan.copy:
            with cursor.copy(plan.sql) as out:
                for row in values:
                    out.write_row(row)
        else:
            cursor.executemany(plan.sql, values)
    except dbapi_error as exc:  # as SQLAlchemy raises it: IntegrityError, OperationalError...
        raise DBAPIError.instance(plan.sql, None, exc, dbapi_error) from exc
    finally:
        cursor.close()


def _values(plan: _InsertPlan, rows: Sequence[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """The rows as tuples in the plan's column order, through the column types' processors;
    the defaults of columns not given are taken once for the call (``now`` is one moment
    for the batch, as PostgreSQL's ``now()`` is for a transaction). Built a column at a
    time (``map`` over the rows, then ``zip``): no Python loop per row and column."""
    constants = {
        name: value(None) if is_callable else value for name, value, is_callable in plan.defaults
    }
    count = len(rows)
    columns: list[Iterable[Any]] = []
    for name, processor in zip(plan.columns, plan.processors, strict=True):
        if name in constants:
            value = constants[name]
            columns.append(repeat(processor(value) if processor else value, count))
        elif processor:
            columns.append(map(_none_once(processor), map(itemgetter(name), rows)))
        else:
            columns.append(map(itemgetter(name), rows))
    return list(zip(*columns, strict=False))


def _none_once(processor: Any) -> Any:
    """``processor`` with its value for None taken once: a JSON column's None is the text
    ``null`` (SQLAlchemy's ``none_as_null`` is off), and most rows of an import have no
    ``hsds_extra`` — one ``json.dumps`` per row saved."""
    try:
        for_none = processor(None)
    except (TypeError, ValueError, AttributeError):
        return processor

    def process(value: Any) -> Any:
        return for_none if value is None else processor(value)

    return process


CHECKPOINT_PAGES = 16384  # 64 MiB of 4 KiB pages


class DeferredCheckpoints:
    """SQLite (WAL mode): while a bulk load runs, the write-ahead log is folded into the
    database file every ``CHECKPOINT_PAGES`` pages instead of SQLite's 1,000 (4 MiB), which
    each batch's commit exceeded: one checkpoint (page copies and two fsyncs) per batch was
    most of its commit time. ``defer(conn)`` once per transaction (per DB-API connection
    it is done once); ``restore()`` at the end puts each connection's setting back and
    checkpoints what is left. Durability is SQLite's with ``synchronous=NORMAL`` in WAL
    mode (``carenet.db.engine``): a commit is not synced on its own, the log is at each
    checkpoint, so after a power cut (not a crash) an import may have to be run again —
    as it may be, its writes are upserts. PostgreSQL: nothing."""

    def __init__(self) -> None:
        self._deferred: dict[int, tuple[Any, int]] = {}

    def defer(self, conn: Any) -> None:
        if conn.dialect.name != "sqlite":
            return
        raw = conn.connection.dbapi_connection
        if id(raw) in self._deferred:
            return
        before = int(raw.execute("PRAGMA wal_autocheckpoint").fetchone()[0])
        raw.execute(f"PRAGMA wal_autocheckpoint={CHECKPOINT_PAGES}")
        self._deferred[id(raw)] = (raw, before)

    def restore(self) -> None:
        deferred, self._deferred = list(self._deferred.values()), {}
        for raw, before in deferred:
            try:
                raw.execute(f"PRAGMA wal_autocheckpoint={int(before)}")
                raw.execute("PRAGMA wal_checkpoint(PASSIVE)")
            except Exception:  # noqa: BLE001, S110 - a connection closed meanwhile keeps nothing
                pass


def among(column: Any, values: Iterable[Any], dialect_name: str) -> Any:
    """``column IN (values)``: on PostgreSQL as ``column = ANY(:array)``, one parameter, so a
    batch's 500 ids are neither rendered as 500 placeholders nor parsed again each time;
    elsewhere (SQLite) the usual expanding ``IN``."""
    items = list(values)
    if dialect_name == "postgresql":
        return column == any_(literal(items, ARRAY(column.type)))
    return column.in_(items)


def in_code_point_order(column: Any, dialect_name: str) -> Any:
    """``column`` to ORDER BY as Python orders strings (by code point), whatever the
    database's default collation: ``COLLATE "C"`` on PostgreSQL (a server set up with an
    ``en_US`` or ICU collation puts ``a-2`` before ``Z-1``); SQLite's default collation
    (BINARY, UTF-8 bytes) already is. Where rows built in Python (an import's search rows)
    must match rows read back in order."""
    return column.collate("C") if dialect_name == "postgresql" else column
