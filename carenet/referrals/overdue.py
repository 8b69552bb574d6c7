"""Nothing stalls unseen: which open referrals are overdue, and the one-time e-mail about it.

Overdue: still ``requested`` two business days after it was sent, or
``accepted`` with its follow-up date passed (dates in the organization's zone).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, NamedTuple

from flask import current_app
from sqlalchemy import or_, select, update

from carenet.db.types import utcnow
from carenet.extensions import db
from carenet.referrals import notifications
from carenet.referrals.models import Referral
from carenet.referrals.timeutil import business_deadline, local_today

RESPONSE_BUSINESS_DAYS = 2


class Flagged(NamedTuple):
    """A referral and whether it is overdue; unpacks as ``referral, overdue``."""

    referral: Any
    overdue: bool


def zone() -> str:
    """The zone business days are counted in (``CARENET_DEFAULT_TIMEZONE``)."""
    return str(current_app.config.get("DEFAULT_TIMEZONE", "UTC"))


def is_overdue(referral: Any, now: datetime, zone: str = "UTC") -> bool:
    """Pure rule: no response in 2 business days, or accepted and past its follow-up date."""
    if referral.status == "requested":
        return now >= business_deadline(referral.created_at, RESPONSE_BUSINESS_DAYS, zone)
    if referral.status == "accepted" and referral.follow_up_on is not None:
        return local_today(now, zone) > referral.follow_up_on
    return False


def overdue_referrals(now: datetime | None = None, organization_ids: Any = None) -> list[Referral]:
    """Open referrals that are overdue now (optionally only those touching ``organization_ids``)."""
    now = now or utcnow()
    tz = zone()
    # 2 business days are at least 2 calendar days: the index narrows, the rule decides.
    stmt = select(Referral).where(
        or_(
            (Referral.status == "requested") & (Referral.created_at <= now - timedelta(days=2)),
            (Referral.status == "accepted") & (Referral.follow_up_on < local_today(now, tz)),
        )
    )
    if organization_ids is not None:
        orgs = list(organization_ids)
        stmt = stmt.where(
            Referral.sender_organization_id.in_(orgs) | Referral.recipient_organization_id.in_(orgs)
        )
    return [r for r in db.session.scalars(stmt) if is_overdue(r, now, tz)]


def notify_overdue(now: datetime | None = None) -> int:
    """E-mail both sides once per overdue referral; returns how many were announced."""
    announced = 0
    for referral in overdue_referrals(now):
        if referral.overdue_notified_at is not None:
            continue
        claimed = db.session.execute(
            update(Referral)
            .where(Referral.id == referral.id, Referral.overdue_notified_at.is_(None))
            .values(overdue_notified_at=now or utcnow())
            .execution_options(synchronize_session=False)
        )
        if getattr(claimed, "rowcount", 0) == 1:
            notifications.enqueue_overdue(referral)
            announced += 1
        db.session.commit()
    return announced


def sort_overdue_first(referrals: list[Referral], now: datetime | None = None) -> list[Flagged]:
    """(referral, overdue) pairs, overdue first, then newest first."""
    now = now or utcnow()
    tz = zone()
    flagged = [Flagged(r, is_overdue(r, now, tz)) for r in referrals]
    return sorted(flagged, key=lambda pair: (not pair[1], -pair[0].created_at.timestamp()))
