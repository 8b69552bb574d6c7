"""Patients, consent, needs, screenings, referrals and their history, and the e-mail outbox.

Names follow the SDOH Clinical Care guide (STU 3): a referral is the pair
ServiceRequest + Task, so it carries the Task's ``status``, ``business_status``
and ``status_reason``; a need is a Condition with an SDOH ``category``.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from carenet.db.types import ID, UTCDateTime, new_id, one_of, point_column_type, utcnow
from carenet.directory.models import Organization, Service
from carenet.extensions import Model

REFERRAL_STATUSES = (
    "requested",
    "accepted",
    "rejected",
    "in-progress",
    "on-hold",
    "completed",
    "failed",
    "cancelled",
)
NEED_STATUSES = ("open", "addressed", "unmet")
CONSENT_METHODS = ("verbal", "written", "electronic")
CONSENT_SCOPES = ("share-with-cbo",)
# A consent row is one decision of the patient for a scope: a permit, or a deny (a revocation).
CONSENT_DECISIONS = ("permit", "deny")
OUTBOX_STATUSES = ("pending", "sent", "dead")  # dead: given up after the last attempt


def _big_id() -> Any:
    return BigInteger().with_variant(Integer, "sqlite")


class Patient(Model):
    """A person a care organization serves. Only that organization's coordinators see them."""

    __tablename__ = "patient"
    __table_args__ = (
        Index("ix_patient_identity", "organization_id", "family_name", "given_name", "birth_date"),
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    organization_id: Mapped[str] = mapped_column(
        ID, ForeignKey("organization.id", ondelete="CASCADE")
    )
    given_name: Mapped[str] = mapped_column(String(128))
    family_name: Mapped[str] = mapped_column(String(128))
    birth_date: Mapped[date] = mapped_column(Date)
    phone: Mapped[str | None] = mapped_column(String(64))
    email: Mapped[str | None] = mapped_column(String(255))
    address_1: Mapped[str | None] = mapped_column(String(255))
    city: Mapped[str | None] = mapped_column(String(128))
    state_province: Mapped[str | None] = mapped_column(String(64))
    postal_code: Mapped[str | None] = mapped_column(String(16))
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    geom: Mapped[object | None] = mapped_column(point_column_type(), nullable=True)
    preferred_language: Mapped[str | None] = mapped_column(String(8))
    created_by_id: Mapped[str | None] = mapped_column(
        ID, ForeignKey("user_account.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    organization: Mapped[Organization] = relationship()
    consents: Mapped[list[Consent]] = relationship(  # newest decision first
        back_populates="patient",
        order_by=lambda: [Consent.starts_at.desc(), Consent.recorded_at.desc()],
    )
    needs: Mapped[list[Need]] = relationship(
        back_populates="patient", order_by="Need.created_at.desc()"
    )

    @property
    def name(self) -> str:
        return f"{self.given_name} {self.family_name}"

    @property
    def address_line(self) -> str:
        parts = [
            self.address_1,
            self.city,
            " ".join(filter(None, [self.state_province, self.postal_code])),
        ]
        return ", ".join(p for p in parts if p)


class Consent(Model):
    """One decision of the patient about sharing their details (``scope``), from ``starts_at``.

    ``decision`` is ``permit`` (a consent, until ``expires_at`` if given) or ``deny`` (a
    revocation: ``revokes_id`` names the consent it withdrew). The latest decision of a
    patient for a scope wins (``carenet.referrals.consent``); a revoked permit also carries
    ``revoked_at``. ``historical``: recorded later from a paper form dated ``starts_at``.
    """

    __tablename__ = "consent"
    __table_args__ = (
        CheckConstraint(one_of("method", CONSENT_METHODS), name="ck_consent_method"),
        CheckConstraint(one_of("scope", CONSENT_SCOPES), name="ck_consent_scope"),
        CheckConstraint(one_of("decision", CONSENT_DECISIONS), name="ck_consent_decision"),
        CheckConstraint("expires_at IS NULL OR expires_at > starts_at", name="ck_consent_period"),
        Index("ix_consent_patient_scope", "patient_id", "scope", "starts_at"),
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    patient_id: Mapped[str] = mapped_column(
        ID, ForeignKey("patient.id", ondelete="CASCADE"), index=True
    )
    method: Mapped[str] = mapped_column(String(16))
    scope: Mapped[str] = mapped_column(String(32), default="share-with-cbo")
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    recorded_by_id: Mapped[str | None] = mapped_column(
        ID, ForeignKey("user_account.id", ondelete="SET NULL")
    )
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_by_id: Mapped[str | None] = mapped_column(
        ID, ForeignKey("user_account.id", ondelete="SET NULL")
    )
    revocation_note: Mapped[str | None] = mapped_column(Text)
    decision: Mapped[str] = mapped_column(String(8), default="permit")
    revokes_id: Mapped[str | None] = mapped_column(ID, ForeignKey("consent.id", ondelete="CASCADE"))
    historical: Mapped[bool] = mapped_column(Boolean, default=False)

    patient: Mapped[Patient] = relationship(back_populates="consents")


class Screening(Model):
    """One AHC HRSN screening: the answers as given (LOINC code → answer code) and the result."""

    __tablename__ = "screening"

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    patient_id: Mapped[str] = mapped_column(
        ID, ForeignKey("patient.id", ondelete="CASCADE"), index=True
    )
    instrument: Mapped[str] = mapped_column(String(32), default="96777-8")
    answers: Mapped[dict[str, Any]] = mapped_column(JSON)
    positive_domains: Mapped[list[str]] = mapped_column(JSON)
    screened_by_id: Mapped[str | None] = mapped_column(
        ID, ForeignKey("user_account.id", ondelete="SET NULL")
    )
    screened_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Need(Model):
    """A health-related social need (SDOH category code), open until addressed or unmet."""

    __tablename__ = "need"
    __table_args__ = (
        CheckConstraint(one_of("status", NEED_STATUSES), name="ck_need_status"),
        Index("ix_need_patient_status", "patient_id", "status"),
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    patient_id: Mapped[str] = mapped_column(ID, ForeignKey("patient.id", ondelete="CASCADE"))
    screening_id: Mapped[str | None] = mapped_column(
        ID, ForeignKey("screening.id", ondelete="SET NULL")
    )
    category: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="open")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    patient: Mapped[Patient] = relationship(back_populates="needs")


class Referral(Model):
    """A closed-loop referral: ServiceRequest (what, for whom) + Task (who does it, where it is).

    ``version`` is the optimistic lock: every move is a conditional UPDATE on it.
    """

    __tablename__ = "referral"
    __table_args__ = (
        CheckConstraint(one_of("status", REFERRAL_STATUSES), name="ck_referral_status"),
        CheckConstraint(
            "held_from IS NULL OR held_from IN ('accepted', 'in-progress')",
            name="ck_referral_held_from",
        ),
        Index("ix_referral_idempotency", "sender_organization_id", "idempotency_key", unique=True),
        Index("ix_referral_recipient_status", "recipient_organization_id", "status"),
        Index("ix_referral_sender_status", "sender_organization_id", "status"),
        Index("ix_referral_patient", "patient_id"),
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    patient_id: Mapped[str] = mapped_column(ID, ForeignKey("patient.id", ondelete="CASCADE"))
    need_id: Mapped[str | None] = mapped_column(ID, ForeignKey("need.id", ondelete="SET NULL"))
    category: Mapped[str] = mapped_column(String(64))
    sender_organization_id: Mapped[str] = mapped_column(
        ID, ForeignKey("organization.id", ondelete="CASCADE")
    )
    coordinator_id: Mapped[str | None] = mapped_column(
        ID, ForeignKey("user_account.id", ondelete="SET NULL")
    )
    service_id: Mapped[str | None] = mapped_column(
        ID, ForeignKey("service.id", ondelete="SET NULL")
    )
    service_name: Mapped[str] = mapped_column(String(255))
    recipient_organization_id: Mapped[str] = mapped_column(
        ID, ForeignKey("organization.id", ondelete="CASCADE")
    )
    status: Mapped[str] = mapped_column(String(16), default="requested")
    business_status: Mapped[str | None] = mapped_column(String(32))
    status_reason: Mapped[str | None] = mapped_column(String(32))
    held_from: Mapped[str | None] = mapped_column(String(16))
    version: Mapped[int] = mapped_column(Integer, default=1)
    idempotency_key: Mapped[str | None] = mapped_column(String(255))
    request_fingerprint: Mapped[str | None] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(Text)
    capacity_at_send: Mapped[str | None] = mapped_column(String(40))
    follow_up_on: Mapped[date | None] = mapped_column(Date)
    viewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    outcome: Mapped[str | None] = mapped_column(Text)
    delivered_on: Mapped[date | None] = mapped_column(Date)
    overdue_notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    patient: Mapped[Patient] = relationship()
    need: Mapped[Need | None] = relationship()
    service: Mapped[Service | None] = relationship()
    sender_organization: Mapped[Organization] = relationship(foreign_keys=[sender_organization_id])
    recipient_organization: Mapped[Organization] = relationship(
        foreign_keys=[recipient_organization_id]
    )


class ReferralEvent(Model):
    """One move of a referral. Append-only: triggers refuse UPDATE and DELETE (migration 0004)."""

    __tablename__ = "referral_event"
    __table_args__ = (Index("ix_referral_event_referral", "referral_id", "id"),)

    id: Mapped[int] = mapped_column(_big_id(), primary_key=True, autoincrement=True)
    referral_id: Mapped[str] = mapped_column(ID, ForeignKey("referral.id"))
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    version: Mapped[int] = mapped_column(Integer)
    actor_id: Mapped[str | None] = mapped_column(String(64))
    actor_email: Mapped[str | None] = mapped_column(String(255))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    reason_code: Mapped[str | None] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(Text)


class ReferralNote(Model):
    """A note on a referral, visible to both the sending and the receiving organization."""

    __tablename__ = "referral_note"
    __table_args__ = (Index("ix_referral_note_referral", "referral_id", "created_at"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    referral_id: Mapped[str] = mapped_column(ID, ForeignKey("referral.id", ondelete="CASCADE"))
    author_id: Mapped[str | None] = mapped_column(
        ID, ForeignKey("user_account.id", ondelete="SET NULL")
    )
    author_label: Mapped[str] = mapped_column(String(255))
    organization_id: Mapped[str] = mapped_column(ID)
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class OutboxMessage(Model):
    """An e-mail waiting to go out. Written in the same transaction as the change it reports.

    ``message_id`` is its ``Message-ID`` header, fixed when it is queued and sent on every
    attempt. A worker holds a message while ``lease_until`` is in the future
    (``claimed_by`` names it; after sending, the worker that sent it).
    """

    __tablename__ = "outbox_message"
    __table_args__ = (
        CheckConstraint(one_of("status", OUTBOX_STATUSES), name="ck_outbox_status"),
        Index("ix_outbox_due", "status", "next_attempt_at"),
        Index("ix_outbox_message_id", "message_id", unique=True),
    )

    id: Mapped[int] = mapped_column(_big_id(), primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(32))
    recipient: Mapped[str] = mapped_column(String(255))
    subject: Mapped[str] = mapped_column(String(255))
    body: Mapped[str] = mapped_column(Text)
    referral_id: Mapped[str | None] = mapped_column(ID)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    message_id: Mapped[str] = mapped_column(String(255))
    claimed_by: Mapped[str | None] = mapped_column(String(128))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class WorklistVisit(Model):
    """When a user last opened their worklist: it shows what changed since (migration 0017)."""

    __tablename__ = "worklist_visit"

    user_id: Mapped[str] = mapped_column(
        ID, ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True
    )
    visited_at: Mapped[datetime] = mapped_column(UTCDateTime())
