"""Claiming due outbox messages: the one place the outbox differs between the backends.

A claim marks a batch of due messages as held by one worker (``claimed_by``)
until ``lease_until``; a message is due when it is ``pending``, its next attempt
has come and no unexpired lease holds it. Run inside one short transaction
(``run_in_transaction``), committed before any e-mail goes out.

- PostgreSQL: ``SELECT … FOR UPDATE SKIP LOCKED`` picks due rows that no other
  transaction is claiming at this moment, then one ``UPDATE`` sets the lease:
  two workers claim disjoint batches without waiting for each other.
- SQLite (one writer at a time): one conditional
  ``UPDATE … WHERE id IN (due ids) AND (lease_until IS NULL OR lease_until < now)
  RETURNING id``. It is the transaction's first statement, so the write lock is
  taken before anything is read (what ``BEGIN IMMEDIATE`` does: a second worker
  waits for the lock, then sees the first one's lease and claims other rows).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, select, update
from sqlalchemy.orm import Session

from carenet.referrals.models import OutboxMessage


def _due(now: datetime) -> ColumnElement[bool]:
    return and_(
        OutboxMessage.status == "pending",
        OutboxMessage.next_attempt_at <= now,
        lease_free(now),
    )


def lease_free(now: datetime) -> ColumnElement[bool]:
    """No worker holds the message at ``now`` (never claimed, released, or its lease ran out)."""
    return or_(OutboxMessage.lease_until.is_(None), OutboxMessage.lease_until < now)


def claim_due(
    session: Session, worker: str, now: datetime, lease_until: datetime, limit: int
) -> list[int]:
    """Give ``worker`` up to ``limit`` due messages until ``lease_until``; their ids in order."""
    if session.get_bind().dialect.name == "postgresql":
        return _claim_skip_locked(session, worker, now, lease_until, limit)
    return _claim_conditional_update(session, worker, now, lease_until, limit)


def _lease(worker: str, lease_until: datetime) -> dict[str, Any]:
    return {"claimed_by": worker, "lease_until": lease_until}


def _claim_skip_locked(
    session: Session, worker: str, now: datetime, lease_until: datetime, limit: int
) -> list[int]:
    ids = list(
        session.scalars(
            select(OutboxMessage.id)
            .where(_due(now))
            .order_by(OutboxMessage.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )
    if ids:
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(ids))
            .values(**_lease(worker, lease_until))
            .execution_options(synchronize_session=False)
        )
    return ids


def _claim_conditional_update(
    session: Session, worker: str, now: datetime, lease_until: datetime, limit: int
) -> list[int]:
    due_ids = select(OutboxMessage.id).where(_due(now)).order_by(OutboxMessage.id).limit(limit)
    claimed = session.scalars(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(due_ids), lease_free(now))
        .values(**_lease(worker, lease_until))
        .returning(OutboxMessage.id)
        .execution_options(synchronize_session=False)
    )
    return sorted(claimed)
