"""Writing transactions that survive lock contention, and which transactions write.

Two decisions, made here and read by the "begin" hook of ``carenet.db.engine``
(which on SQLite begins a writer with ``BEGIN IMMEDIATE``, taking the write lock
up front, and a reader with a plain deferred ``BEGIN``):

- **per request** (``init_app``): a request whose method is not GET, HEAD or
  OPTIONS is expected to write, so every transaction it begins is a writer —
  a service that commits on its own can never fail on upgrading a read lock.
  GET requests begin readers: searches, pages and reports stay cheap and run
  side by side; a GET that writes (an audit row on reading patient data, a
  referral stamped viewed) writes through ``run_in_transaction``.
- **per service** (``run_in_transaction(work)``): runs ``work()`` in a writing
  transaction and commits what it wrote. When the database refuses because
  another writer holds the lock — SQLite "database is locked" / "busy",
  PostgreSQL serialization failure (40001), deadlock (40P01) or lock timeout
  (55P03) — it rolls back, waits a little (a short, bounded backoff) and runs
  ``work`` again from the start; so ``work`` re-reads everything it decides on
  and never commits itself. Any other error (a domain error among them) rolls
  back and propagates. When the lock cannot be had within the retries (and
  ``LOCK_WAIT_SECONDS`` of trying), the caller gets ``Busy``: 503 with
  Retry-After, never a 500.

A lock error outside ``run_in_transaction`` (a request's own writing transaction
that waited ``LOCK_WAIT_SECONDS`` in vain) is answered 503 too (``carenet.errors``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, request
from sqlalchemy.orm import scoped_session

from carenet.db.engine import (
    LOCK_WAIT_SECONDS,
    RETRYABLE_SQLSTATES,
    WRITES_OPTION,
    began_as_writer,
    expect_writes,
    is_lock_error,
)
from carenet.errors import Busy, Conflict
from carenet.extensions import db

__all__ = [
    "RETRYABLE_SQLSTATES",
    "begin_writing",
    "init_app",
    "is_lock_error",
    "run_in_transaction",
]

T = TypeVar("T")

LOCK_RETRIES = 8
BACKOFF_SECONDS = 0.02  # the n-th retry waits n × this ...
BACKOFF_CAP_SECONDS = 0.2  # ... but never longer than this
READ_ONLY_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def init_app(app: Flask) -> None:
    """Decide per request whether its transactions write; register before anything reads."""
    app.before_request(_expect_writes_unless_read_only)
    app.teardown_request(_forget_expectation)


def _expect_writes_unless_read_only() -> None:
    expect_writes(request.method not in READ_ONLY_METHODS)


def _forget_expectation(_exc: BaseException | None = None) -> None:
    expect_writes(False)


def backoff_seconds(attempt: int) -> float:
    """How long to wait after the ``attempt``-th (0-based) lock error."""
    return min(BACKOFF_SECONDS * (attempt + 1), BACKOFF_CAP_SECONDS)


def begin_writing(session: Any) -> None:
    """Make sure the session's transaction is a writer (``BEGIN IMMEDIATE`` on SQLite).

    A transaction that began as a writer goes on; one that began as a reader is
    committed first (on SQLite it could not turn into a writer safely).
    """
    if session.in_transaction():
        if began_as_writer(session.connection()):
            return
        session.commit()
    session.connection(execution_options={WRITES_OPTION: True})


def run_in_transaction(
    work: Callable[[], T],
    *,
    retries: int = LOCK_RETRIES,
    conflict: str = "The record is being changed by someone else; reload and try again.",
    also_retry: Callable[[Exception], bool] | None = None,
    session: Any = None,
) -> T:
    """Run ``work()`` in a writing transaction and commit; on a lock error roll back and run
    it again (at most ``retries`` times, for at most about ``LOCK_WAIT_SECONDS``).

    ``also_retry(exc)`` names further errors after which ``work`` is simply run
    again (rolled back, no wait), e.g. a unique index lost to a concurrent
    writer whose row the next attempt reads; when those never stop, ``Conflict``.
    Every error rolls the session back. Lock errors that never stop: ``Busy``
    (503, with ``conflict`` as its detail).
    """
    session = session if session is not None else db.session
    if isinstance(session, scoped_session):
        session = session()  # the Session itself: its proxy has no in_transaction()
    give_up_at = time.monotonic() + LOCK_WAIT_SECONDS
    locked = False
    for attempt in range(retries):
        try:
            begin_writing(session)
            result = work()
            session.commit()
            return result
        except Exception as exc:
            session.rollback()
            locked = is_lock_error(exc)
            if locked:
                if time.monotonic() >= give_up_at:
                    break
                time.sleep(backoff_seconds(attempt))
                continue
            if also_retry is not None and also_retry(exc):
                continue
            raise
    if locked:
        raise Busy(conflict)
    raise Conflict(conflict)
