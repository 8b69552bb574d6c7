"""Consent to share a patient's details with community organizations: a history of decisions.

Each ``Consent`` row is one decision of the patient for a scope, effective from
``starts_at``: a ``permit`` (until ``expires_at``, if given) or a ``deny`` (a revocation,
which withdraws the permit it names). **The latest decision wins**: sharing is on for a
patient and scope when the latest decision in force is a permit, started and not expired.
A revocation turns sharing off, whatever other consents exist, until a newer consent.

In force at a moment: started by then, and — for a permit — not revoked by then. Latest:
the greatest ``starts_at``, then ``recorded_at``; at a tie a deny wins.

Dates (docs/workflow.md "Consent"): a consent does not start in the future, nor before the
patient was registered unless it is ``historical`` (recorded from a paper form: then
``starts_at`` is the form's date, required, and not before the patient's birth).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select

from carenet.accounts import policy
from carenet.accounts.actor import Actor
from carenet.audit import service as audit
from carenet.db.retry import run_in_transaction
from carenet.db.types import as_utc, utcnow
from carenet.errors import Conflict, InvalidInput, NotFound
from carenet.extensions import db
from carenet.referrals.models import CONSENT_METHODS, Consent, Patient

SHARE_WITH_CBO = "share-with-cbo"
# A start this far ahead of the server's clock still counts as now (clocks of clients differ).
CLOCK_SKEW = timedelta(minutes=5)


def _in_force(moment: datetime) -> Any:
    """Decisions made by ``moment``: started, and a permit not yet revoked then."""
    return (Consent.starts_at <= moment) & or_(
        Consent.decision == "deny", Consent.revoked_at.is_(None), Consent.revoked_at > moment
    )


def _order(row: Any) -> tuple[datetime, datetime, bool]:
    return as_utc(row.starts_at), as_utc(row.recorded_at), row.decision == "deny"


def _latest_per_patient(patient_ids: Iterable[str], moment: datetime, scope: str) -> dict[str, Any]:
    """patient id → the latest decision in force at ``moment`` (one query for them all)."""
    wanted = sorted(set(patient_ids))
    if not wanted:
        return {}
    stmt = select(
        Consent.patient_id,
        Consent.decision,
        Consent.starts_at,
        Consent.recorded_at,
        Consent.expires_at,
    ).where(Consent.patient_id.in_(wanted), Consent.scope == scope, _in_force(moment))
    latest: dict[str, Any] = {}
    for row in db.session.execute(stmt):
        kept = latest.get(row.patient_id)
        if kept is None or _order(row) > _order(kept):
            latest[row.patient_id] = row
    return latest


def _permits(decision: Any, moment: datetime) -> bool:
    if decision is None or decision.decision != "permit":
        return False
    return decision.expires_at is None or as_utc(decision.expires_at) > moment


def patients_with_valid_consent(
    patient_ids: Iterable[str], at: datetime | None = None, scope: str = SHARE_WITH_CBO
) -> set[str]:
    """Which of these patients share ``scope`` at ``at`` (one query for a whole page)."""
    moment = as_utc(at or utcnow())
    latest = _latest_per_patient(patient_ids, moment, scope)
    return {pid for pid, decision in latest.items() if _permits(decision, moment)}


def has_valid_consent(
    patient_id: str, at: datetime | None = None, scope: str = SHARE_WITH_CBO
) -> bool:
    """Whether the patient's latest decision for ``scope`` at ``at`` (default: now) is a
    permit, started and not expired."""
    return patient_id in patients_with_valid_consent([patient_id], at, scope)


def consent_state(consent: Consent, at: datetime | None = None) -> str:
    """This decision on its own: ``revocation`` (a deny), or a permit's ``active``,
    ``pending`` (starts later), ``expired`` or ``revoked``."""
    moment = as_utc(at or utcnow())
    if consent.decision == "deny":
        return "revocation"
    if consent.revoked_at is not None and as_utc(consent.revoked_at) <= moment:
        return "revoked"
    if as_utc(consent.starts_at) > moment:
        return "pending"
    if consent.expires_at is not None and as_utc(consent.expires_at) <= moment:
        return "expired"
    return "active"


def consent_states(consents: Sequence[Consent], at: datetime | None = None) -> list[str]:
    """The states of a patient's decisions (``consent_state``), where an active permit that
    is not the latest decision of its scope is ``superseded``."""
    moment = as_utc(at or utcnow())
    latest: dict[str, Consent] = {}
    for consent in consents:
        if consent_state(consent, moment) in ("active", "expired", "revocation"):
            kept = latest.get(consent.scope)
            if kept is None or _order(consent) > _order(kept):
                latest[consent.scope] = consent
    states = []
    for consent in consents:
        state = consent_state(consent, moment)
        if state == "active" and latest.get(consent.scope) is not consent:
            state = "superseded"
        states.append(state)
    return states


def record_consent(
    actor: Actor,
    patient_id: str,
    method: str,
    starts_at: datetime | None = None,
    expires_at: datetime | None = None,
    scope: str = SHARE_WITH_CBO,
    historical: bool = False,
) -> Consent:
    """Record how and when the patient agreed to share their details (a permit decision)."""
    return run_in_transaction(
        lambda: add_consent(actor, patient_id, method, starts_at, expires_at, scope, historical)
    )


def _start_of(patient: Patient, starts_at: datetime | None, historical: bool) -> datetime:
    """When the consent starts: now by default; refused in the future, and before the
    patient's record unless historical (then the paper form's date, required)."""
    now = utcnow()
    if starts_at is None:
        if historical:
            raise InvalidInput(
                "Give the date of the paper form.",
                {"starts_at": ["Required for a historical consent."]},
            )
        return now
    start = as_utc(starts_at)
    if start > now + CLOCK_SKEW:
        raise InvalidInput(
            "A consent cannot start in the future.", {"starts_at": ["In the future."]}
        )
    if historical:
        if start.date() < patient.birth_date:
            raise InvalidInput(
                "The consent is dated before the patient was born.",
                {"starts_at": ["Before the patient's birth date."]},
            )
        return start
    if start < as_utc(patient.created_at):
        raise InvalidInput(
            "The consent starts before the patient was registered; to record an earlier "
            "paper form, mark it historical.",
            {"starts_at": ["Before the patient's record was created (not historical)."]},
        )
    return start


def add_consent(
    actor: Actor,
    patient_id: str,
    method: str,
    starts_at: datetime | None,
    expires_at: datetime | None,
    scope: str,
    historical: bool,
) -> Consent:
    """``record_consent`` inside the caller's transaction (the caller commits)."""
    patient = db.session.get(Patient, patient_id)
    if patient is None:
        raise NotFound("No such record.")
    policy.require("edit", actor, patient)
    if method not in CONSENT_METHODS:
        raise InvalidInput("Unknown consent method.", {"method": ["Unknown consent method."]})
    start = _start_of(patient, starts_at, historical)
    if expires_at is not None and as_utc(expires_at) <= start:
        raise InvalidInput(
            "The consent must expire after it starts.",
            {"expires_at": ["Must be after the start."]},
        )
    consent = Consent(
        patient_id=patient.id,
        decision="permit",
        method=method,
        scope=scope,
        starts_at=start,
        expires_at=as_utc(expires_at) if expires_at else None,
        historical=historical,
        recorded_by_id=actor.id,
        recorded_at=utcnow(),
    )
    db.session.add(consent)
    db.session.flush()
    detail: dict[str, Any] = {"patient_id": patient.id, "method": method, "scope": scope}
    if historical:
        detail["historical"] = True
    audit.record(
        actor, "create", "consent", consent.id, detail, organization_id=patient.organization_id
    )
    return consent


def revoke_consent(actor: Actor, consent_id: str, note: str | None = None) -> Consent:
    """Revoke a consent: a deny decision, now. Sharing stops at once — CBOs see only the
    stub of the patient's referrals — until a newer consent is recorded."""
    return run_in_transaction(lambda: add_revocation(actor, consent_id, note))


def add_revocation(actor: Actor, consent_id: str, note: str | None = None) -> Consent:
    """``revoke_consent`` inside the caller's transaction (the caller commits)."""
    consent = db.session.get(Consent, consent_id)
    if consent is None:
        raise NotFound("No such record.")
    policy.require("edit", actor, consent.patient)
    if consent.decision != "permit":
        raise Conflict("This is a revocation, not a consent.")
    if consent.revoked_at is not None:
        raise Conflict("This consent was already revoked.")
    now = utcnow()
    consent.revoked_at = now
    consent.revoked_by_id = actor.id
    consent.revocation_note = note
    deny = Consent(
        patient_id=consent.patient_id,
        decision="deny",
        method=consent.method,
        scope=consent.scope,
        starts_at=now,
        revokes_id=consent.id,
        revocation_note=note,
        recorded_by_id=actor.id,
        recorded_at=now,
    )
    db.session.add(deny)
    db.session.flush()
    audit.record(
        actor,
        "revoke",
        "consent",
        consent.id,
        {"patient_id": consent.patient_id, "decision_id": deny.id},
        organization_id=consent.patient.organization_id,
    )
    return consent
