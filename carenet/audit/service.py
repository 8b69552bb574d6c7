"""Writing and reading the audit log."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from flask import has_request_context, request
from sqlalchemy import select

from carenet.accounts.actor import Actor
from carenet.audit.models import AuditEvent
from carenet.db.paging import Page, PageRequest, paginate
from carenet.db.retry import run_in_transaction
from carenet.db.types import utcnow
from carenet.extensions import db


def _remote_addr() -> str | None:
    return request.remote_addr if has_request_context() else None


def record(
    actor: Actor | None,
    action: str,
    object_type: str,
    object_id: str | None = None,
    detail: dict[str, Any] | None = None,
    organization_id: str | None = None,
) -> AuditEvent:
    """Add an audit row to the current transaction: the caller's commit writes it."""
    signed_in = actor if actor is not None and getattr(actor, "is_authenticated", False) else None
    event = AuditEvent(
        occurred_at=utcnow(),
        actor_id=signed_in.id if signed_in is not None else None,
        actor_email=signed_in.email if signed_in is not None else None,
        action=action,
        object_type=object_type,
        object_id=None if object_id is None else str(object_id),
        organization_id=organization_id,
        remote_addr=_remote_addr(),
        detail=detail,
    )
    db.session.add(event)
    db.session.flush()
    return event


def record_read(
    actor: Actor,
    object_type: str,
    object_id: str | None,
    organization_id: str | None = None,
    *,
    action: str = "read",
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    """Record that ``actor`` read (``action``: or listed, exported) patient data, committed now.

    The row is written in a writing transaction of its own (``run_in_transaction``: the
    reading one is committed first, the write lock taken up front, retried when busy), so
    a GET that reads patient data never fails on a lock; a lock not had ends in 503.
    """
    return run_in_transaction(
        lambda: record(actor, action, object_type, object_id, detail, organization_id)
    )


@dataclass(frozen=True)
class AuditFilter:
    actor: str | None = None  # e-mail, or part of one
    action: str | None = None
    object_type: str | None = None
    object_id: str | None = None
    since: date | None = None
    until: date | None = None  # inclusive


PER_PAGE = 50


def search_events(criteria: AuditFilter, wanted: PageRequest | None = None) -> Page[AuditEvent]:
    """A page of audit rows matching ``criteria``, newest first (``total`` counts them all)."""
    stmt = select(AuditEvent)
    if criteria.actor:
        stmt = stmt.where(AuditEvent.actor_email.ilike(f"%{criteria.actor.strip().lower()}%"))
    if criteria.action:
        stmt = stmt.where(AuditEvent.action == criteria.action)
    if criteria.object_type:
        stmt = stmt.where(AuditEvent.object_type == criteria.object_type)
    if criteria.object_id:
        stmt = stmt.where(AuditEvent.object_id == criteria.object_id)
    if criteria.since:
        stmt = stmt.where(AuditEvent.occurred_at >= _midnight(criteria.since))
    if criteria.until:
        stmt = stmt.where(AuditEvent.occurred_at < _midnight(criteria.until + timedelta(days=1)))
    order = (AuditEvent.occurred_at.desc(), AuditEvent.id.desc())
    return paginate(stmt.order_by(*order), wanted or PageRequest(1, PER_PAGE))


def known_values() -> dict[str, list[str]]:
    """Distinct actions and object types, for the filter form's choices."""
    actions = db.session.scalars(select(AuditEvent.action).distinct().order_by(AuditEvent.action))
    types = db.session.scalars(
        select(AuditEvent.object_type).distinct().order_by(AuditEvent.object_type)
    )
    return {"actions": list(actions), "object_types": list(types)}


def _midnight(day: date) -> datetime:
    from datetime import UTC

    return datetime.combine(day, time.min, tzinfo=UTC)
