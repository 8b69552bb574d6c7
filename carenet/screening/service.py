"""Recording an AHC HRSN screening for a patient and turning positive domains into needs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from carenet.accounts import policy
from carenet.accounts.actor import Actor
from carenet.audit import service as audit
from carenet.db.retry import run_in_transaction
from carenet.db.types import utcnow
from carenet.directory.taxonomy import CATEGORIES, EXTRA_CATEGORY_SLUGS
from carenet.errors import InvalidInput, NotFound
from carenet.extensions import db
from carenet.referrals.models import NEED_STATUSES, Need, Patient, Screening
from carenet.screening import ahc


def category_slugs_for(sdoh_code: str) -> list[str]:
    """The directory categories that answer a need with this SDOH category code."""
    slugs = [c.slug for c in CATEGORIES if c.sdoh_code == sdoh_code]
    return slugs + [s for s in EXTRA_CATEGORY_SLUGS.get(sdoh_code, ()) if s not in slugs]


@dataclass
class ScreeningRecorded:
    screening: Screening
    result: ahc.ScreeningResult
    new_needs: list[Need]
    open_needs: list[Need]


def record_screening(actor: Actor, patient_id: str, answers: dict[str, Any]) -> ScreeningRecorded:
    """Score the answers, store them, and open a need for each positive domain not open yet."""
    return run_in_transaction(lambda: _record_screening(actor, patient_id, answers))


def _record_screening(actor: Actor, patient_id: str, answers: dict[str, Any]) -> ScreeningRecorded:
    patient = db.session.get(Patient, patient_id)
    if patient is None:
        raise NotFound("No such record.")
    policy.require("edit", actor, patient)
    result = ahc.score(answers)
    screening = Screening(
        patient_id=patient.id,
        instrument=ahc.PANEL_CODE,
        answers=result.answers,
        positive_domains=list(result.needs),
        screened_by_id=actor.id,
        screened_at=utcnow(),
    )
    db.session.add(screening)
    db.session.flush()
    already = {
        need.category: need
        for need in db.session.scalars(
            select(Need).where(Need.patient_id == patient.id, Need.status == "open")
        )
    }
    new_needs = []
    for code in result.needs:
        if code not in already:
            need = Need(patient_id=patient.id, screening_id=screening.id, category=code)
            db.session.add(need)
            new_needs.append(need)
    db.session.flush()
    audit.record(
        actor,
        "create",
        "screening",
        screening.id,
        {"patient_id": patient.id, "needs": list(result.needs)},
        organization_id=patient.organization_id,
    )
    open_needs = [already.get(code) or _find(new_needs, code) for code in result.needs]
    return ScreeningRecorded(screening, result, new_needs, [n for n in open_needs if n])


def set_need_status(actor: Actor, need_id: str, status: str) -> Need:
    """Mark a need open, addressed or unmet."""
    return run_in_transaction(lambda: _set_need_status(actor, need_id, status))


def _set_need_status(actor: Actor, need_id: str, status: str) -> Need:
    need = db.session.get(Need, need_id)
    if need is None:
        raise NotFound("No such record.")
    policy.require("edit", actor, need.patient)
    if status not in NEED_STATUSES:
        raise InvalidInput("Unknown need status.", {"status": [f"One of {NEED_STATUSES}."]})
    need.status = status
    need.updated_at = utcnow()
    audit.record(
        actor,
        "update",
        "need",
        need.id,
        {"status": status},
        organization_id=need.patient.organization_id,
    )
    return need


def _find(needs: list[Need], code: str) -> Need | None:
    return next((n for n in needs if n.category == code), None)
