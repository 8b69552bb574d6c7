"""Writing transactions that survive lock contention: one helper for every service that needs it.

``run_in_transaction(work)`` runs ``work()`` and commits what it wrote. When the
database refuses because another writer holds the lock — SQLite "database is
locked" / "busy", PostgreSQL serialization failure (SQLSTATE 40001) or deadlock
(40P01) — it rolls back, waits a little (a short, bounded backoff) and runs
``work`` again from the start; so ``work`` re-reads everything it decides on and
never commits itself. Any other error (a domain error among them) rolls back and
propagates. After ``retries`` lock errors in a row the caller gets a 409
``Conflict``.

This is the one place a retried writing transaction starts and ends: making
SQLite writers take the write lock up front (``BEGIN IMMEDIATE``) belongs here
too, before ``work()`` runs.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy.exc import DBAPIError, OperationalError

from carenet.errors import Conflict
from carenet.extensions import db

T = TypeVar("T")

LOCK_RETRIES = 8
BACKOFF_SECONDS = 0.02  # the n-th retry waits n × this ...
BACKOFF_CAP_SECONDS = 0.2  # ... but never longer than this
# PostgreSQL: serialization_failure, deadlock_detected — the transaction may simply be rerun.
RETRYABLE_SQLSTATES = frozenset({"40001", "40P01"})


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


def backoff_seconds(attempt: int) -> float:
    """How long to wait after the ``attempt``-th (0-based) lock error."""
    return min(BACKOFF_SECONDS * (attempt + 1), BACKOFF_CAP_SECONDS)


def run_in_transaction(
    work: Callable[[], T],
    *,
    retries: int = LOCK_RETRIES,
    conflict: str = "The record is being changed by someone else; reload and try again.",
    also_retry: Callable[[Exception], bool] | None = None,
    session: Any = None,
) -> T:
    """Run ``work()`` and commit; on a lock error roll back and run it again (at most ``retries``).

    ``also_retry(exc)`` names further errors after which ``work`` is simply run
    again (rolled back, no wait), e.g. a unique index lost to a concurrent
    writer whose row the next attempt reads. Every error rolls the session back.
    """
    session = session if session is not None else db.session
    for attempt in range(retries):
        try:
            result = work()
            session.commit()
            return result
        except Exception as exc:
            session.rollback()
            if is_lock_error(exc):
                time.sleep(backoff_seconds(attempt))
                continue
            if also_retry is not None and also_retry(exc):
                continue
            raise
    raise Conflict(conflict)
