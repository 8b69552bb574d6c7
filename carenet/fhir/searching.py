"""Searches: each returns a page of resources as the actor may see them (the policy's scope
in SQL, consent per page in one query) and what ``_include`` adds; lists that show patients
are audited as disclosures, one row per patient shown."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Select, func, or_, select

from carenet.accounts import policy
from carenet.accounts.actor import Actor
from carenet.accounts.policy import cbo_orgs, coordinator_orgs
from carenet.audit import service as audit
from carenet.db.paging import Page, paginate
from carenet.db.types import utcnow
from carenet.directory.models import (
    Location,
    Organization,
    Service,
    ServiceAtLocation,
    TaxonomyTerm,
)
from carenet.directory.search import can_see_confidential
from carenet.directory.taxonomy import CATEGORIES, TAXONOMY_URI
from carenet.extensions import db
from carenet.fhir import map_condition, map_directory, map_patient, map_referral, map_screening
from carenet.fhir.bundle import whole
from carenet.fhir.codes import PATIENT_ID_SYSTEM
from carenet.fhir.models import FhirServiceRequest
from carenet.fhir.outcome import FhirError
from carenet.fhir.reading import consent_resources, facts_for, service_locations, visible_patient
from carenet.fhir.search_params import (
    Search,
    apply_bounds,
    date_bounds,
    reference_id,
    token_code,
)
from carenet.referrals import service as referrals
from carenet.referrals.consent import patients_with_valid_consent
from carenet.referrals.models import Need, Patient, Referral, Screening

Found = tuple[Page[dict[str, Any]], list[dict[str, Any]]]

SERVICE_REQUEST_STATUSES = {
    "active": ("requested", "accepted", "in-progress"),
    "on-hold": ("on-hold",),
    "completed": ("completed",),
    "revoked": ("rejected", "failed", "cancelled"),
}


# --- referrals: Task, ServiceRequest, Procedure ----------------------------------------


def _visible_referrals(actor: Actor) -> Select[tuple[Referral]]:
    policy.require("view", actor, None, "referral")
    return select(Referral).where(
        or_(
            Referral.sender_organization_id.in_(coordinator_orgs(actor)),
            Referral.recipient_organization_id.in_(cbo_orgs(actor)),
        )
    )


def _patient_filter(actor: Actor, stmt: Select[Any], search: Search, name: str) -> Select[Any]:
    """Referrals of one patient, whom the actor must see (else: 404, as a read would)."""
    values = search.values(name)
    if not values:
        return stmt
    ids = [reference_id(name, value, "Patient") for value in values]
    for patient_id in ids:
        visible_patient(actor, patient_id)
    return stmt.where(Referral.patient_id.in_(ids))


def _focus_ids(values: list[str]) -> list[str]:
    ids = [reference_id("focus", value, "ServiceRequest") for value in values]
    linked = db.session.scalars(
        select(FhirServiceRequest.referral_id).where(FhirServiceRequest.id.in_(ids))
    ).all()
    return ids + [rid for rid in linked if rid]


def _task_statement(actor: Actor, search: Search) -> Select[tuple[Referral]]:
    stmt = _visible_referrals(actor)
    if search.values("_id"):
        stmt = stmt.where(Referral.id.in_(search.values("_id")))
    if search.values("owner"):
        ids = [reference_id("owner", v, "Organization") for v in search.values("owner")]
        stmt = stmt.where(Referral.recipient_organization_id.in_(ids))
    if search.values("requester"):
        ids = [reference_id("requester", v, "Organization") for v in search.values("requester")]
        stmt = stmt.where(Referral.sender_organization_id.in_(ids))
    if search.values("status"):
        stmt = stmt.where(Referral.status.in_(search.values("status")))
    if search.values("focus"):
        stmt = stmt.where(Referral.id.in_(_focus_ids(search.values("focus"))))
    for value in search.params.get("_lastUpdated", []):
        stmt = stmt.where(*apply_bounds(Referral.updated_at, date_bounds("_lastUpdated", [value])))
    return _patient_filter(actor, stmt, search, "patient")


Render = Callable[[Any, map_referral.ReferralFacts], dict[str, Any]]


def _shown_page(
    actor: Actor, stmt: Select[tuple[Referral]], search: Search, *renders: Render
) -> list[Page[dict[str, Any]]]:
    """A page of referrals, newest change first, as the actor sees them, rendered by each of
    ``renders`` (before the audit's commit expires the rows); audited: one row per patient
    shown."""
    found = paginate(stmt.order_by(Referral.updated_at.desc(), Referral.id), search.page)
    lookup = _consent_lookup([r.patient_id for r in found.items])
    now = utcnow()
    views = found.map(lambda referral: referrals.view_of(actor, referral, now, lookup))
    facts = facts_for(found.items)
    pages = [
        Page(
            [render(v, facts[v.referral.id]) for v in views.items],
            views.total,
            views.page,
            views.per_page,
        )
        for render in renders
    ]
    audit.record_disclosures(
        actor,
        "list",
        "referral",
        [
            audit.Disclosure(v.referral.patient_id, v.referral.id, _side(actor, v.referral))
            for v in views.items
            if v.patient_visible and not v.stub
        ],
        {"fhir": True, "count": len(views.items), "total": views.total},
    )
    return pages


def _consent_lookup(patient_ids: list[str]) -> Callable[[str], bool]:
    valid = patients_with_valid_consent(patient_ids)
    return lambda patient_id: patient_id in valid


def _side(actor: Actor, referral: Referral) -> str:
    if referral.recipient_organization_id in cbo_orgs(actor):
        return referral.recipient_organization_id
    return referral.sender_organization_id


def search_tasks(actor: Actor, search: Search) -> Found:
    renders: list[Render] = [map_referral.task_resource]
    if "Task:focus" in search.include:
        renders.append(map_referral.service_request_resource)
    pages = _shown_page(actor, _task_statement(actor, search), search, *renders)
    return pages[0], pages[1].items if len(pages) > 1 else []


def search_service_requests(actor: Actor, search: Search) -> Found:
    stmt = _visible_referrals(actor)
    if search.values("_id"):
        stmt = stmt.where(Referral.id.in_(_focus_ids(search.values("_id"))))
    statuses = search.values("status")
    if statuses:
        unknown = [s for s in statuses if s not in SERVICE_REQUEST_STATUSES]
        if unknown:
            raise FhirError(400, f"status: one of {', '.join(SERVICE_REQUEST_STATUSES)}.", "status")
        wanted = [s for status in statuses for s in SERVICE_REQUEST_STATUSES[status]]
        stmt = stmt.where(Referral.status.in_(wanted))
    categories = [token_code(v)[1] for v in search.values("category")]
    if categories:
        stmt = stmt.where(Referral.category.in_(categories))
    stmt = _patient_filter(actor, stmt, search, "patient")
    return _shown_page(actor, stmt, search, map_referral.service_request_resource)[0], []


def search_procedures(actor: Actor, search: Search) -> Found:
    stmt = _visible_referrals(actor).where(Referral.status == "completed")
    if search.values("_id"):
        stmt = stmt.where(Referral.id.in_(search.values("_id")))
    stmt = _patient_filter(actor, stmt, search, "patient")
    return _shown_page(actor, stmt, search, map_referral.procedure_resource)[0], []


# --- patients ---------------------------------------------------------------------------


def search_patients(actor: Actor, search: Search) -> Found:
    """The actor's organizations' patients (coordinators; a CBO reads patients by id, through
    a Task's ``for``): by identifier, _id, name, family, given, birthdate."""
    policy.require("list", actor, None, "patient")
    stmt = select(Patient).where(Patient.organization_id.in_(coordinator_orgs(actor)))
    ids = search.values("_id")
    for value in search.values("identifier"):
        system, code = token_code(value)
        if system not in (None, PATIENT_ID_SYSTEM):
            ids.append("")  # another system's identifier: carenet knows none
        else:
            ids.append(code)
    if ids:
        stmt = stmt.where(Patient.id.in_(ids))
    for name in search.params.get("name", []):
        like = f"%{name.strip().lower()}%"
        stmt = stmt.where(
            or_(
                func.lower(Patient.family_name).like(like),
                func.lower(Patient.given_name).like(like),
            )
        )
    for field, column in (("family", Patient.family_name), ("given", Patient.given_name)):
        for value in search.params.get(field, []):
            stmt = stmt.where(func.lower(column).like(f"{value.strip().lower()}%"))
    for value in search.params.get("birthdate", []):
        bounds = date_bounds("birthdate", [value])
        days = [(op, moment.date()) for op, moment in bounds]
        stmt = stmt.where(*apply_bounds(Patient.birth_date, days))  # type: ignore[arg-type]
    found = paginate(
        stmt.order_by(Patient.family_name, Patient.given_name, Patient.id), search.page
    )
    audit.record_disclosures(
        actor,
        "list",
        "patient",
        [audit.Disclosure(p.id, p.id, p.organization_id) for p in found.items],
        {"fhir": True, "count": len(found.items), "total": found.total},
    )
    return found.map(map_patient.patient_resource), []


def _one_patient(actor: Actor, search: Search, resource_type: str) -> Patient:
    values = search.values("patient")
    if len(values) != 1:
        raise FhirError(400, f"Search {resource_type} by one patient.", "patient")
    return visible_patient(actor, reference_id("patient", values[0], "Patient"), resource_type)


def _by_id(items: list[dict[str, Any]], search: Search) -> Found:
    ids = set(search.values("_id"))
    return whole([item for item in items if not ids or item["id"] in ids]), []


def search_consents(actor: Actor, search: Search) -> Found:
    return _by_id(consent_resources(_one_patient(actor, search, "Consent")), search)


def search_conditions(actor: Actor, search: Search) -> Found:
    patient = _one_patient(actor, search, "Condition")
    needs = db.session.scalars(
        select(Need).where(Need.patient_id == patient.id).order_by(Need.created_at.desc(), Need.id)
    )
    return _by_id([map_condition.condition_resource(need) for need in needs], search)


def _screenings(actor: Actor, search: Search, resource_type: str) -> list[Screening]:
    patient = _one_patient(actor, search, resource_type)
    if not policy.allows("view", actor, patient):  # answers: the patient's coordinators only
        return []
    return list(
        db.session.scalars(
            select(Screening)
            .where(Screening.patient_id == patient.id)
            .order_by(Screening.screened_at.desc(), Screening.id)
        )
    )


def search_questionnaire_responses(actor: Actor, search: Search) -> Found:
    screenings = _screenings(actor, search, "QuestionnaireResponse")
    return _by_id([map_screening.questionnaire_response_resource(s) for s in screenings], search)


def search_observations(actor: Actor, search: Search) -> Found:
    screenings = _screenings(actor, search, "Observation")
    return _by_id([o for s in screenings for o in map_screening.observation_resources(s)], search)


# --- the directory ----------------------------------------------------------------------


def _category_condition(values: list[str]) -> Any:
    slugs: set[str] = set()
    for value in values:
        system, code = token_code(value)
        if system in (None, TAXONOMY_URI):
            slugs.add(code)
        slugs |= {c.slug for c in CATEGORIES if c.sdoh_code == code}
    return Service.categories.any(TaxonomyTerm.code.in_(sorted(slugs)))


def search_healthcare_services(actor: Actor, search: Search) -> Found:
    stmt = select(Service)
    if search.values("_id"):
        stmt = stmt.where(Service.id.in_(search.values("_id")))
    if search.values("organization"):
        ids = [
            reference_id("organization", v, "Organization") for v in search.values("organization")
        ]
        stmt = stmt.where(Service.organization_id.in_(ids))
    if search.values("category"):
        stmt = stmt.where(_category_condition(search.values("category")))
    if search.values("location"):
        ids = [reference_id("location", v, "Location") for v in search.values("location")]
        at = select(ServiceAtLocation.service_id).where(ServiceAtLocation.location_id.in_(ids))
        stmt = stmt.where(Service.id.in_(at))
        if not can_see_confidential(actor):
            stmt = stmt.where(Service.confidential.is_(False))
    found = paginate(stmt.order_by(Service.name, Service.id), search.page)
    return found.map(
        lambda s: map_directory.healthcare_service_resource(s, service_locations(actor, s))
    ), []


def search_organizations(actor: Actor, search: Search) -> Found:
    stmt = select(Organization)
    if search.values("_id"):
        stmt = stmt.where(Organization.id.in_(search.values("_id")))
    for name in search.params.get("name", []):
        stmt = stmt.where(func.lower(Organization.name).like(f"%{name.strip().lower()}%"))
    found = paginate(stmt.order_by(Organization.name, Organization.id), search.page)
    return found.map(map_directory.organization_resource), []


def search_locations(actor: Actor, search: Search) -> Found:
    stmt = select(Location)
    if search.values("_id"):
        stmt = stmt.where(Location.id.in_(search.values("_id")))
    if search.values("organization"):
        ids = [
            reference_id("organization", v, "Organization") for v in search.values("organization")
        ]
        stmt = stmt.where(Location.organization_id.in_(ids))
    if not can_see_confidential(actor):
        hidden = (
            select(ServiceAtLocation.location_id)
            .join(Service, Service.id == ServiceAtLocation.service_id)
            .where(Service.confidential.is_(True))
        )
        stmt = stmt.where(Location.id.not_in(hidden))
    found = paginate(stmt.order_by(Location.name, Location.id), search.page)
    return found.map(map_directory.location_resource), []


SEARCHES: dict[str, Callable[[Actor, Search], Found]] = {
    "Patient": search_patients,
    "Consent": search_consents,
    "Condition": search_conditions,
    "QuestionnaireResponse": search_questionnaire_responses,
    "Observation": search_observations,
    "ServiceRequest": search_service_requests,
    "Task": search_tasks,
    "Procedure": search_procedures,
    "Organization": search_organizations,
    "Location": search_locations,
    "HealthcareService": search_healthcare_services,
}
