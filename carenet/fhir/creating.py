"""Creating resources: Patient, Consent, ServiceRequest and Task, one at a time or together
in a ``transaction`` Bundle. Each goes through carenet's own services — a Task sends the
referral with ``referrals.service`` exactly as the web form does, so it lands in the CBO's
inbox with one history — and all of a transaction is one database transaction.

The services' inner steps (the parts of ``create_patient``, ``record_consent`` and
``send_referral`` that run inside their transaction) are called here inside one
``run_in_transaction``, so a Bundle is written whole or not at all.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from carenet.accounts import policy
from carenet.accounts.actor import Actor
from carenet.accounts.policy import coordinator_orgs
from carenet.directory.models import NO_CAPACITY, Service, TaxonomyTerm
from carenet.directory.taxonomy import CATEGORIES, SDOH_CODES
from carenet.errors import DomainError
from carenet.extensions import db
from carenet.fhir import map_patient, map_referral
from carenet.fhir.codes import SDOH_CATEGORY_SYSTEM
from carenet.fhir.fhir_input import codes, concept, items, load, obj, reference, text
from carenet.fhir.map_consent import METHOD_EXTENSION
from carenet.fhir.models import FhirServiceRequest
from carenet.fhir.outcome import FhirError, from_domain
from carenet.fhir.reading import consent_resources, facts_for
from carenet.referrals import consent as consents
from carenet.referrals import patients
from carenet.referrals import service as referrals
from carenet.referrals.models import Consent, Need, Patient, Referral
from carenet.referrals.schemas import ConsentIn, PatientIn, ReferralIn

LANGUAGE_LENGTH = 8  # patient.preferred_language
MAX_CODE_LENGTH = 4000  # characters of the ServiceRequest.code kept as sent


@dataclass(frozen=True)
class Created:
    resource_type: str
    id: str


# --- Patient ---------------------------------------------------------------------------

PATIENT_PATHS = {
    "given_name": "Patient.name.given",
    "family_name": "Patient.name.family",
    "birth_date": "Patient.birthDate",
    "phone": "Patient.telecom",
    "email": "Patient.telecom",
    "address_1": "Patient.address.line",
    "city": "Patient.address.city",
    "state_province": "Patient.address.state",
    "postal_code": "Patient.address.postalCode",
    "preferred_language": "Patient.communication.language",
    "organization_id": "Patient.managingOrganization",
}


def _telecom(resource: dict[str, Any], system: str) -> str | None:
    for i, point in enumerate(items(resource.get("telecom"), "Patient.telecom")):
        point = obj(point, f"Patient.telecom[{i}]")
        if point.get("system") == system:
            return text(point.get("value"), f"Patient.telecom[{i}].value")
    return None


def _first(value: Any, path: str) -> Any:
    found = items(value, path)
    return found[0] if found else None


def patient_data(resource: dict[str, Any]) -> dict[str, Any]:
    name = obj(_first(resource.get("name"), "Patient.name"), "Patient.name[0]", required=True)
    address = obj(_first(resource.get("address"), "Patient.address"), "Patient.address[0]")
    language = obj(_first(resource.get("communication"), "Patient.communication"), "communication")
    language_codes = codes(language.get("language"), "Patient.communication[0].language")
    organization = reference(
        resource.get("managingOrganization"), "Patient.managingOrganization", ("Organization",)
    )
    if language_codes and len(language_codes[0][1]) > LANGUAGE_LENGTH:
        raise FhirError(
            400,
            "Patient.communication[0].language: a language code, e.g. es or pt-BR.",
            "Patient.communication.language",
        )
    data = {
        "given_name": _first(name.get("given"), "Patient.name[0].given"),
        "family_name": name.get("family"),
        "birth_date": resource.get("birthDate"),
        "phone": _telecom(resource, "phone"),
        "email": _telecom(resource, "email"),
        "address_1": _first(address.get("line"), "Patient.address[0].line"),
        "city": address.get("city"),
        "state_province": address.get("state"),
        "postal_code": address.get("postalCode"),
        "preferred_language": language_codes[0][1] if language_codes else None,
        "organization_id": organization[1] if organization else None,
    }
    return load(
        PatientIn(), {k: v for k, v in data.items() if v is not None}, PATIENT_PATHS, "Patient"
    )


def make_patient(actor: Actor, resource: dict[str, Any]) -> Created:
    data = patient_data(resource)
    try:
        # A possible duplicate is a warning, as on /api/v1 (the EHR holds its own identity).
        created = patients.add_patient(actor, data, allow_duplicates=True)
    except DomainError as exc:
        raise from_domain(exc, "Patient", PATIENT_PATHS) from exc
    return Created("Patient", created.patient.id)


# --- Consent ---------------------------------------------------------------------------

CONSENT_PATHS = {
    "method": "Consent.extension",
    "starts_at": "Consent.provision.period.start",
    "expires_at": "Consent.provision.period.end",
    "scope": "Consent.scope",
    "consent": "Consent",
}


def _method(resource: dict[str, Any]) -> str:
    for i, extension in enumerate(items(resource.get("extension"), "Consent.extension")):
        extension = obj(extension, f"Consent.extension[{i}]")
        if extension.get("url") == METHOD_EXTENSION:
            return text(extension.get("valueCode"), f"Consent.extension[{i}].valueCode") or ""
    return "electronic"  # sent by an EHR: recorded electronically


def _patient_of(actor: Actor, value: Any, path: str) -> Patient:
    found = reference(value, path, ("Patient",), required=True)
    assert found is not None
    patient = db.session.get(Patient, found[1])
    if patient is None or not policy.allows("edit", actor, patient):
        raise FhirError(422, f"{path}: no such patient of yours.", path)
    return patient


def make_consent(actor: Actor, resource: dict[str, Any]) -> Created:
    patient = _patient_of(actor, resource.get("patient"), "Consent.patient")
    if resource.get("status") != "active":
        raise FhirError(
            422, "Consent.status must be active (a decision in force).", "Consent.status"
        )
    provision = obj(resource.get("provision"), "Consent.provision")
    period = obj(provision.get("period"), "Consent.provision.period")
    if provision.get("type", "permit") == "deny":
        return _revocation(actor, patient)
    if provision.get("type", "permit") != "permit":
        raise FhirError(400, "Consent.provision.type is permit or deny.", "Consent.provision.type")
    start = period.get("start") or resource.get("dateTime")
    data = load(
        ConsentIn(),
        {
            "method": _method(resource),
            **({"starts_at": start} if start is not None else {}),
            **({"expires_at": period["end"]} if period.get("end") is not None else {}),
        },
        CONSENT_PATHS,
        "Consent",
    )
    starts_at = data["starts_at"]
    data["historical"] = bool(starts_at and starts_at < _created_at(patient))
    try:
        consent = consents.add_consent(
            actor,
            patient.id,
            data["method"],
            starts_at,
            data["expires_at"],
            data["scope"],
            data["historical"],
        )
    except DomainError as exc:
        raise from_domain(exc, "Consent", CONSENT_PATHS) from exc
    return Created("Consent", consent.id)


def _created_at(patient: Patient) -> datetime:
    created = patient.created_at
    return created if created.tzinfo else created.replace(tzinfo=UTC)


def _revocation(actor: Actor, patient: Patient) -> Created:
    """A deny decision: revoke the patient's permit in force (the latest decision wins)."""
    permit = db.session.scalars(
        select(Consent)
        .where(
            Consent.patient_id == patient.id,
            Consent.decision == "permit",
            Consent.revoked_at.is_(None),
        )
        .order_by(Consent.starts_at.desc(), Consent.recorded_at.desc())
    ).first()
    if permit is None:
        raise FhirError(409, "No consent in force to revoke.", "Consent.provision.type")
    try:
        consents.add_revocation(actor, permit.id)
    except DomainError as exc:
        raise from_domain(exc, "Consent", CONSENT_PATHS) from exc
    deny = db.session.scalars(select(Consent).where(Consent.revokes_id == permit.id)).one()
    return Created("Consent", deny.id)


# --- ServiceRequest ----------------------------------------------------------------------


def _sdoh_code(resource: dict[str, Any]) -> str:
    for i, category in enumerate(items(resource.get("category"), "ServiceRequest.category")):
        for system, code in codes(category, f"ServiceRequest.category[{i}]"):
            if system == SDOH_CATEGORY_SYSTEM and code in SDOH_CODES:
                return code
    raise FhirError(
        422,
        f"ServiceRequest.category needs an SDOH category of {SDOH_CATEGORY_SYSTEM}: "
        f"one of {', '.join(SDOH_CODES)}.",
        "ServiceRequest.category",
    )


def _code(resource: dict[str, Any]) -> dict[str, Any] | None:
    code = concept(resource.get("code"), "ServiceRequest.code")
    if len(repr(code)) > MAX_CODE_LENGTH:
        raise FhirError(400, "ServiceRequest.code is too long.", "ServiceRequest.code")
    return code


def _owned(
    kind: type[Any], value: Any, path: str, types: tuple[str, ...], patient: Patient
) -> str | None:
    found = reference(value, path, types)
    if found is None:
        return None
    row = db.session.get(kind, found[1])
    if row is None or row.patient_id != patient.id:
        raise FhirError(422, f"{path}: not this patient's.", path)
    return found[1]


def _performer(resource: dict[str, Any]) -> str | None:
    for i, value in enumerate(items(resource.get("performer"), "ServiceRequest.performer")):
        found = reference(
            value,
            f"ServiceRequest.performer[{i}]",
            ("HealthcareService", "Organization", "PractitionerRole", "Practitioner"),
        )
        if found and found[0] == "HealthcareService":
            if db.session.get(Service, found[1]) is None:
                raise FhirError(422, "No such HealthcareService.", f"ServiceRequest.performer[{i}]")
            return found[1]
    return None


def make_service_request(actor: Actor, resource: dict[str, Any]) -> Created:
    patient = _patient_of(actor, resource.get("subject"), "ServiceRequest.subject")
    if resource.get("status") != "active" or resource.get("intent") != "order":
        raise FhirError(
            422,
            "A referral's ServiceRequest has status active and intent order.",
            ["ServiceRequest.status", "ServiceRequest.intent"],
        )
    note = obj(_first(resource.get("note"), "ServiceRequest.note"), "ServiceRequest.note[0]")
    reasons = items(resource.get("reasonReference"), "ServiceRequest.reasonReference")
    supporting = items(resource.get("supportingInfo"), "ServiceRequest.supportingInfo")
    request = FhirServiceRequest(
        patient_id=patient.id,
        sender_organization_id=patient.organization_id,
        category=_sdoh_code(resource),
        code=_code(resource),
        need_id=_owned(
            Need,
            reasons[0] if reasons else None,
            "ServiceRequest.reasonReference[0]",
            ("Condition",),
            patient,
        ),
        consent_id=_owned(
            Consent,
            supporting[0] if supporting else None,
            "ServiceRequest.supportingInfo[0]",
            ("Consent",),
            patient,
        ),
        service_id=_performer(resource),
        note=text(note.get("text"), "ServiceRequest.note[0].text"),
        created_by_id=actor.id,
    )
    load(
        ReferralIn(),
        {"patient_id": patient.id, "service_id": "-", "note": request.note},
        {"note": "ServiceRequest.note"},
        "ServiceRequest",
    )
    db.session.add(request)
    db.session.flush()
    return Created("ServiceRequest", request.id)


# --- Task: sending the referral ----------------------------------------------------------

TASK_PATHS = {
    "service_id": "Task.owner",
    "consent": "ServiceRequest.supportingInfo",
    "need_id": "ServiceRequest.reasonReference",
    "category": "ServiceRequest.category",
    "patient_id": "Task.for",
    "Idempotency-Key": "Task",
}


def _service_for(owner_id: str, request: FhirServiceRequest) -> str:
    """The owner's service that fulfils the request: the performer named, else the owner's
    active service in the request's SDOH category with capacity (by name)."""
    if request.service_id:
        service = db.session.get(Service, request.service_id)
        if service is None or service.organization_id != owner_id:
            raise FhirError(
                422,
                "Task.owner is not the organization of the ServiceRequest's performer.",
                "Task.owner",
            )
        return service.id
    slugs = [c.slug for c in CATEGORIES if c.sdoh_code == request.category]
    service_id = db.session.scalar(
        select(Service.id)
        .where(
            Service.organization_id == owner_id,
            Service.status == "active",
            Service.capacity_status != NO_CAPACITY,
            Service.categories.any(TaxonomyTerm.code.in_(slugs)),
        )
        .order_by(Service.name, Service.id)
        .limit(1)
    )
    if service_id is None:
        raise FhirError(
            422,
            f"Task.owner has no active service with capacity for {request.category}; name one "
            "as the ServiceRequest's performer (HealthcareService).",
            "Task.owner",
        )
    return service_id


def make_task(actor: Actor, resource: dict[str, Any]) -> Created:
    if resource.get("status") != "requested" or resource.get("intent") != "order":
        raise FhirError(
            422,
            "A new referral Task has status requested and intent order.",
            ["Task.status", "Task.intent"],
        )
    focus = reference(resource.get("focus"), "Task.focus", ("ServiceRequest",), required=True)
    owner = reference(resource.get("owner"), "Task.owner", ("Organization",), required=True)
    assert focus is not None and owner is not None
    request = db.session.get(FhirServiceRequest, focus[1])
    patient = db.session.get(Patient, request.patient_id) if request else None
    if request is None or patient is None or not policy.allows("view", actor, patient):
        raise FhirError(422, "Task.focus: no such ServiceRequest of yours.", "Task.focus")
    if request.referral_id is not None:
        raise FhirError(409, "This ServiceRequest already has its Task.", "Task.focus")
    subject = reference(resource.get("for"), "Task.for", ("Patient",))
    if subject is not None and subject[1] != request.patient_id:
        raise FhirError(422, "Task.for is not the ServiceRequest's subject.", "Task.for")
    wanted = referrals.ReferralRequest(
        patient_id=request.patient_id,
        service_id=_service_for(owner[1], request),
        need_id=request.need_id,
        category=request.category,
        note=request.note,
    )
    try:
        sent = referrals.add_referral(actor, wanted, None)
    except DomainError as exc:
        raise from_domain(exc, "Task", TASK_PATHS) from exc
    request.referral_id = sent.referral.id
    db.session.flush()
    return Created("Task", sent.referral.id)


MAKERS: dict[str, Callable[[Actor, dict[str, Any]], Created]] = {
    "Patient": make_patient,
    "Consent": make_consent,
    "ServiceRequest": make_service_request,
    "Task": make_task,
}


def ensure_coordinator(actor: Actor) -> None:
    """Creating is the referring side's (an EHR's care organization)."""
    if not coordinator_orgs(actor):
        raise FhirError(403, "Only a care organization's coordinators create resources here.")


# --- rendering what was made ---------------------------------------------------------------


def rendered(actor: Actor, created: Created) -> tuple[dict[str, Any], int | None]:
    """The resource as the creator now sees it, and its version (Task, ServiceRequest)."""
    if created.resource_type == "Patient":
        patient = db.session.get(Patient, created.id)
        assert patient is not None
        return map_patient.patient_resource(patient), None
    if created.resource_type == "Consent":
        consent = db.session.get(Consent, created.id)
        assert consent is not None
        return consent_resources(consent.patient, [consent.id])[0], None
    request = db.session.get(FhirServiceRequest, created.id)
    referral_id = request.referral_id if request is not None else created.id
    if request is not None and referral_id is None:
        patient = db.session.get(Patient, request.patient_id)
        return map_referral.pending_service_request_resource(request, patient), None
    referral = db.session.get(Referral, referral_id, populate_existing=True)
    assert referral is not None
    shown = referrals.view_of(actor, referral)
    facts = facts_for([referral])[referral.id]
    if created.resource_type == "Task":
        return map_referral.task_resource(shown, facts), referral.version
    return map_referral.service_request_resource(shown, facts), referral.version
