"""Reading one resource by type and id, as the actor may see it: the same policy and consent
gate as the pages and /api/v1 (a CBO reads a patient only through a referral to it while
consent holds; another organization's record is 404, never 403). Reads of patient data are
audited by the referral and patient services they go through, or here."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select

from carenet.accounts import policy
from carenet.accounts.actor import Actor
from carenet.accounts.policy import cbo_orgs
from carenet.audit import service as audit
from carenet.directory.models import Location, Organization, Service, ServiceAtLocation
from carenet.directory.search import can_see_confidential
from carenet.errors import NotFound
from carenet.extensions import db
from carenet.fhir import (
    map_condition,
    map_consent,
    map_directory,
    map_patient,
    map_referral,
    map_screening,
)
from carenet.fhir.models import FhirServiceRequest
from carenet.fhir.outcome import FhirError
from carenet.referrals import service as referrals
from carenet.referrals.consent import consent_states
from carenet.referrals.models import Consent, Need, Patient, Referral, Screening

NOT_FOUND = "No such resource, or not one you may see."


def gone(resource_type: str, resource_id: str) -> FhirError:
    return FhirError(404, f"{resource_type}/{resource_id}: {NOT_FOUND}", resource_type)


# --- patients and what hangs on them ---------------------------------------------------


def visible_patient(actor: Actor, patient_id: str, resource_type: str = "Patient") -> Patient:
    """The patient if the actor may see their details: their coordinators, or a CBO with a
    referral of theirs in full sight (consent valid). Audited as a read of the patient."""
    patient = db.session.get(Patient, patient_id)
    if patient is None:
        raise gone(resource_type, patient_id)
    organization_id = (
        patient.organization_id
        if policy.allows("view", actor, patient)
        else _cbo_seeing(actor, patient.id)
    )
    if organization_id is None:
        raise gone(resource_type, patient_id)
    audit.record_read(
        actor, "patient", patient.id, organization_id=organization_id, patient_id=patient.id
    )
    return patient


def _cbo_seeing(actor: Actor, patient_id: str) -> str | None:
    """The actor's CBO that sees this patient on a referral under valid consent, or None."""
    orgs = cbo_orgs(actor)
    if not orgs:
        return None
    found = db.session.scalars(
        select(Referral).where(
            Referral.patient_id == patient_id, Referral.recipient_organization_id.in_(orgs)
        )
    ).first()
    if found is None or not referrals.patient_details_visible(actor, found):
        return None
    return found.recipient_organization_id


def read_patient(actor: Actor, patient_id: str) -> dict[str, Any]:
    return map_patient.patient_resource(visible_patient(actor, patient_id))


def consent_resources(
    patient: Patient, wanted: Iterable[str] | None = None
) -> list[dict[str, Any]]:
    """The patient's consent decisions (newest first) as Consent resources."""
    states = consent_states(patient.consents)
    keep = set(wanted) if wanted is not None else None
    return [
        map_consent.consent_resource(consent, state, patient.organization_id)
        for consent, state in zip(patient.consents, states, strict=True)
        if keep is None or consent.id in keep
    ]


def read_consent(actor: Actor, consent_id: str) -> dict[str, Any]:
    consent = db.session.get(Consent, consent_id)
    if consent is None:
        raise gone("Consent", consent_id)
    patient = visible_patient(actor, consent.patient_id, "Consent")
    return consent_resources(patient, [consent.id])[0]


def read_condition(actor: Actor, need_id: str) -> dict[str, Any]:
    need = db.session.get(Need, need_id)
    if need is None:
        raise gone("Condition", need_id)
    visible_patient(actor, need.patient_id, "Condition")
    return map_condition.condition_resource(need)


def _screening(actor: Actor, screening_id: str, resource_type: str) -> Screening:
    """A screening: its patient's coordinators only (answers are more than a referral needs)."""
    screening = db.session.get(Screening, screening_id)
    patient = db.session.get(Patient, screening.patient_id) if screening else None
    if screening is None or patient is None or not policy.allows("view", actor, patient):
        raise gone(resource_type, screening_id)
    audit.record_read(
        actor,
        "screening",
        screening.id,
        organization_id=patient.organization_id,
        patient_id=screening.patient_id,
    )
    return screening


def read_questionnaire_response(actor: Actor, screening_id: str) -> dict[str, Any]:
    screening = _screening(actor, screening_id, "QuestionnaireResponse")
    return map_screening.questionnaire_response_resource(screening)


def read_observation(actor: Actor, observation_id: str) -> dict[str, Any]:
    screening_id, _, code = observation_id.rpartition(".")
    screening = _screening(actor, screening_id or observation_id, "Observation")
    for resource in map_screening.observation_resources(screening):
        if resource["id"] == observation_id:
            return resource
    raise gone("Observation", observation_id)


# --- referrals: ServiceRequest, Task, Procedure ----------------------------------------


def facts_for(referrals_shown: Iterable[Referral]) -> dict[str, map_referral.ReferralFacts]:
    """referral id → its FHIR facts (ServiceRequest id and code, consent): two queries."""
    rows = list(referrals_shown)
    ids = [r.id for r in rows]
    requests = (
        {
            request.referral_id: request
            for request in db.session.scalars(
                select(FhirServiceRequest).where(FhirServiceRequest.referral_id.in_(ids))
            )
        }
        if ids
        else {}
    )
    consents = _consents_at_send(rows)
    found = {}
    for referral in rows:
        request = requests.get(referral.id)
        consent_id = request.consent_id if request and request.consent_id else None
        found[referral.id] = map_referral.ReferralFacts(
            request.id if request else referral.id,
            request.code if request else None,
            consent_id or consents.get(referral.id),
        )
    return found


def _consents_at_send(rows: list[Referral]) -> dict[str, str]:
    """referral id → the newest permit of its patient started by the time it was sent."""
    patient_ids = {r.patient_id for r in rows}
    if not patient_ids:
        return {}
    permits = db.session.execute(
        select(Consent.id, Consent.patient_id, Consent.starts_at)
        .where(Consent.patient_id.in_(patient_ids), Consent.decision == "permit")
        .order_by(Consent.starts_at.desc(), Consent.id)
    ).all()
    found = {}
    for referral in rows:
        for consent_id, patient_id, starts_at in permits:
            if patient_id == referral.patient_id and starts_at <= referral.created_at:
                found[referral.id] = consent_id
                break
    return found


def referral_view(actor: Actor, referral_id: str, resource_type: str) -> Any:
    """The actor's view of a referral (read audited; a CBO's first read stamps it viewed)."""
    try:
        return referrals.open_referral(actor, referral_id)
    except NotFound as exc:
        raise gone(resource_type, referral_id) from exc


def read_task(actor: Actor, task_id: str) -> tuple[dict[str, Any], int]:
    shown = referral_view(actor, task_id, "Task")
    facts = facts_for([shown.referral])[shown.referral.id]
    return map_referral.task_resource(shown, facts), shown.referral.version


def service_request_row(resource_id: str) -> FhirServiceRequest | None:
    return db.session.get(FhirServiceRequest, resource_id)


def read_service_request(actor: Actor, resource_id: str) -> tuple[dict[str, Any], int | None]:
    request = service_request_row(resource_id)
    if request is not None and request.referral_id is None:
        return pending_request_resource(actor, request), None
    referral_id = request.referral_id if request is not None else resource_id
    shown = referral_view(actor, referral_id or resource_id, "ServiceRequest")
    facts = facts_for([shown.referral])[shown.referral.id]
    if facts.service_request_id != resource_id:  # the EHR's ServiceRequest has its own id
        raise gone("ServiceRequest", resource_id)
    return map_referral.service_request_resource(shown, facts), shown.referral.version


def pending_request_resource(actor: Actor, request: FhirServiceRequest) -> dict[str, Any]:
    """A ServiceRequest no Task has sent yet: its sender's coordinators see it."""
    patient = db.session.get(Patient, request.patient_id)
    if patient is None or not policy.allows("view", actor, patient):
        raise gone("ServiceRequest", request.id)
    audit.record_read(
        actor,
        "fhir_service_request",
        request.id,
        organization_id=patient.organization_id,
        patient_id=patient.id,
    )
    return map_referral.pending_service_request_resource(request, patient)


def read_procedure(actor: Actor, referral_id: str) -> dict[str, Any]:
    shown = referral_view(actor, referral_id, "Procedure")
    if shown.referral.status != "completed":
        raise gone("Procedure", referral_id)
    facts = facts_for([shown.referral])[shown.referral.id]
    return map_referral.procedure_resource(shown, facts)


# --- the directory -----------------------------------------------------------------------


def read_organization(organization_id: str) -> dict[str, Any]:
    organization = db.session.get(Organization, organization_id)
    if organization is None:
        raise gone("Organization", organization_id)
    return map_directory.organization_resource(organization)


def _confidential(location_id: str) -> bool:
    return bool(
        db.session.scalar(
            select(Service.id)
            .join(ServiceAtLocation, ServiceAtLocation.service_id == Service.id)
            .where(ServiceAtLocation.location_id == location_id, Service.confidential.is_(True))
            .limit(1)
        )
    )


def read_location(actor: Actor, location_id: str) -> dict[str, Any]:
    location = db.session.get(Location, location_id)
    if location is None or (_confidential(location.id) and not can_see_confidential(actor)):
        raise gone("Location", location_id)
    return map_directory.location_resource(location)


def service_locations(actor: Actor, service: Service) -> list[str]:
    if service.confidential and not can_see_confidential(actor):
        return []
    return [link.location_id for link in service.service_at_locations]


def read_healthcare_service(actor: Actor, service_id: str) -> dict[str, Any]:
    service = db.session.get(Service, service_id)
    if service is None:
        raise gone("HealthcareService", service_id)
    return map_directory.healthcare_service_resource(service, service_locations(actor, service))
