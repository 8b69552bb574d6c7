"""The CBO's inbox: the receiving organization's referrals, filtered and a page at a time.

- The overview (``inbox``) shows each section (``INBOX_SECTIONS``: overdue, new, accepted
  and under way, to a waitlisted service) — its first ``INBOX_PREVIEW`` rows and its count.
- A filtered list (``inbox_list``, ``InboxFilter``): one status filter (a section, every
  open referral, or the closed ones), "assigned to me", "unread", paged.
- Each row (``InboxRow``) is the actor's ``ReferralView`` (so the client's name and the need's
  category show only when consent allows: ``service.view_of``) with the per-user unread
  marker (``ReferralRead``) and the assignee (``ReferralAssignment``) — one query each for
  the whole page, whatever its length.
- ``assign`` gives a referral to one staff member of the receiving organization (or takes
  it back); ``mark_read`` is written when a receiving user opens a referral.

A page of the inbox is audited like the other lists: one row per patient whose details it
shows (``service._audited``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import ColumnElement, and_, exists, select
from sqlalchemy.exc import IntegrityError

from carenet.accounts import policy
from carenet.accounts.actor import Actor
from carenet.accounts.models import Membership, User
from carenet.accounts.policy import cbo_orgs
from carenet.audit import service as audit
from carenet.db.paging import Page, PageRequest
from carenet.db.retry import run_in_transaction
from carenet.db.types import utcnow
from carenet.directory.models import CAPACITY_STATUSES, WAITLIST, Service
from carenet.errors import InvalidInput, NotFound
from carenet.extensions import db
from carenet.referrals import capacity, overdue, service
from carenet.referrals.inbox_models import ReferralAssignment, ReferralRead
from carenet.referrals.models import Referral
from carenet.referrals.service import ReferralView
from carenet.referrals.workflow import FINAL_STATUSES, OPEN_STATUSES, RECIPIENT

INBOX_SECTIONS = {
    "overdue": "Overdue",
    "new": "New",
    "accepted": "Accepted",
    "waitlist": "Waitlist",
}
INBOX_PREVIEW = 10  # rows of each section on the overview; the rest on the filtered list
STATUS_FILTERS = {  # the status filter's choices: slug → label
    "open": "All open",
    "new": "New",
    "overdue": "Overdue",
    "accepted": "Accepted or under way",
    "waitlist": "To a waitlisted service",
    "closed": "Closed (done, declined, cancelled)",
}
STAFF_ROLES = ("cbo_staff", "cbo_admin")
_TRUE = {"1", "on", "true", "yes"}


@dataclass(frozen=True)
class InboxFilter:
    status: str = "open"
    mine: bool = False
    unread: bool = False

    @property
    def is_overview(self) -> bool:
        """No filter asked for: the sectioned overview."""
        return self.status == "open" and not self.mine and not self.unread

    def query(self, **override: object) -> dict[str, str]:
        """The filter as query-string arguments (for links and the pager)."""
        values = {"status": self.status, "mine": self.mine, "unread": self.unread, **override}
        return {
            k: ("1" if v is True else str(v)) for k, v in values.items() if v not in (False, "")
        }


def parse_filter(args: Mapping[str, str], status: str | None = None) -> InboxFilter:
    """The filter from a query string; an unknown status is a 400 naming the field."""
    wanted = (status or args.get("status") or "open").strip()
    if wanted not in STATUS_FILTERS:
        raise InvalidInput(
            "No such status filter.", {"status": [f"One of: {', '.join(STATUS_FILTERS)}."]}
        )
    return InboxFilter(
        wanted,
        str(args.get("mine", "")).strip().lower() in _TRUE,
        str(args.get("unread", "")).strip().lower() in _TRUE,
    )


@dataclass(frozen=True)
class Assignee:
    user_id: str
    label: str  # the display name, else the e-mail address


@dataclass(frozen=True)
class InboxRow:
    """One referral in the inbox as the actor sees it."""

    view: ReferralView
    unread: bool
    assignee: Assignee | None
    mine: bool

    @property
    def referral(self) -> Referral:
        return self.view.referral

    @property
    def overdue(self) -> bool:
        return self.view.overdue

    @property
    def stub(self) -> bool:
        return self.view.stub


@dataclass(frozen=True)
class Inbox:
    sections: dict[str, Page[InboxRow]]  # slug (INBOX_SECTIONS) → first rows, count
    services: list[Service]  # the services whose capacity the actor may switch
    capacities: tuple[str, ...] = CAPACITY_STATUSES
    titles: dict[str, str] = field(default_factory=lambda: dict(INBOX_SECTIONS))


def _status_condition(slug: str, now: datetime, waitlisted: list[str]) -> ColumnElement[bool]:
    late = overdue.overdue_clause(now)
    is_open = Referral.status.in_(OPEN_STATUSES)
    conditions: dict[str, ColumnElement[bool]] = {
        "open": is_open,
        "overdue": and_(is_open, late),
        "new": and_(is_open, ~late, Referral.status == "requested"),
        "accepted": and_(is_open, ~late, Referral.status != "requested"),  # and under way
        "waitlist": and_(is_open, Referral.service_id.in_(waitlisted)),  # late or not
        "closed": Referral.status.in_(sorted(FINAL_STATUSES)),
    }
    if slug not in conditions:
        raise NotFound("No such part of the inbox.")
    return conditions[slug]


def _assigned_to(actor: Actor) -> ColumnElement[bool]:
    return exists().where(
        ReferralAssignment.referral_id == Referral.id, ReferralAssignment.user_id == actor.id
    )


def _read_by(actor: Actor) -> ColumnElement[bool]:
    return exists().where(ReferralRead.referral_id == Referral.id, ReferralRead.user_id == actor.id)


def _rows(
    actor: Actor,
    pages: Mapping[str, Page[Referral]],
    now: datetime,
    consent_valid: Callable[[str], bool],
) -> dict[str, Page[InboxRow]]:
    """The pages as the actor sees them (``consent_valid``: the consent looked up once for
    all of them): read markers and assignees looked up once for all of them."""
    ids = [r.id for page in pages.values() for r in page.items]
    read: set[str] = set()
    assignees: dict[str, Assignee] = {}
    if ids:
        read = set(
            db.session.scalars(
                select(ReferralRead.referral_id).where(
                    ReferralRead.user_id == actor.id, ReferralRead.referral_id.in_(ids)
                )
            )
        )
        found = db.session.execute(
            select(ReferralAssignment.referral_id, User.id, User.display_name, User.email)
            .join(User, User.id == ReferralAssignment.user_id)
            .where(ReferralAssignment.referral_id.in_(ids))
        ).tuples()
        assignees = {rid: Assignee(uid, name or email) for rid, uid, name, email in found}

    def row(referral: Referral) -> InboxRow:
        assignee = assignees.get(referral.id)
        return InboxRow(
            service.view_of(actor, referral, now, consent_valid),
            referral.id not in read,
            assignee,
            assignee is not None and assignee.user_id == actor.id,
        )

    return {slug: page.map(row) for slug, page in pages.items()}


def _pages(
    actor: Actor,
    slugs: Iterable[str],
    wanted: PageRequest,
    wanted_filter: InboxFilter = InboxFilter(),
    services: list[Service] | None = None,
) -> dict[str, Page[InboxRow]]:
    """``services``: the actor's organizations' services when already looked up."""
    now = utcnow()
    if services is None:
        services = capacity.services_of_my_organizations(actor)
    waitlisted = [s.id for s in services if s.capacity_status == WAITLIST]
    inbound = service._referrals(actor, "inbound")
    if wanted_filter.mine:
        inbound = inbound.where(_assigned_to(actor))
    if wanted_filter.unread:
        inbound = inbound.where(~_read_by(actor))
    pages = {
        slug: service._page_of(inbound.where(_status_condition(slug, now, waitlisted)), wanted, now)
        for slug in slugs
    }
    detail = {
        "box": "inbound",
        "count": sum(len(p.items) for p in pages.values()),
        "sections": {slug: p.total for slug, p in pages.items()},
        "page": wanted.page,
        "filter": wanted_filter.query(),
    }
    consent_valid = service._consent_lookup(r.patient_id for p in pages.values() for r in p.items)
    service._audited(actor, detail, pages.values(), consent_valid)
    return _rows(actor, pages, now, consent_valid)


def inbox(actor: Actor) -> Inbox:
    """The overview: each section's first ``INBOX_PREVIEW`` rows and its count; "Waitlist"
    holds those to a waitlisted service."""
    services = capacity.services_of_my_organizations(actor)
    sections = _pages(actor, INBOX_SECTIONS, PageRequest(1, INBOX_PREVIEW), services=services)
    return Inbox(sections, services)


def inbox_section(actor: Actor, slug: str, wanted: PageRequest = PageRequest()) -> Page[InboxRow]:
    """One section of the inbox (``INBOX_SECTIONS``), a page of it; unknown section: 404."""
    if slug not in INBOX_SECTIONS:
        raise NotFound("No such part of the inbox.")
    return _pages(actor, [slug], wanted)[slug]


def inbox_list(
    actor: Actor, wanted_filter: InboxFilter, wanted: PageRequest = PageRequest()
) -> Page[InboxRow]:
    """A page of the inbox under a filter (status, assigned to me, unread), overdue first,
    then newest."""
    slug = wanted_filter.status
    return _pages(actor, [slug], wanted, wanted_filter)[slug]


# --- assignment and read markers ----------------------------------------------------


def _receiving(actor: Actor, referral_id: str) -> Referral:
    """A referral the actor's organization received and may respond to (else 404 / 403)."""
    referral = db.session.get(Referral, referral_id)
    if referral is None:
        raise NotFound("No such record.")
    policy.require("view", actor, referral)
    policy.require(RECIPIENT, actor, referral)
    return referral


def staff_of(organization_ids: Iterable[str]) -> list[Assignee]:
    """The active staff (and CBO admins) of these organizations, by name."""
    stmt = (
        select(User.id, User.display_name, User.email)
        .join(Membership, Membership.user_id == User.id)
        .where(
            Membership.organization_id.in_(list(organization_ids)),
            Membership.role.in_(STAFF_ROLES),
            User.active.is_(True),
        )
        .distinct()
    )
    found = [Assignee(uid, name or email) for uid, name, email in db.session.execute(stmt)]
    return sorted(found, key=lambda a: a.label.lower())


def assignable_staff(actor: Actor, referral: Referral) -> list[Assignee]:
    """Whom the actor may assign this referral to: the receiving organization's staff."""
    if not policy.allows(RECIPIENT, actor, referral):
        return []
    return staff_of([referral.recipient_organization_id])


def assignee_of(referral_id: str) -> Assignee | None:
    row = db.session.execute(
        select(User.id, User.display_name, User.email)
        .join(ReferralAssignment, ReferralAssignment.user_id == User.id)
        .where(ReferralAssignment.referral_id == referral_id)
    ).first()
    return None if row is None else Assignee(row[0], row[1] or row[2])


def assign(actor: Actor, referral_id: str, user_id: str | None) -> Assignee | None:
    """Assign a referral to a staff member of the receiving organization (``user_id``), or
    take it back (None). Audited; returns the new assignee."""
    wanted = (user_id or "").strip() or None

    def work() -> Assignee | None:
        referral = _receiving(actor, referral_id)
        current = db.session.get(ReferralAssignment, referral.id)
        if wanted is None:
            if current is not None:
                db.session.delete(current)
            chosen = None
        else:
            staff = {a.user_id: a for a in staff_of([referral.recipient_organization_id])}
            if wanted not in staff:
                raise InvalidInput(
                    "Assign the referral to someone on your organization's staff.",
                    {"assignee": ["Not on the receiving organization's staff."]},
                )
            if current is None:
                db.session.add(
                    ReferralAssignment(
                        referral_id=referral.id,
                        user_id=wanted,
                        assigned_by_id=actor.id,
                        assigned_at=utcnow(),
                    )
                )
            else:
                current.user_id, current.assigned_by_id = wanted, actor.id
                current.assigned_at = utcnow()
            chosen = staff[wanted]
        audit.record(
            actor,
            "referral.assign",
            "referral",
            referral.id,
            {"assignee_id": wanted},
            organization_id=referral.recipient_organization_id,
        )
        return chosen

    return run_in_transaction(
        work,
        also_retry=lambda exc: isinstance(exc, IntegrityError),  # a concurrent first assignment
        conflict="The referral is being assigned by someone else; reload and try again.",
    )


def mark_read(actor: Actor, referral: Referral) -> None:
    """The actor (of the receiving organization) opened the referral: its unread marker goes
    for them. Written once; other readers write nothing."""
    if referral.recipient_organization_id not in cbo_orgs(actor):
        return
    referral_id = referral.id
    seen = db.session.get(ReferralRead, (referral_id, actor.id))
    if seen is not None:
        return

    def work() -> None:
        if db.session.get(ReferralRead, (referral_id, actor.id)) is None:
            db.session.add(
                ReferralRead(referral_id=referral_id, user_id=actor.id, read_at=utcnow())
            )

    run_in_transaction(work, also_retry=lambda exc: isinstance(exc, IntegrityError))
