"""Nothing stalls unseen: which open referrals are overdue, and the one-time e-mail about it.

Overdue: still ``requested`` two business days after it was sent, or
``accepted`` with its follow-up date passed (dates in the organization's zone).
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from functools import partial
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import ColumnElement, and_, case, or_, select, update

from carenet.db.retry import run_in_transaction
from carenet.db.types import as_utc, utcnow
from carenet.extensions import db
from carenet.referrals import notifications
from carenet.referrals.models import Referral
from carenet.referrals.timeutil import (
    business_deadline,
    is_business_day,
    local_today,
    subtract_business_days,
)

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


def requested_overdue_before(now: datetime, zone: str = "UTC") -> datetime:
    """The instant such that a ``requested`` referral created before it is overdue at ``now``.

    ``is_overdue`` read backwards (the deadline grows with ``created_at``), so lists can
    put overdue first in SQL and page through them; a unit test holds the two together.
    """
    tz = ZoneInfo(zone)
    local = as_utc(now).astimezone(tz)
    if is_business_day(local.date()):
        start = subtract_business_days(local.date(), RESPONSE_BUSINESS_DAYS)
        edge = datetime.combine(start, local.time(), tzinfo=tz) + timedelta(microseconds=1)
    else:  # the weekend: every deadline up to the Friday before has passed, none after
        friday = subtract_business_days(local.date(), 1)
        start = subtract_business_days(friday, RESPONSE_BUSINESS_DAYS)
        edge = datetime.combine(start + timedelta(days=1), time.min, tzinfo=tz)
    return edge.astimezone(UTC)


def overdue_clause(now: datetime | None = None) -> ColumnElement[bool]:
    """SQL for ``is_overdue`` (never NULL, so ``~overdue_clause()`` is its complement)."""
    now = now or utcnow()
    tz = zone()
    return or_(
        and_(
            Referral.status == "requested",
            Referral.created_at < requested_overdue_before(now, tz),
        ),
        and_(
            Referral.status == "accepted",
            Referral.follow_up_on.is_not(None),
            Referral.follow_up_on < local_today(now, tz),
        ),
    )


def overdue_first(now: datetime | None = None) -> tuple[Any, ...]:
    """The lists' order: overdue first, then newest first; ``id`` keeps pages stable."""
    return (
        case((overdue_clause(now), 0), else_=1),
        Referral.created_at.desc(),
        Referral.id.desc(),
    )


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
    for referral_id in [r.id for r in overdue_referrals(now) if r.overdue_notified_at is None]:
        # each claim its own writing transaction: web workers write meanwhile
        if run_in_transaction(partial(_claim_overdue, referral_id, now or utcnow())):
            announced += 1
    return announced


def _claim_overdue(referral_id: str, at: datetime) -> bool:
    claimed = db.session.execute(
        update(Referral)
        .where(Referral.id == referral_id, Referral.overdue_notified_at.is_(None))
        .values(overdue_notified_at=at)
        .execution_options(synchronize_session=False)
    )
    if getattr(claimed, "rowcount", 0) != 1:
        return False  # another worker announced it first
    referral = db.session.get(Referral, referral_id)
    if referral is not None:
        notifications.enqueue_overdue(referral)
    return True


def sort_overdue_first(referrals: list[Referral], now: datetime | None = None) -> list[Flagged]:
    """(referral, overdue) pairs, overdue first, then newest first."""
    now = now or utcnow()
    tz = zone()
    flagged = [Flagged(r, is_overdue(r, now, tz)) for r in referrals]
    return sorted(flagged, key=lambda pair: (not pair[1], -pair[0].created_at.timestamp()))
