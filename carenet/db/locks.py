"""Named locks held until the end of the current writing transaction.

``hold(session, *names)`` makes concurrent transactions that name the same lock
run one after the other from that point, so a "count, then decide, then
insert" inside ``run_in_transaction`` cannot be interleaved:

- PostgreSQL: ``pg_advisory_xact_lock(space, hashtext(name))`` for each name, in
  sorted order (two transactions never wait on each other crosswise); released
  at commit or rollback. The two-key form keeps these apart from the one-key
  advisory locks of search and reports.
- SQLite: nothing to do — a writing transaction began with ``BEGIN IMMEDIATE``
  (``carenet.db.retry``) and holds the database's only write lock already.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import text

LOCK_SPACE = 1_372_013  # this module's key space among two-key advisory locks


def hold(session: Any, *names: str) -> None:
    """Take the named locks for the rest of ``session``'s (writing) transaction."""
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        return
    for name in sorted(set(names)):
        connection.execute(
            text("SELECT pg_advisory_xact_lock(:space, hashtext(:name))"),
            {"space": LOCK_SPACE, "name": name},
        )
