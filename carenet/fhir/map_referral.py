"""ServiceRequest, Task (SDOHCC TaskForReferralManagement) and Procedure from one referral as
the actor sees it (``referrals.service.view_of``): the same row the inbox and /api/v1 show.

A stub (the receiving CBO while consent is withdrawn) names no patient (``for``/``subject``
carry only a display), no free text and no sensitive category.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from carenet.fhir.codes import (
    BUSINESS_STATUS_SYSTEM,
    FULFILL,
    RESULTING_ACTIVITY,
    SOCIAL_SERVICE_PROCEDURE,
    STATUS_REASON_SYSTEM,
    sdoh_category,
)
from carenet.fhir.resource import day, drop_empty, instant, meta, ref
from carenet.referrals.service import ReferralView
from carenet.referrals.workflow import REASONS

WITHHELD = {"display": "Withheld: the patient's consent to share is withdrawn"}
SERVICE_REQUEST_STATUS = {
    "requested": "active",
    "accepted": "active",
    "in-progress": "active",
    "on-hold": "on-hold",
    "completed": "completed",
    "rejected": "revoked",
    "failed": "revoked",
    "cancelled": "revoked",
}
BUSINESS_STATUS_TEXT = {
    "viewed": "Viewed by the receiving organization",
    "accepted": "Accepted",
    "service-delivered": "Service delivered",
}


@dataclass(frozen=True)
class ReferralFacts:
    """What the mapping needs besides the view: the ServiceRequest's id (a FHIR-created request
    keeps its own), its coded ``code`` as the EHR sent it, and the consent it rests on."""

    service_request_id: str
    code: dict[str, Any] | None
    consent_id: str | None


def _patient(shown: ReferralView) -> dict[str, Any]:
    patient = shown.patient
    if patient is None:
        return dict(WITHHELD)
    return ref("Patient", patient.id, patient.name)


def _categories(shown: ReferralView) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = [{"coding": [SOCIAL_SERVICE_PROCEDURE]}]
    if shown.category:
        found.append(sdoh_category(shown.category))
    return found


def _code(shown: ReferralView, facts: ReferralFacts) -> dict[str, Any]:
    if facts.code and not shown.stub:
        return facts.code
    return {"text": shown.referral.service_name}


def service_request_resource(shown: ReferralView, facts: ReferralFacts) -> dict[str, Any]:
    referral = shown.referral
    performer = [ref("Organization", referral.recipient_organization_id)]
    if referral.service_id:
        performer.append(ref("HealthcareService", referral.service_id, referral.service_name))
    return drop_empty(
        {
            "resourceType": "ServiceRequest",
            "id": facts.service_request_id,
            "meta": meta("ServiceRequest", referral.updated_at, referral.version),
            "status": SERVICE_REQUEST_STATUS[referral.status],
            "intent": "order",
            "category": _categories(shown),
            "code": _code(shown, facts),
            "subject": _patient(shown),
            "authoredOn": instant(referral.created_at),
            "requester": ref("Organization", referral.sender_organization_id),
            "performer": performer,
            "reasonReference": [ref("Condition", shown.need_id)] if shown.need_id else None,
            "supportingInfo": (
                [ref("Consent", facts.consent_id)] if facts.consent_id and not shown.stub else None
            ),
            "note": [{"text": shown.note}] if shown.note else None,
        }
    )


def _business_status(shown: ReferralView) -> dict[str, Any] | None:
    code = shown.referral.business_status
    if not code:
        return None
    return {
        "coding": [{"system": BUSINESS_STATUS_SYSTEM, "code": code}],
        "text": BUSINESS_STATUS_TEXT.get(code, code),
    }


def _status_reason(shown: ReferralView) -> dict[str, Any] | None:
    code = shown.referral.status_reason
    if not code:
        return None
    display = REASONS.get(code, code)
    return {"coding": [{"system": STATUS_REASON_SYSTEM, "code": code, "display": display}]}


def task_resource(shown: ReferralView, facts: ReferralFacts) -> dict[str, Any]:
    referral = shown.referral
    output = None
    if referral.status == "completed":
        output = [
            {
                "type": {"coding": [RESULTING_ACTIVITY]},
                "valueReference": ref("Procedure", referral.id),
            }
        ]
    return drop_empty(
        {
            "resourceType": "Task",
            "id": referral.id,
            "meta": meta("Task", referral.updated_at, referral.version),
            "status": referral.status,
            "businessStatus": _business_status(shown),
            "statusReason": _status_reason(shown),
            "intent": "order",
            "priority": "routine",
            "code": {"coding": [FULFILL]},
            "focus": ref("ServiceRequest", facts.service_request_id),
            "for": _patient(shown),
            "authoredOn": instant(referral.created_at),
            "lastModified": instant(referral.updated_at),
            "requester": ref("Organization", referral.sender_organization_id),
            "owner": ref("Organization", referral.recipient_organization_id),
            "restriction": (
                {"period": {"end": day(referral.follow_up_on)}} if referral.follow_up_on else None
            ),
            "output": output,
        }
    )


def procedure_resource(shown: ReferralView, facts: ReferralFacts) -> dict[str, Any]:
    """The delivered service of a completed referral: what (``outcome``) and when."""
    referral = shown.referral
    return drop_empty(
        {
            "resourceType": "Procedure",
            "id": referral.id,
            "meta": meta("Procedure", referral.updated_at),
            "basedOn": [ref("ServiceRequest", facts.service_request_id)],
            "status": "completed",
            "category": {"coding": _categories(shown)[0]["coding"] + _sdoh_codings(shown)},
            "code": _code(shown, facts),
            "subject": _patient(shown),
            "performedDateTime": day(referral.delivered_on),
            "performer": [{"actor": ref("Organization", referral.recipient_organization_id)}],
            "reasonReference": [ref("Condition", shown.need_id)] if shown.need_id else None,
            "outcome": {"text": shown.outcome} if shown.outcome else None,
        }
    )


def _sdoh_codings(shown: ReferralView) -> list[dict[str, Any]]:
    if not shown.category:
        return []
    return list(sdoh_category(shown.category)["coding"])  # type: ignore[call-overload]


def pending_service_request_resource(request: Any, patient: Any) -> dict[str, Any]:
    """A ServiceRequest created through FHIR that no Task has sent yet (``FhirServiceRequest``)."""
    performer = [ref("HealthcareService", request.service_id)] if request.service_id else None
    return drop_empty(
        {
            "resourceType": "ServiceRequest",
            "id": request.id,
            "meta": meta("ServiceRequest", request.created_at),
            "status": "active",
            "intent": "order",
            "category": [{"coding": [SOCIAL_SERVICE_PROCEDURE]}, sdoh_category(request.category)],
            "code": request.code or {"text": request.category.replace("-", " ")},
            "subject": ref("Patient", patient.id, patient.name),
            "authoredOn": instant(request.created_at),
            "requester": ref("Organization", request.sender_organization_id),
            "performer": performer,
            "reasonReference": [ref("Condition", request.need_id)] if request.need_id else None,
            "supportingInfo": [ref("Consent", request.consent_id)] if request.consent_id else None,
            "note": [{"text": request.note}] if request.note else None,
        }
    )
