"""Bulk loading of synthetic rows (demo history, benchmarks): where the two backends differ.

PostgreSQL takes rows through ``COPY … FROM STDIN`` (many times faster than
INSERTs) and wants fresh planner statistics after a bulk load; SQLite takes an
``executemany`` and keeps no statistics a load would spoil. Callers ask
``can_copy`` and call ``copy_rows`` or their own INSERT; nothing else in the
loaders looks at the dialect.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import text


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
