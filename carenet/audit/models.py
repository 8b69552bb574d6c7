"""The audit table. Rows are only ever inserted: database triggers refuse UPDATE and
DELETE on both backends (see migration 0003; 0013 added columns with plain ADD COLUMN,
keeping them), and the app offers no edit path.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from carenet.db.types import UTCDateTime, utcnow
from carenet.extensions import Model


class AuditEvent(Model):
    __tablename__ = "audit_event"
    __table_args__ = (
        Index("ix_audit_event_occurred_at", "occurred_at"),
        Index("ix_audit_event_object", "object_type", "object_id"),
        Index("ix_audit_event_actor", "actor_id", "occurred_at"),
        Index("ix_audit_event_patient", "patient_id", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # No foreign key: the log outlives the users and objects it names.
    actor_id: Mapped[str | None] = mapped_column(String(64))
    actor_email: Mapped[str | None] = mapped_column(String(255))
    action: Mapped[str] = mapped_column(String(64))
    object_type: Mapped[str] = mapped_column(String(64))
    object_id: Mapped[str | None] = mapped_column(String(64))
    organization_id: Mapped[str | None] = mapped_column(String(64))
    remote_addr: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # The credential the request came with (its row id, never the secret) and its user agent.
    session_id: Mapped[str | None] = mapped_column(String(64))
    token_id: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(255))
    # The patient this row discloses (accounting of disclosures); None for anything else.
    patient_id: Mapped[str | None] = mapped_column(String(64))


class DenialWindow(Model):
    """Anonymous refused requests to PHI routes, counted per address, route and minute.

    The first refusal of a minute writes the ``denied`` audit row; later ones in the same
    minute only add to ``count`` here (``carenet.audit.denials``), so an anonymous flood
    cannot fill the append-only audit table.
    """

    __tablename__ = "audit_denial_window"

    remote_addr: Mapped[str] = mapped_column(String(64), primary_key=True)
    route: Mapped[str] = mapped_column(String(128), primary_key=True)
    window_start: Mapped[datetime] = mapped_column(UTCDateTime(), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=1)
