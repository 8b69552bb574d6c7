"""Patients of a care organization: create, read, list, with duplicate warnings. All audited."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import func, select

from carenet.accounts import policy
from carenet.accounts.actor import Actor
from carenet.accounts.policy import coordinator_orgs
from carenet.audit import service as audit
from carenet.db.paging import Page, PageRequest, paginate
from carenet.db.retry import run_in_transaction
from carenet.db.types import point_wkt
from carenet.errors import InvalidInput, NotFound
from carenet.extensions import db
from carenet.geo.geocoding import GeocodeError, geocode
from carenet.referrals.models import Patient

ADDRESS_FIELDS = ("address_1", "city", "state_province", "postal_code")


@dataclass
class PatientCreated:
    patient: Patient
    warnings: list[str] = field(default_factory=list)
    duplicates: list[Patient] = field(default_factory=list)


def _organization_for(actor: Actor, requested: str | None) -> str:
    orgs = coordinator_orgs(actor)
    if requested:
        if requested not in orgs:
            raise InvalidInput(
                "You are not a coordinator of that organization.",
                {"organization_id": ["Not one of your organizations."]},
            )
        return requested
    if len(orgs) != 1:
        raise InvalidInput(
            "Say which of your organizations this patient belongs to.",
            {"organization_id": ["Required: you coordinate for several organizations."]},
        )
    return next(iter(orgs))


def find_duplicates(
    organization_id: str, given_name: str, family_name: str, birth_date: date
) -> list[Patient]:
    """Patients of the organization with the same name (case-insensitive) and birth date."""
    stmt = select(Patient).where(
        Patient.organization_id == organization_id,
        func.lower(Patient.family_name) == family_name.strip().lower(),
        func.lower(Patient.given_name) == given_name.strip().lower(),
        Patient.birth_date == birth_date,
    )
    return list(db.session.scalars(stmt))


def _geocode(patient: Patient) -> str | None:
    """Put the patient's address on the map; a warning (not an error) when it cannot be found."""
    text = patient.address_line
    if not text:
        return None
    try:
        point = geocode(text, field="address_1")
    except GeocodeError as exc:
        patient.latitude = patient.longitude = patient.geom = None
        return f"The address could not be placed on the map: {exc.detail}"
    patient.latitude, patient.longitude = point.latitude, point.longitude
    patient.geom = point_wkt(point.longitude, point.latitude)
    return None


def create_patient(actor: Actor, data: dict[str, Any]) -> PatientCreated:
    """Register a patient of the actor's care organization; warn on a likely duplicate."""
    return run_in_transaction(lambda: _create_patient(actor, dict(data)))  # popped from: a copy


def _create_patient(actor: Actor, data: dict[str, Any]) -> PatientCreated:
    policy.require("create", actor, None, "patient")
    organization_id = _organization_for(actor, data.pop("organization_id", None))
    duplicates = find_duplicates(
        organization_id, data["given_name"], data["family_name"], data["birth_date"]
    )
    patient = Patient(organization_id=organization_id, created_by_id=actor.id, **data)
    warnings = []
    if duplicates:
        warnings.append(
            "A patient with the same name and birth date already exists in your organization."
        )
    geocode_warning = _geocode(patient)
    if geocode_warning:
        warnings.append(geocode_warning)
    db.session.add(patient)
    db.session.flush()
    audit.record(
        actor,
        "create",
        "patient",
        patient.id,
        {"possible_duplicates": [p.id for p in duplicates]} if duplicates else None,
        organization_id=organization_id,
    )
    return PatientCreated(patient, warnings, duplicates)


def update_patient(actor: Actor, patient_id: str, data: dict[str, Any]) -> Patient:
    """Change a patient's details (re-geocoding a changed address); audited with field names."""
    return run_in_transaction(lambda: _update_patient(actor, patient_id, data))


def _update_patient(actor: Actor, patient_id: str, data: dict[str, Any]) -> Patient:
    patient = _load(actor, patient_id, "edit")
    for name, value in data.items():
        setattr(patient, name, value)
    if set(data) & set(ADDRESS_FIELDS):
        _geocode(patient)
    audit.record(
        actor,
        "update",
        "patient",
        patient.id,
        {"fields": sorted(data)},
        organization_id=patient.organization_id,
    )
    return patient


def get_patient(actor: Actor, patient_id: str) -> Patient:
    """One patient of the actor's organization; the read is audited. Others' patients: 404."""
    patient = _load(actor, patient_id, "view")
    audit.record_read(
        actor,
        "patient",
        patient.id,
        organization_id=patient.organization_id,
        patient_id=patient.id,
    )
    return patient


def list_patients(
    actor: Actor, query: str | None = None, wanted: PageRequest = PageRequest()
) -> Page[Patient]:
    """A page of the actor's organizations' patients, by name (``total`` counts all that
    match); audited: one row per patient on the page (one INSERT), or one for an empty page."""
    policy.require("list", actor, None, "patient")
    orgs = coordinator_orgs(actor)
    stmt = select(Patient).where(Patient.organization_id.in_(orgs))
    if query:
        like = f"%{query.strip().lower()}%"
        stmt = stmt.where(
            func.lower(Patient.family_name).like(like) | func.lower(Patient.given_name).like(like)
        )
    stmt = stmt.order_by(Patient.family_name, Patient.given_name, Patient.id)
    found = paginate(stmt, wanted)
    ids = [p.id for p in found.items]
    audit.record_disclosures(
        actor,
        "list",
        "patient",
        [audit.Disclosure(p.id, p.id, p.organization_id) for p in found.items],
        detail={
            "count": len(found.items),
            "query": bool(query),
            "page": found.page,
            "total": found.total,
        },
    )
    if ids:  # the commit expired the page: load it again at once, not one row at a time
        db.session.scalars(select(Patient).where(Patient.id.in_(ids))).all()
    return found


def _load(actor: Actor, patient_id: str, action: str) -> Patient:
    patient = db.session.get(Patient, patient_id)
    if patient is None:
        raise NotFound("No such record.")
    policy.require(action, actor, patient)
    return patient
