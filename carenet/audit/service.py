"""Writing and reading the audit log.

Every row carries, besides who/what/when, the credential of the request it was written
in — the ``user_session`` or ``api_token`` row id, never the secret — and the user agent
(at most ``USER_AGENT_LENGTH`` characters). Rows that disclose a patient carry the
patient's id (``patient_id``): one row per patient disclosed, lists included
(``record_disclosures``), which ``carenet audit disclosures`` prints for the patient.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from flask import g, has_request_context, request
from sqlalchemy import insert, select

from carenet.accounts.actor import Actor
from carenet.audit.models import AuditEvent
from carenet.db.paging import Page, PageRequest, paginate
from carenet.db.retry import run_in_transaction
from carenet.db.types import utcnow
from carenet.extensions import db

USER_AGENT_LENGTH = 255
_CREDENTIAL = "carenet_audit_credential"  # in flask.g: ("session" | "token", row id)


def note_credential(kind: str, row_id: str) -> None:
    """Remember for this request's audit rows which credential it came with (the loaders of
    ``carenet.accounts`` call this; a refused token is noted too, for the denial row)."""
    if has_request_context():
        setattr(g, _CREDENTIAL, (kind, row_id))


def _context() -> dict[str, Any]:
    """Where the current request came from: address, credential ids, user agent."""
    if not has_request_context():
        return {"remote_addr": None, "session_id": None, "token_id": None, "user_agent": None}
    kind, row_id = g.get(_CREDENTIAL) or (None, None)
    agent = request.user_agent.string or None
    return {
        "remote_addr": request.remote_addr,
        "session_id": row_id if kind == "session" else None,
        "token_id": row_id if kind == "token" else None,
        "user_agent": agent[:USER_AGENT_LENGTH] if agent else None,
    }


def _values(
    actor: Actor | None,
    action: str,
    object_type: str,
    object_id: str | None,
    detail: dict[str, Any] | None,
    organization_id: str | None,
    patient_id: str | None,
) -> dict[str, Any]:
    signed_in = actor if actor is not None and getattr(actor, "is_authenticated", False) else None
    return {
        "occurred_at": utcnow(),
        "actor_id": signed_in.id if signed_in is not None else None,
        "actor_email": signed_in.email if signed_in is not None else None,
        "action": action,
        "object_type": object_type,
        "object_id": None if object_id is None else str(object_id),
        "organization_id": organization_id,
        "detail": detail,
        "patient_id": patient_id,
        **_context(),
    }


def record(
    actor: Actor | None,
    action: str,
    object_type: str,
    object_id: str | None = None,
    detail: dict[str, Any] | None = None,
    organization_id: str | None = None,
    *,
    patient_id: str | None = None,
    session_id: str | None = None,
) -> AuditEvent:
    """Add an audit row to the current transaction: the caller's commit writes it.

    ``patient_id``: the patient this row discloses (only then). ``session_id``: the session
    the row belongs to when the request's own is not the one (signing in makes it).
    """
    values = _values(actor, action, object_type, object_id, detail, organization_id, patient_id)
    if session_id is not None:
        values.update(session_id=session_id, token_id=None)
    event = AuditEvent(**values)
    db.session.add(event)
    db.session.flush()
    return event


def record_read(
    actor: Actor | None,
    object_type: str,
    object_id: str | None,
    organization_id: str | None = None,
    *,
    action: str = "read",
    detail: dict[str, Any] | None = None,
    patient_id: str | None = None,
) -> AuditEvent:
    """Record that ``actor`` read (``action``: or listed, exported) patient data, committed now.

    The row is written in a writing transaction of its own (``run_in_transaction``: the
    reading one is committed first, the write lock taken up front, retried when busy), so
    a GET that reads patient data never fails on a lock; a lock not had ends in 503.
    """
    return run_in_transaction(
        lambda: record(
            actor, action, object_type, object_id, detail, organization_id, patient_id=patient_id
        )
    )


@dataclass(frozen=True)
class Disclosure:
    """One patient shown: which object showed them and for which organization."""

    patient_id: str
    object_id: str | None
    organization_id: str | None
    detail: dict[str, Any] | None = None


def record_disclosures(
    actor: Actor,
    action: str,
    object_type: str,
    disclosures: Iterable[Disclosure],
    detail: dict[str, Any] | None = None,
) -> int:
    """Record what a page (a list) disclosed, committed now: one row per patient shown,
    all in one INSERT, each with ``detail`` plus the disclosure's own. A page that showed
    no patient (empty, stubs only) still leaves one row, without a patient.

    Returns the number of rows written.
    """
    shown = list(disclosures)

    def rows() -> list[dict[str, Any]]:
        if not shown:
            return [_values(actor, action, object_type, None, detail, None, None)]
        return [
            _values(
                actor,
                action,
                object_type,
                d.object_id,
                {**(detail or {}), **(d.detail or {})},
                d.organization_id,
                d.patient_id,
            )
            for d in shown
        ]

    def work() -> int:
        values = rows()
        db.session.execute(insert(AuditEvent).values(values))
        return len(values)

    return run_in_transaction(work)


def record_denied(
    actor: Actor | None, object_type: str, object_id: str | None, detail: dict[str, Any]
) -> None:
    """Record a refused request (401/403/404) in a short writing transaction of its own."""
    run_in_transaction(lambda: record(actor, "denied", object_type, object_id, detail))


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


def view_log(
    actor: Actor, criteria: AuditFilter, wanted: PageRequest | None = None
) -> Page[AuditEvent]:
    """The audit log as an admin reads it: the viewing itself is recorded first (committed),
    then the page is read — so the log shows its own reading."""
    filters = {k: str(v) for k, v in criteria.__dict__.items() if v is not None}
    page = (wanted or PageRequest(1, PER_PAGE)).page
    record_read(
        actor, "audit_event", None, action="view", detail={"filters": filters, "page": page}
    )
    return search_events(criteria, wanted)


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
