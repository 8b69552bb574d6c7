"""The coordinator's dashboard: the referrals their organizations sent, filtered (status,
mine, overdue, declined), overdue first, a page at a time, counted by status.

Open referrals are always listed; closed ones (declined, completed, cancelled, failed)
stay for ``RECENT_DAYS`` after their last change, so a coordinator sees a decline and can
refer elsewhere. Audited as the other lists: one row per patient the page shows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, func, or_, select

from carenet.accounts import policy
from carenet.accounts.actor import Actor
from carenet.accounts.policy import coordinator_orgs
from carenet.db.paging import Page, PageRequest
from carenet.db.types import utcnow
from carenet.errors import InvalidInput
from carenet.extensions import db
from carenet.referrals import overdue
from carenet.referrals.models import REFERRAL_STATUSES, Referral
from carenet.referrals.overdue import Flagged
from carenet.referrals.service import _audited, _consent_lookup, _page_of, _referrals
from carenet.referrals.workflow import OPEN_STATUSES

RECENT_DAYS = 30
CLOSED_STATUSES = tuple(s for s in REFERRAL_STATUSES if s not in OPEN_STATUSES)
STATUS_CHOICES = ("open", *REFERRAL_STATUSES)  # "open": any open status
STATUS_WORDS = {"rejected": "declined"}  # the word the pages use for a status
TRUE_WORDS = ("1", "true", "on", "yes")


def status_word(status: str) -> str:
    return STATUS_WORDS.get(status, status).replace("-", " ")


@dataclass(frozen=True)
class DashboardFilter:
    status: str | None = None  # None: open, and closed in the last RECENT_DAYS
    mine: bool = False  # only the referrals this coordinator sent
    overdue: bool = False

    @classmethod
    def from_args(cls, args: Any) -> DashboardFilter:
        """The filter a query string asks for; an unknown status is a 400 naming it."""
        status = (args.get("status") or "").strip() or None
        if status == "declined":
            status = "rejected"
        if status is not None and status not in STATUS_CHOICES:
            raise InvalidInput(
                "Unknown status.",
                {"status": ["One of: " + ", ".join(status_word(s) for s in STATUS_CHOICES)]},
            )
        return cls(
            status,
            (args.get("mine") or "").lower() in TRUE_WORDS,
            (args.get("overdue") or "").lower() in TRUE_WORDS,
        )

    @property
    def active(self) -> bool:
        return self != DashboardFilter()


@dataclass(frozen=True)
class Dashboard:
    rows: Page[Flagged]  # the page, overdue first, then newest
    counts: dict[str, int]  # open status → how many (all of them, not only this page)
    recent: dict[str, int]  # closed status → how many in the last RECENT_DAYS
    filters: DashboardFilter


def _visible(now: datetime) -> ColumnElement[bool]:
    """Open, or closed within the last RECENT_DAYS."""
    since = now - timedelta(days=RECENT_DAYS)
    return or_(
        Referral.status.in_(OPEN_STATUSES),
        Referral.updated_at >= since,
    )


def _filtered(actor: Actor, filters: DashboardFilter, now: datetime) -> Select[tuple[Referral]]:
    stmt = _referrals(actor, "outbound").where(_visible(now))
    if filters.mine:
        stmt = stmt.where(Referral.coordinator_id == actor.id)
    if filters.status == "open":
        stmt = stmt.where(Referral.status.in_(OPEN_STATUSES))
    elif filters.status:
        stmt = stmt.where(Referral.status == filters.status)
    if filters.overdue:
        stmt = stmt.where(overdue.overdue_clause(now))
    return stmt


def dashboard(
    actor: Actor, wanted: PageRequest = PageRequest(), filters: DashboardFilter = DashboardFilter()
) -> Dashboard:
    """A page of the coordinator's referrals under ``filters``, overdue first, and the counts
    by status (open: all; closed: the last RECENT_DAYS), with "mine" applied to both."""
    now = utcnow()
    scope = _filtered(actor, DashboardFilter(mine=filters.mine), now)
    by_status = scope.with_only_columns(Referral.status, func.count()).group_by(Referral.status)
    counted = dict(db.session.execute(by_status).tuples().all())
    rows = _page_of(_filtered(actor, filters, now), wanted, now)
    detail = {"box": "outbound", "count": len(rows.items), "page": rows.page, "total": rows.total}
    _audited(actor, detail, [rows], _consent_lookup(r.patient_id for r in rows.items))
    tz = overdue.zone()
    return Dashboard(
        rows.map(lambda r: Flagged(r, overdue.is_overdue(r, now, tz))),
        {status: counted.get(status, 0) for status in OPEN_STATUSES},
        {status: counted.get(status, 0) for status in CLOSED_STATUSES},
        filters,
    )


def open_referral_for(actor: Actor, patient_id: str, service_id: str) -> Referral | None:
    """An open referral of the actor's organizations for this patient to this service (the
    send form warns before a second one), newest first."""
    policy.require("view", actor, None, "referral")
    return db.session.scalar(
        select(Referral)
        .where(
            Referral.sender_organization_id.in_(coordinator_orgs(actor)),
            Referral.patient_id == patient_id,
            Referral.service_id == service_id,
            Referral.status.in_(OPEN_STATUSES),
        )
        .order_by(Referral.created_at.desc())
        .limit(1)
    )
