"""Consent to share a patient's details with community organizations: record, check, revoke."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
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


def _valid_at(moment: datetime) -> Any:
    return (
        (Consent.scope == "share-with-cbo")
        & Consent.revoked_at.is_(None)
        & (Consent.starts_at <= moment)
        & or_(Consent.expires_at.is_(None), Consent.expires_at > moment)
    )


def has_valid_consent(patient_id: str, at: datetime | None = None) -> bool:
    """Whether the patient's consent to share with CBOs holds at ``at`` (default: now)."""
    moment = at or utcnow()
    stmt = select(Consent.id).where(Consent.patient_id == patient_id, _valid_at(moment)).limit(1)
    return db.session.scalar(stmt) is not None


def patients_with_valid_consent(patient_ids: Iterable[str], at: datetime | None = None) -> set[str]:
    """Which of these patients have a valid consent at ``at`` (one query for a whole page)."""
    wanted = set(patient_ids)
    if not wanted:
        return set()
    stmt = select(Consent.patient_id).where(
        Consent.patient_id.in_(sorted(wanted)), _valid_at(at or utcnow())
    )
    return set(db.session.scalars(stmt.distinct()))


def consent_state(consent: Consent, at: datetime | None = None) -> str:
    """``active``, ``pending`` (starts later), ``expired`` or ``revoked``."""
    moment = as_utc(at or utcnow())
    if consent.revoked_at is not None:
        return "revoked"
    if as_utc(consent.starts_at) > moment:
        return "pending"
    if consent.expires_at is not None and as_utc(consent.expires_at) <= moment:
        return "expired"
    return "active"


def record_consent(
    actor: Actor,
    patient_id: str,
    method: str,
    starts_at: datetime | None = None,
    expires_at: datetime | None = None,
    scope: str = "share-with-cbo",
) -> Consent:
    """Record how and when the patient agreed to share their details with CBOs."""
    return run_in_transaction(
        lambda: _record_consent(actor, patient_id, method, starts_at, expires_at, scope)
    )


def _record_consent(
    actor: Actor,
    patient_id: str,
    method: str,
    starts_at: datetime | None = None,
    expires_at: datetime | None = None,
    scope: str = "share-with-cbo",
) -> Consent:
    patient = db.session.get(Patient, patient_id)
    if patient is None:
        raise NotFound("No such record.")
    policy.require("edit", actor, patient)
    if method not in CONSENT_METHODS:
        raise InvalidInput("Unknown consent method.", {"method": ["Unknown consent method."]})
    start = as_utc(starts_at) if starts_at else utcnow()
    if expires_at is not None and as_utc(expires_at) <= start:
        raise InvalidInput(
            "The consent must expire after it starts.",
            {"expires_at": ["Must be after the start."]},
        )
    consent = Consent(
        patient_id=patient.id,
        method=method,
        scope=scope,
        starts_at=start,
        expires_at=as_utc(expires_at) if expires_at else None,
        recorded_by_id=actor.id,
        recorded_at=utcnow(),
    )
    db.session.add(consent)
    db.session.flush()
    audit.record(
        actor,
        "create",
        "consent",
        consent.id,
        {"patient_id": patient.id, "method": method, "scope": scope},
        organization_id=patient.organization_id,
    )
    return consent


def revoke_consent(actor: Actor, consent_id: str, note: str | None = None) -> Consent:
    """Revoke a consent: CBOs lose sight of the patient's details on open referrals at once."""
    return run_in_transaction(lambda: _revoke_consent(actor, consent_id, note))


def _revoke_consent(actor: Actor, consent_id: str, note: str | None = None) -> Consent:
    consent = db.session.get(Consent, consent_id)
    if consent is None:
        raise NotFound("No such record.")
    policy.require("edit", actor, consent.patient)
    if consent.revoked_at is not None:
        raise Conflict("This consent was already revoked.")
    consent.revoked_at = utcnow()
    consent.revoked_by_id = actor.id
    consent.revocation_note = note
    audit.record(
        actor,
        "revoke",
        "consent",
        consent.id,
        {"patient_id": consent.patient_id},
        organization_id=consent.patient.organization_id,
    )
    return consent
