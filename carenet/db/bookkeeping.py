"""Bookkeeping stamps — last sign-in, a token's last use, a session's last activity: they
never fail or slow a request.

``stamp(table, row_id, column, when)`` notes that a row's time column should
read ``when``. It is not part of the request's transaction: in a request the
stamps are written after the response has been sent, together, in one short
writing transaction of their own that waits at most ``LOCK_WAIT_MS`` for the
lock; when the database stays busy (or anything else goes wrong) they are
logged and dropped — the next request stamps again. Outside a request they are
written at once, the same way.

Coalesced: a stamp is skipped when the value the caller read is younger than
``every`` (a minute by default), and the UPDATE itself only overwrites a value
older than that — at most one write per row a minute, however many requests.
``every=None`` writes only into an empty column (e.g. ``ended_at``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import Flask, Response, g, has_request_context
from sqlalchemy import ColumnElement, Table, or_, update
from sqlalchemy.engine import Engine

from carenet.db.engine import short_writing_transaction
from carenet.db.types import as_utc
from carenet.extensions import db

EVERY = timedelta(minutes=1)
LOCK_WAIT_MS = 200  # after the response, but the worker is not free for the next request yet
_PENDING = "carenet_bookkeeping"

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Stamp:
    table: Table
    row_id: Any
    column: str
    when: datetime
    every: timedelta | None = EVERY

    def statement(self) -> Any:
        column = self.table.c[self.column]
        due: ColumnElement[bool] = column.is_(None)
        if self.every is not None:
            due = or_(due, column < self.when - self.every)
        return (
            update(self.table)
            .where(self.table.c.id == self.row_id, due)
            .values({self.column: self.when})
        )


def stamp(
    table: Table,
    row_id: Any,
    column: str,
    when: datetime,
    *,
    previous: datetime | None = None,
    every: timedelta | None = EVERY,
) -> None:
    """Set ``table.column`` of row ``row_id`` to ``when``, outside the caller's transaction.

    ``previous`` is the value the caller read: no write when it is younger than ``every``.
    """
    if previous is not None and (every is None or when - as_utc(previous) < every):
        return
    entry = Stamp(table, row_id, column, when, every)
    if not has_request_context():
        write([entry], db.engine)
        return
    pending: dict[tuple[str, Any, str], Stamp] = g.setdefault(_PENDING, {})
    pending[(table.name, row_id, column)] = entry


def init_app(app: Flask) -> None:
    """Write a request's stamps once its response has been sent."""
    app.after_request(_write_after_response)


def _write_after_response(response: Response) -> Response:
    pending: dict[tuple[str, Any, str], Stamp] = g.pop(_PENDING, {})
    if pending:
        stamps, engine = list(pending.values()), db.engine
        response.call_on_close(lambda: write(stamps, engine))
    return response


def write(stamps: Iterable[Stamp], engine: Engine) -> int:
    """Write ``stamps`` in one short transaction; on any failure log and drop them (0)."""
    stamps = list(stamps)
    try:
        with short_writing_transaction(engine, LOCK_WAIT_MS) as conn:
            for entry in stamps:
                conn.execute(entry.statement())
    except Exception as exc:  # bookkeeping must never become the user's error
        log.warning("dropped %d bookkeeping stamp(s): %s", len(stamps), exc)
        return 0
    return len(stamps)
