"""The coordinator's morning worklist.

``worklist(actor)`` lists, for the referrals the coordinator sent (``scope="mine"``) or
their organizations sent (``scope="org"``): what the community organizations did since
the coordinator's last visit (moves — accepted, declined, completed … — and notes by
others), the overdue referrals and the follow-ups due today or earlier. Opening it
records the visit (``worklist_visit``) and audits the patients it shows (one INSERT).
Rows are plain ``WorkItem`` values, read before the commits expire the ORM rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Select, and_, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from carenet.accounts import policy
from carenet.accounts.actor import Actor
from carenet.accounts.policy import coordinator_orgs
from carenet.audit import service as audit
from carenet.db.retry import run_in_transaction
from carenet.db.types import as_utc, utcnow
from carenet.extensions import db
from carenet.referrals import overdue
from carenet.referrals.models import Referral, ReferralEvent, ReferralNote, WorklistVisit
from carenet.referrals.timeutil import local_today
from carenet.referrals.workflow import OPEN_STATUSES

FIRST_LOOK_DAYS = 7  # a first visit shows what changed in the last week
LIMIT = 50  # rows per worklist section; the dashboard has the rest
SCOPES = ("mine", "org")
CHANGE_WORDS = {
    "accepted": "accepted",
    "rejected": "declined",
    "in-progress": "started",
    "on-hold": "put on hold",
    "completed": "completed",
    "failed": "could not be completed",
    "cancelled": "cancelled",
    "requested": "sent again",
}


@dataclass(frozen=True)
class WorkItem:
    """One row of the worklist: a referral and, for a change, what happened when."""

    referral_id: str
    patient_id: str
    patient_name: str
    service_name: str
    organization_name: str
    status: str
    follow_up_on: date | None
    what: str = ""  # "accepted", "declined", "note", …
    at: datetime | None = None

    @property
    def kind(self) -> str:
        """A word for styling and filtering: declined, completed, note or response."""
        if self.what in ("declined", "completed", "note"):
            return self.what
        return "response"


@dataclass(frozen=True)
class Worklist:
    since: datetime | None  # the previous visit (None: the first one)
    changes: list[WorkItem]
    overdue: list[WorkItem]
    follow_ups: list[WorkItem]  # follow-up date today or earlier, still open
    today: date
    scope: str


def _scoped(actor: Actor, scope: str) -> Any:
    mine = Referral.sender_organization_id.in_(coordinator_orgs(actor))
    if scope == "org":
        return mine
    return and_(mine, or_(Referral.coordinator_id == actor.id, Referral.coordinator_id.is_(None)))


def _item(referral: Referral, what: str = "", at: datetime | None = None) -> WorkItem:
    return WorkItem(
        referral.id,
        referral.patient_id,
        referral.patient.name,
        referral.service_name,
        referral.recipient_organization.name,
        referral.status,
        referral.follow_up_on,
        what,
        as_utc(at) if at else None,
    )


def _loaded(stmt: Select[Any]) -> Select[Any]:
    return stmt.options(
        selectinload(Referral.patient), selectinload(Referral.recipient_organization)
    )


def _changes(actor: Actor, scope: str, since: datetime) -> list[WorkItem]:
    moves = db.session.execute(
        _loaded(
            select(Referral, ReferralEvent.to_status, ReferralEvent.occurred_at)
            .join(ReferralEvent, ReferralEvent.referral_id == Referral.id)
            .where(
                _scoped(actor, scope),
                ReferralEvent.occurred_at > since,
                ReferralEvent.from_status.is_not(None),
                or_(ReferralEvent.actor_id.is_(None), ReferralEvent.actor_id != actor.id),
            )
            .order_by(ReferralEvent.occurred_at.desc())
            .limit(LIMIT)
        )
    ).all()
    notes = db.session.execute(
        _loaded(
            select(Referral, ReferralNote.created_at)
            .join(ReferralNote, ReferralNote.referral_id == Referral.id)
            .where(
                _scoped(actor, scope),
                ReferralNote.created_at > since,
                or_(ReferralNote.author_id.is_(None), ReferralNote.author_id != actor.id),
            )
            .order_by(ReferralNote.created_at.desc())
            .limit(LIMIT)
        )
    ).all()
    items = [_item(r, CHANGE_WORDS.get(to, to), at) for r, to, at in moves]
    items += [_item(r, "note", at) for r, at in notes]
    items.sort(key=lambda i: i.at or since, reverse=True)
    return items[:LIMIT]


def _open(actor: Actor, scope: str) -> Select[Any]:
    return _loaded(
        select(Referral).where(_scoped(actor, scope), Referral.status.in_(OPEN_STATUSES))
    )


def worklist(actor: Actor, scope: str = "mine", now: datetime | None = None) -> Worklist:
    """The worklist as of ``now``; records the visit and audits the patients shown."""
    policy.require("manage", actor, None, "referral")
    scope = scope if scope in SCOPES else "mine"
    now = now or utcnow()
    visit = db.session.get(WorklistVisit, actor.id)
    since = as_utc(visit.visited_at) if visit else None
    today = local_today(now, overdue.zone())
    late = db.session.scalars(
        _open(actor, scope)
        .where(overdue.overdue_clause(now))
        .order_by(Referral.created_at, Referral.id)
        .limit(LIMIT)
    ).all()
    due = db.session.scalars(
        _open(actor, scope)
        .where(Referral.follow_up_on.is_not(None), Referral.follow_up_on <= today)
        .order_by(Referral.follow_up_on, Referral.id)
        .limit(LIMIT)
    ).all()
    found = Worklist(
        since,
        _changes(actor, scope, since or now - timedelta(days=FIRST_LOOK_DAYS)),
        [_item(r) for r in late],
        [_item(r) for r in due],
        today,
        scope,
    )
    _record_visit(actor, found, now)
    return found


def _record_visit(actor: Actor, shown: Worklist, now: datetime) -> None:
    rows = {i.patient_id: i for i in shown.changes + shown.overdue + shown.follow_ups}
    orgs = coordinator_orgs(actor)
    org = next(iter(sorted(orgs)), None)
    audit.record_disclosures(
        actor,
        "list",
        "referral",
        [audit.Disclosure(pid, i.referral_id, org) for pid, i in rows.items()],
        {"page": "worklist", "count": len(rows)},
    )

    def visit() -> None:
        row = db.session.get(WorklistVisit, actor.id)
        if row is None:
            db.session.add(WorklistVisit(user_id=actor.id, visited_at=now))
        else:
            row.visited_at = now

    # Two tabs opening the worklist at once: the second INSERT loses the key; it updates.
    run_in_transaction(visit, also_retry=lambda exc: isinstance(exc, IntegrityError))
