"""A referral's history and notes: events, the patient's timeline, notes both sides see."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from carenet.accounts import policy
from carenet.accounts.actor import Actor
from carenet.accounts.policy import coordinator_orgs
from carenet.audit import service as audit
from carenet.db.retry import run_in_transaction
from carenet.db.types import as_utc, utcnow
from carenet.errors import InvalidInput, NotAllowed, NotFound
from carenet.extensions import db
from carenet.referrals.models import Patient, Referral, ReferralEvent, ReferralNote
from carenet.referrals.service import ReferralView, get_referral, view_of


@dataclass(frozen=True)
class ShownEvent:
    """One move of a referral as the actor sees it (no note on a stub)."""

    id: int
    from_status: str | None
    to_status: str
    version: int
    actor_email: str | None
    occurred_at: Any
    reason_code: str | None
    note: str | None


def events_of(actor: Actor, referral_id: str) -> list[ShownEvent]:
    """The referral's history as the actor sees it, oldest first (the read is audited)."""
    return events_for(view_of(actor, get_referral(actor, referral_id)))


def events_for(shown: ReferralView) -> list[ShownEvent]:
    """The history of a referral the actor was allowed to read; on a stub without notes."""
    return [
        ShownEvent(
            e.id,
            e.from_status,
            e.to_status,
            e.version,
            e.actor_email,
            e.occurred_at,
            e.reason_code,
            None if shown.stub else e.note,
        )
        for e in history_of(shown.referral)
    ]


def notes_for(shown: ReferralView) -> list[ReferralNote]:
    """The notes of a referral as the actor sees it: none on a stub."""
    return [] if not shown.can_note else notes_of(shown.referral)


def history_of(referral: Referral) -> list[ReferralEvent]:
    """Events of a referral the caller was already allowed to read, oldest first."""
    return list(
        db.session.scalars(
            select(ReferralEvent)
            .where(ReferralEvent.referral_id == referral.id)
            .order_by(ReferralEvent.id)
        )
    )


def patient_history(patient: Patient) -> list[tuple[Any, str, str]]:
    """(when, what, by whom) for a patient's screenings and referral moves, newest first."""
    from carenet.accounts.models import User
    from carenet.referrals.models import Screening

    rows: list[tuple[Any, str, str]] = []
    for screening, email in db.session.execute(
        select(Screening, User.email)
        .outerjoin(User, User.id == Screening.screened_by_id)
        .where(Screening.patient_id == patient.id)
    ):
        found = ", ".join(screening.positive_domains) or "no needs"
        rows.append((screening.screened_at, f"Screened: {found}", email or ""))
    for event, name in db.session.execute(
        select(ReferralEvent, Referral.service_name)
        .join(Referral, Referral.id == ReferralEvent.referral_id)
        .where(Referral.patient_id == patient.id)
    ):
        what = f"Referral to {name}: {event.from_status or 'sent'} → {event.to_status}"
        rows.append((event.occurred_at, what, event.actor_email or ""))
    return sorted(rows, key=lambda row: as_utc(row[0]), reverse=True)


def notes_of(referral: Referral) -> list[ReferralNote]:
    """All notes of a referral (the sending side's view; a CBO's through ``notes_for``)."""
    return list(
        db.session.scalars(
            select(ReferralNote)
            .where(ReferralNote.referral_id == referral.id)
            .order_by(ReferralNote.created_at, ReferralNote.id)
        )
    )


def add_note(actor: Actor, referral_id: str, body: str) -> ReferralNote:
    """A note both sides see; audited."""
    return run_in_transaction(lambda: _add_note(actor, referral_id, body))


def _add_note(actor: Actor, referral_id: str, body: str) -> ReferralNote:
    referral = db.session.get(Referral, referral_id)
    if referral is None:
        raise NotFound("No such record.")
    policy.require("view", actor, referral)
    if not policy.allows("note", actor, referral):  # the receiving CBO on a stub
        raise NotAllowed(
            "The patient's consent is withdrawn: no notes can be added.",
            {"consent": ["Withdrawn."]},
        )
    text = (body or "").strip()
    if not text:
        raise InvalidInput("Write something.", {"body": ["Required."]})
    if len(text) > 5000:
        raise InvalidInput("The note is too long.", {"body": ["At most 5000 characters."]})
    side = (
        referral.sender_organization_id
        if referral.sender_organization_id in coordinator_orgs(actor)
        else referral.recipient_organization_id
    )
    note = ReferralNote(
        referral_id=referral.id,
        author_id=actor.id,
        author_label=actor.label,
        organization_id=side,
        body=text,
        created_at=utcnow(),
    )
    db.session.add(note)
    db.session.flush()
    audit.record(
        actor,
        "create",
        "referral_note",
        note.id,
        {"referral_id": referral.id},
        organization_id=side,
    )
    return note
