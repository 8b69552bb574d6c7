"""Sending referrals (consent gate, capacity gate, idempotency) and reading them.

Reading: one referral as its page and the API show it (``open_referral``,
``view_of``), a list for the API (``referral_list``), the coordinator's
``dashboard`` and the CBO's ``inbox`` — all through ``list_referrals``, overdue
first. The moves after sending live in ``workflow.py``; overdue rules in
``overdue.py``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from carenet.accounts import policy
from carenet.accounts.actor import Actor
from carenet.accounts.policy import cbo_orgs, coordinator_orgs
from carenet.audit import service as audit
from carenet.db.retry import run_in_transaction
from carenet.db.types import utcnow
from carenet.directory.models import (
    ASSESSMENT_REQUIRED,
    CAPACITY_STATUSES,
    NO_CAPACITY,
    WAITLIST,
    Service,
)
from carenet.directory.taxonomy import category_for
from carenet.errors import Conflict, InvalidInput, NotFound
from carenet.extensions import db
from carenet.referrals import capacity, notifications, overdue, workflow
from carenet.referrals.consent import has_valid_consent, patients_with_valid_consent
from carenet.referrals.models import Need, Patient, Referral, ReferralEvent
from carenet.referrals.overdue import Flagged
from carenet.referrals.workflow import OPEN_STATUSES, Move


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
        lambda: _try_send(actor, request, key),
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


def _try_send(actor: Actor, request: ReferralRequest, key: str | None) -> ReferralSent:
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
    """One referral the actor may see (others: 404); the read is audited."""
    referral = db.session.get(Referral, referral_id, populate_existing=True)
    if referral is None:
        raise NotFound("No such record.")
    policy.require("view", actor, referral)
    audit.record_read(
        actor, "referral", referral.id, organization_id=referral.recipient_organization_id
    )
    return referral


def patient_details_visible(actor: Actor, referral: Referral) -> bool:
    """Whether the actor may see the patient on this referral (CBO: only under valid consent)."""
    return policy.allows("view_patient_details", actor, referral)


@dataclass(frozen=True)
class ReferralView:
    """A referral as one actor sees it: the patient block or not, their moves, overdue or not."""

    referral: Referral
    patient_visible: bool
    moves: dict[str, Move]  # target status → move, for the buttons and the API
    overdue: bool


def view_of(actor: Actor, referral: Referral, now: datetime | None = None) -> ReferralView:
    """The actor's view of a referral they were allowed to read."""
    return ReferralView(
        referral,
        patient_details_visible(actor, referral),
        workflow.available_moves(actor, referral),
        overdue.is_overdue(referral, now or utcnow(), overdue.zone()),
    )


def open_referral(actor: Actor, referral_id: str) -> ReferralView:
    """One referral for its page or the API: the read is audited; the receiving CBO's first
    read stamps it viewed (and commits, so the referral reloads with ``viewed_at``)."""
    referral = get_referral(actor, referral_id)
    workflow.mark_viewed(actor, referral)
    return view_of(actor, referral)


def list_referrals(
    actor: Actor,
    box: str = "outbound",
    statuses: list[str] | None = None,
    patient_id: str | None = None,
    limit: int = 500,
) -> list[Referral]:
    """The actor's outbound (sent by their care org) or inbound (to their CBO) referrals."""
    policy.require("view", actor, None, "referral")
    if box == "inbound":
        condition = Referral.recipient_organization_id.in_(cbo_orgs(actor))
    elif box == "outbound":
        condition = Referral.sender_organization_id.in_(coordinator_orgs(actor))
    else:
        raise InvalidInput("box is inbound or outbound.", {"box": ["inbound or outbound."]})
    stmt = (
        select(Referral)
        .where(condition)
        .options(
            selectinload(Referral.patient),
            selectinload(Referral.recipient_organization),
            selectinload(Referral.sender_organization),
        )
    )
    if statuses:
        stmt = stmt.where(Referral.status.in_(statuses))
    if patient_id:
        stmt = stmt.where(Referral.patient_id == patient_id)
    referrals = list(db.session.scalars(stmt.order_by(Referral.created_at.desc()).limit(limit)))
    ids = [r.id for r in referrals]
    detail = {"box": box, "count": len(referrals)}
    audit.record_read(actor, "referral", None, action="list", detail=detail)
    if ids:  # the commit expired the page: load it again at once, not one row at a time
        db.session.scalars(stmt.where(Referral.id.in_(ids))).all()
    return referrals


def referral_list(
    actor: Actor,
    box: str = "outbound",
    statuses: list[str] | None = None,
    patient_id: str | None = None,
) -> list[ReferralView]:
    """``list_referrals`` as the actor sees them, overdue first, then newest first.

    Consent is looked up once for the whole page (not once per row).
    """
    referrals = list_referrals(actor, box, statuses, patient_id)
    consent_valid = _consent_lookup(r.patient_id for r in referrals)
    return [
        ReferralView(
            referral,
            policy.patient_details(actor, referral, consent_valid) is policy.Decision.ALLOW,
            workflow.available_moves(actor, referral),
            late,
        )
        for referral, late in overdue.sort_overdue_first(referrals)
    ]


def _consent_lookup(patient_ids: Iterable[str]) -> Callable[[str], bool]:
    """``consent_valid(patient_id)`` for a page: one query, run the first time it is asked."""
    wanted = set(patient_ids)
    found: list[set[str]] = []

    def consent_valid(patient_id: str) -> bool:
        if not found:
            found.append(patients_with_valid_consent(wanted))
        return patient_id in found[0]

    return consent_valid


# --- the coordinator's dashboard and the CBO's inbox ---------------------------------


@dataclass(frozen=True)
class Dashboard:
    rows: list[Flagged]  # open referrals sent by the coordinator's organizations, overdue first
    counts: dict[str, int]  # open status → how many


def dashboard(actor: Actor) -> Dashboard:
    """The coordinator's open referrals, overdue first, counted by status."""
    rows = overdue.sort_overdue_first(list_referrals(actor, "outbound", list(OPEN_STATUSES)))
    counts = {status: sum(1 for r, _ in rows if r.status == status) for status in OPEN_STATUSES}
    return Dashboard(rows, counts)


@dataclass(frozen=True)
class Inbox:
    sections: dict[str, list[Referral]]  # Overdue, New, Accepted (and under way), Waitlist
    services: list[Service]  # the services whose capacity the actor may switch
    capacities: tuple[str, ...] = CAPACITY_STATUSES


def inbox(actor: Actor) -> Inbox:
    """The CBO's open referrals in sections; "Waitlist" holds those to a waitlisted service."""
    rows = overdue.sort_overdue_first(list_referrals(actor, "inbound", list(OPEN_STATUSES)))
    services = capacity.services_of_my_organizations(actor)
    waitlisted = {s.id for s in services if s.capacity_status == WAITLIST}
    sections = {
        "Overdue": [r for r, late in rows if late],
        "New": [r for r, late in rows if not late and r.status == "requested"],
        "Accepted": [r for r, late in rows if not late and r.status != "requested"],
        "Waitlist": [r for r, _ in rows if r.service_id in waitlisted],
    }
    return Inbox(sections, services)
