"""What FHIR needs that the referral rows do not hold: a ServiceRequest an EHR created before
its Task (``FhirServiceRequest``). Once the Task is created the referral is sent and the
request only keeps its identity and the EHR's coded ``code``; everything else (status,
patient, parties, version) is read from the referral row."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from carenet.db.types import ID, UTCDateTime, new_id, utcnow
from carenet.extensions import Model


class FhirServiceRequest(Model):
    """A ServiceRequest created through FHIR: its own id, the patient, the SDOH ``category``,
    the ``code`` as sent (a CodeableConcept), the need (reasonReference), the consent
    (supportingInfo) and the performing service if given; ``referral_id`` once a Task sent it."""

    __tablename__ = "fhir_service_request"
    __table_args__ = (
        Index("ix_fhir_service_request_referral", "referral_id", unique=True),
        Index("ix_fhir_service_request_patient", "patient_id"),
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    patient_id: Mapped[str] = mapped_column(ID, ForeignKey("patient.id", ondelete="CASCADE"))
    sender_organization_id: Mapped[str] = mapped_column(
        ID, ForeignKey("organization.id", ondelete="CASCADE")
    )
    category: Mapped[str] = mapped_column(String(64))
    code: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    need_id: Mapped[str | None] = mapped_column(ID, ForeignKey("need.id", ondelete="SET NULL"))
    consent_id: Mapped[str | None] = mapped_column(
        ID, ForeignKey("consent.id", ondelete="SET NULL")
    )
    service_id: Mapped[str | None] = mapped_column(
        ID, ForeignKey("service.id", ondelete="SET NULL")
    )
    note: Mapped[str | None] = mapped_column(Text)
    referral_id: Mapped[str | None] = mapped_column(
        ID, ForeignKey("referral.id", ondelete="CASCADE")
    )
    created_by_id: Mapped[str | None] = mapped_column(
        ID, ForeignKey("user_account.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
