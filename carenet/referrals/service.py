"""Sending referrals (consent gate, capacity gate, idempotency) and reading them.

Reading: one referral as its page and the API show it (``open_referral``,
``view_of``), a page of a list for the API (``referral_list``), the coordinator's
``dashboard`` (``dashboard.py``) and the CBO's inbox (``inbox.py``), built on these helpers — pages
(``carenet.db.paging``) of the policy-scoped query, overdue first in SQL, counted
with ``COUNT``, one audit row per patient a page shows (one INSERT; a page showing none: one
row). The moves after sending live in
``workflow.py``; overdue rules in ``overdue.py``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from carenet.accounts import policy
from carenet.accounts.actor import Actor
from carenet.accounts.policy import cbo_orgs, coordinator_orgs
from carenet.audit import service as audit
from carenet.db.paging import Page, PageRequest, paginate
from carenet.db.retry import run_in_transaction
from carenet.db.types import utcnow
from carenet.directory.models import (
    ASSESSMENT_REQUIRED,
    NO_CAPACITY,
    WAITLIST,
    Service,
)
from carenet.directory.taxonomy import (
    RESTRICTED_CATEGORY_LABEL,
    SENSITIVE_SDOH_CODES,
    category_for,
)
from carenet.errors import Conflict, InvalidInput, NotFound
from carenet.extensions import db
from carenet.referrals import notifications, overdue, workflow
from carenet.referrals.consent import has_valid_consent, patients_with_valid_consent
from carenet.referrals.models import Need, Patient, Referral, ReferralEvent
from carenet.referrals.workflow import Move

FIRST_PAGE = PageRequest()


@dataclass(frozen=True)
class ReferralRequest:
    patient_id: str
    service_id: str
    need_id: str | None = None
    category: str | None = None
    note: str | None = None
    follow_up_on: date | None = None

    def fingerprint(self) -> str:
        body = json.dumps(self.__dict__, sort_keys=True, default=str)
        return hashlib.sha256(body.encode()).hexdigest()


@dataclass
class ReferralSent:
    referral: Referral
    created: bool
    warnings: list[str] = field(default_factory=list)


def send_referral(
    actor: Actor, request: ReferralRequest, idempotency_key: str | None = None
) -> ReferralSent:
    """Send a referral to the organization running a service.

    Refused without valid consent (409) or to a service with no capacity (409);
    a waitlisted service is allowed with a warning. A repeated ``idempotency_key``
    returns the first referral and never makes a second one.
    """
    key = (idempotency_key or "").strip() or None
    if key is not None and len(key) > 255:
        raise InvalidInput("Idempotency-Key is too long.", {"Idempotency-Key": ["At most 255."]})
    return run_in_transaction(
        lambda: add_referral(actor, request, key),
        # A concurrent retry with the same key won the unique index: the next try returns it.
        also_retry=lambda exc: isinstance(exc, IntegrityError) and key is not None,
        conflict="The referral could not be saved; try again.",
    )


def _existing(
    actor: Actor, sender_id: str, key: str, request: ReferralRequest
) -> ReferralSent | None:
    found = db.session.scalar(
        select(Referral).where(
            Referral.sender_organization_id == sender_id, Referral.idempotency_key == key
        )
    )
    if found is None:
        return None
    if found.request_fingerprint != request.fingerprint():
        raise Conflict(
            "This Idempotency-Key was used for a different request.",
            {"Idempotency-Key": ["Already used for a different referral."]},
        )
    return ReferralSent(found, created=False)


def add_referral(actor: Actor, request: ReferralRequest, key: str | None) -> ReferralSent:
    """``send_referral`` inside the caller's transaction (the caller commits or rolls back)."""
    patient = db.session.get(Patient, request.patient_id)
    if patient is None:
        raise NotFound("No such record.", {"patient_id": ["No such patient."]})
    policy.require("send", actor, patient, "referral")
    if key is not None:
        earlier = _existing(actor, patient.organization_id, key, request)
        if earlier is not None:
            return earlier
    service = db.session.get(Service, request.service_id)
    if service is None or service.status != "active":
        raise InvalidInput("No such active service.", {"service_id": ["No such active service."]})
    warnings = _capacity_warnings(service)
    need = _need_of(patient, request.need_id)
    category = _category(request, need, service)
    if not has_valid_consent(patient.id):
        raise Conflict(
            "The patient has no valid consent to share their details with community "
            "organizations. Record consent first.",
            {"consent": ["No valid consent."]},
        )
    now = utcnow()
    referral = Referral(
        patient_id=patient.id,
        need_id=need.id if need else None,
        category=category,
        sender_organization_id=patient.organization_id,
        coordinator_id=actor.id,
        service_id=service.id,
        service_name=service.name,
        recipient_organization_id=service.organization_id,
        status="requested",
        version=1,
        idempotency_key=key,
        request_fingerprint=request.fingerprint() if key else None,
        note=(request.note or "").strip() or None,
        capacity_at_send=service.capacity_status,
        follow_up_on=request.follow_up_on,
        created_at=now,
        updated_at=now,
    )
    db.session.add(referral)
    db.session.flush()
    db.session.add(
        ReferralEvent(
            referral_id=referral.id,
            from_status=None,
            to_status="requested",
            version=1,
            actor_id=actor.id,
            actor_email=actor.email,
            occurred_at=now,
            note=referral.note,
        )
    )
    audit.record(
        actor,
        "create",
        "referral",
        referral.id,
        {"patient_id": patient.id, "service_id": service.id},
        organization_id=patient.organization_id,
        patient_id=patient.id,  # disclosed to the service's organization
    )
    notifications.enqueue_new_referral(referral)
    return ReferralSent(referral, created=True, warnings=warnings)


def _capacity_warnings(service: Service) -> list[str]:
    if service.capacity_status == NO_CAPACITY:
        raise Conflict(
            "This service has no capacity now; choose another.",
            {"service_id": ["The service has no capacity."]},
        )
    if service.capacity_status == WAITLIST:
        return ["This service has a waitlist: the client may wait before being served."]
    if service.capacity_status == ASSESSMENT_REQUIRED:
        return ["This service needs an additional assessment before it can accept the client."]
    return []


def _need_of(patient: Patient, need_id: str | None) -> Need | None:
    if need_id is None:
        return None
    need = db.session.get(Need, need_id)
    if need is None or need.patient_id != patient.id:
        raise InvalidInput("No such need for this patient.", {"need_id": ["Not this patient's."]})
    return need


def _category(request: ReferralRequest, need: Need | None, service: Service) -> str:
    if request.category:
        return request.category
    if need is not None:
        return need.category
    for slug in service.category_slugs:
        category = category_for(slug)
        if category is not None:
            return category.sdoh_code
    raise InvalidInput("Say which need this referral is for.", {"category": ["Required."]})


# --- reading -------------------------------------------------------------------


def get_referral(actor: Actor, referral_id: str) -> Referral:
    """One referral the actor may see (others: 404); the read is audited, as a disclosure of
    the patient when the actor sees the patient's details (not for a stub)."""
    referral = db.session.get(Referral, referral_id, populate_existing=True)
    if referral is None:
        raise NotFound("No such record.")
    policy.require("view", actor, referral)
    shown = patient_details_visible(actor, referral)
    audit.record_read(
        actor,
        "referral",
        referral.id,
        organization_id=_acting_organization(actor, referral),
        patient_id=referral.patient_id if shown else None,
    )
    return referral


def _acting_organization(actor: Actor, referral: Referral) -> str:
    """The organization the actor sees the referral for: the receiving CBO or the sender."""
    if referral.recipient_organization_id in cbo_orgs(actor):
        return referral.recipient_organization_id
    return referral.sender_organization_id


def patient_details_visible(actor: Actor, referral: Referral) -> bool:
    """Whether the actor may see the patient on this referral (CBO: only under valid consent)."""
    return policy.allows("view_patient_details", actor, referral)


@dataclass(frozen=True)
class ReferralView:
    """A referral as one actor sees it — what the API, the pages, the lists and the inbox
    show, read through these fields only: in full, or (``stub``: the receiving CBO while the
    patient's consent is withdrawn) without the patient, free text or a sensitive category,
    with only the closing moves and no notes (docs/security.md, "Consent withdrawn")."""

    referral: Referral
    patient_visible: bool
    moves: dict[str, Move]  # target status → move, for the buttons and the API
    overdue: bool
    stub: bool = False

    @property
    def can_note(self) -> bool:
        return not self.stub

    @property
    def patient(self) -> Patient | None:
        return self.referral.patient if self.patient_visible and not self.stub else None

    @property
    def note(self) -> str | None:
        return None if self.stub else self.referral.note

    @property
    def outcome(self) -> str | None:
        return None if self.stub else self.referral.outcome

    @property
    def need_id(self) -> str | None:
        return None if self.stub else self.referral.need_id

    @property
    def category(self) -> str | None:
        """The SDOH category; ``None`` on a stub when it is sensitive."""
        code = self.referral.category
        return None if self.stub and code in SENSITIVE_SDOH_CODES else code

    @property
    def category_label(self) -> str:
        code = self.category
        return RESTRICTED_CATEGORY_LABEL if code is None else code.replace("-", " ")


def view_of(
    actor: Actor,
    referral: Referral,
    now: datetime | None = None,
    consent_valid: Callable[[str], bool] | None = None,
) -> ReferralView:
    """The actor's view of a referral they were allowed to read: the one place that decides
    (through the policy) what of it they see. A list passes its page's ``consent_valid``."""
    consent_valid = consent_valid or _consent_lookup([referral.patient_id])
    sight = policy.referral_sight(actor, referral, consent_valid)
    return ReferralView(
        referral,
        policy.patient_details(actor, referral, consent_valid) is policy.Decision.ALLOW,
        workflow.available_moves(actor, referral, consent_valid),
        overdue.is_overdue(referral, now or utcnow(), overdue.zone()),
        stub=sight is policy.Sight.STUB,
    )


def _views(actor: Actor, page: Page[Referral], now: datetime) -> Page[ReferralView]:
    """A page of referrals as the actor sees them; the page's consents in one query."""
    consent_valid = _consent_lookup(r.patient_id for r in page.items)
    return page.map(lambda referral: view_of(actor, referral, now, consent_valid))


def open_referral(actor: Actor, referral_id: str) -> ReferralView:
    """One referral for its page or the API: the read is audited; the receiving CBO's first
    read stamps it viewed (and commits, so the referral reloads with ``viewed_at``)."""
    referral = get_referral(actor, referral_id)
    workflow.mark_viewed(actor, referral)
    return view_of(actor, referral)


def _box_condition(actor: Actor, box: str) -> ColumnElement[bool]:
    if box == "inbound":
        return Referral.recipient_organization_id.in_(cbo_orgs(actor))
    if box == "outbound":
        return Referral.sender_organization_id.in_(coordinator_orgs(actor))
    raise InvalidInput("box is inbound or outbound.", {"box": ["inbound or outbound."]})


def _referrals(
    actor: Actor, box: str, statuses: Iterable[str] | None = None, patient_id: str | None = None
) -> Select[tuple[Referral]]:
    """The actor's referrals in ``box`` (the policy's scope), filtered; not yet ordered."""
    policy.require("view", actor, None, "referral")
    stmt = select(Referral).where(_box_condition(actor, box))
    if statuses:
        stmt = stmt.where(Referral.status.in_(list(statuses)))
    if patient_id:
        stmt = stmt.where(Referral.patient_id == patient_id)
    return stmt


def _with_parties(stmt: Select[tuple[Referral]]) -> Select[tuple[Referral]]:
    return stmt.options(
        selectinload(Referral.patient),
        selectinload(Referral.recipient_organization),
        selectinload(Referral.sender_organization),
    )


def _page_of(stmt: Select[tuple[Referral]], wanted: PageRequest, now: datetime) -> Page[Referral]:
    return paginate(_with_parties(stmt).order_by(*overdue.overdue_first(now)), wanted)


def _disclosed(
    actor: Actor, referrals: Iterable[Referral], consent_valid: Callable[[str], bool]
) -> list[audit.Disclosure]:
    """One disclosure per patient whose details the actor sees on these referrals (stubs —
    a CBO's view without valid consent — disclose no one)."""
    by_patient: dict[str, list[Referral]] = {}
    for referral in referrals:
        if policy.patient_details(actor, referral, consent_valid) is policy.Decision.ALLOW:
            by_patient.setdefault(referral.patient_id, []).append(referral)
    return [
        audit.Disclosure(
            patient_id,
            shown[0].id,
            _acting_organization(actor, shown[0]),
            {"referral_ids": [r.id for r in shown]},
        )
        for patient_id, shown in by_patient.items()
    ]


def _audited(
    actor: Actor,
    detail: dict[str, Any],
    pages: Iterable[Page[Referral]],
    consent_valid: Callable[[str], bool] | None,
) -> None:
    """Audit what a page showed, committed: one row per patient shown (``consent_valid``
    given: the page shows patients), else one row; the commit expired the rows, so they are
    loaded again at once (not one row at a time when the template reads them)."""
    items = [r for page in pages for r in page.items]
    ids = {r.id for r in items}  # before the commit expires them
    shown = _disclosed(actor, items, consent_valid) if consent_valid is not None else []
    audit.record_disclosures(actor, "list", "referral", shown, detail)
    if ids:
        db.session.scalars(_with_parties(select(Referral)).where(Referral.id.in_(ids))).all()


def list_referrals(
    actor: Actor,
    box: str = "outbound",
    statuses: list[str] | None = None,
    patient_id: str | None = None,
    wanted: PageRequest = FIRST_PAGE,
) -> Page[Referral]:
    """A page of the actor's outbound (sent by their care org) or inbound (to their CBO)
    referrals, overdue first, then newest; ``total`` counts them all. Audited: a row per
    patient whose details the page shows."""
    return _listed(actor, box, statuses, patient_id, wanted)[0]


def _listed(
    actor: Actor,
    box: str,
    statuses: list[str] | None,
    patient_id: str | None,
    wanted: PageRequest,
) -> tuple[Page[Referral], Callable[[str], bool]]:
    found = _page_of(_referrals(actor, box, statuses, patient_id), wanted, utcnow())
    consent_valid = _consent_lookup(r.patient_id for r in found.items)
    detail = {"box": box, "count": len(found.items), "page": found.page, "total": found.total}
    _audited(actor, detail, [found], consent_valid)
    return found, consent_valid


def referral_list(
    actor: Actor,
    box: str = "outbound",
    statuses: list[str] | None = None,
    patient_id: str | None = None,
    wanted: PageRequest = FIRST_PAGE,
) -> Page[ReferralView]:
    """A page of ``list_referrals`` as the actor sees it, overdue first, then newest first.

    Consent is looked up once for the whole page (not once per row).
    """
    now = utcnow()
    found, consent_valid = _listed(actor, box, statuses, patient_id, wanted)
    return found.map(lambda referral: view_of(actor, referral, now, consent_valid))


def _consent_lookup(patient_ids: Iterable[str]) -> Callable[[str], bool]:
    """``consent_valid(patient_id)`` for a page: one query, run the first time it is asked."""
    wanted = set(patient_ids)
    found: list[set[str]] = []

    def consent_valid(patient_id: str) -> bool:
        if not found:
            found.append(patients_with_valid_consent(wanted))
        return patient_id in found[0]

    return consent_valid


# --- the CBO's inbox (moved to inbox.py); the coordinator's dashboard: dashboard.py --


def inbox(actor: Actor) -> Any:
    """The CBO's inbox overview: moved to ``referrals/inbox.py`` (kept here for callers)."""
    from carenet.referrals import inbox as inbox_module

    return inbox_module.inbox(actor)


def inbox_section(actor: Actor, slug: str, wanted: PageRequest = FIRST_PAGE) -> Any:
    """One section of the CBO's inbox: moved to ``referrals/inbox.py``."""
    from carenet.referrals import inbox as inbox_module

    return inbox_module.inbox_section(actor, slug, wanted)
