"""The CBO inbox's own rows (migration 0018): who in the receiving organization has a referral
(``ReferralAssignment``, one assignee per referral) and who has read it
(``ReferralRead``, one row per user and referral, written when they open it)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index
from sqlalchemy.orm import Mapped, mapped_column

from carenet.db.types import ID, UTCDateTime, utcnow
from carenet.extensions import Model


class ReferralAssignment(Model):
    """The staff member of the receiving organization a referral is assigned to."""

    __tablename__ = "referral_assignment"
    __table_args__ = (Index("ix_referral_assignment_user", "user_id"),)

    referral_id: Mapped[str] = mapped_column(
        ID, ForeignKey("referral.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[str] = mapped_column(ID, ForeignKey("user_account.id", ondelete="CASCADE"))
    assigned_by_id: Mapped[str | None] = mapped_column(
        ID, ForeignKey("user_account.id", ondelete="SET NULL")
    )
    assigned_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ReferralRead(Model):
    """A user of the receiving organization opened this referral (its unread marker goes)."""

    __tablename__ = "referral_read"

    referral_id: Mapped[str] = mapped_column(
        ID, ForeignKey("referral.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[str] = mapped_column(
        ID, ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True
    )
    read_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
