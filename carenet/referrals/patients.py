"""Patients of a care organization: create, read, list, with duplicate warnings. All audited."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime
from difflib import SequenceMatcher
from typing import Any

from sqlalchemy import func, or_, select

from carenet.accounts import policy
from carenet.accounts.actor import Actor
from carenet.accounts.policy import coordinator_orgs
from carenet.audit import service as audit
from carenet.db.paging import Page, PageRequest, paginate
from carenet.db.retry import run_in_transaction
from carenet.db.types import point_wkt
from carenet.errors import Conflict, InvalidInput, NotFound
from carenet.extensions import db
from carenet.geo.geocoding import GeocodeError, geocode
from carenet.referrals.models import Patient

ADDRESS_FIELDS = ("address_1", "city", "state_province", "postal_code")
MAX_DUPLICATES = 10  # possible duplicates shown before creating a patient
MAX_TERMS = 6  # words of a patient search


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


def _plain(text: str) -> str:
    """A name compared loosely: accents removed, case folded, spaces and hyphens dropped."""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return "".join(c for c in bare.casefold() if c.isalnum())


def _birth_dates(birth_date: date) -> set[date]:
    """The birth date and, when it can be read the other way round, day and month swapped."""
    dates = {birth_date}
    if birth_date.day <= 12 and birth_date.day != birth_date.month:
        dates.add(birth_date.replace(month=birth_date.day, day=birth_date.month))
    return dates


def similar_names(given_a: str, family_a: str, given_b: str, family_b: str) -> bool:
    """Same person's name, written differently: case, accents, a typo or two, an initial,
    given and family name swapped."""
    a = (_plain(given_a), _plain(family_a))
    b = (_plain(given_b), _plain(family_b))
    if a == b or a == b[::-1]:
        return True
    family = SequenceMatcher(None, a[1], b[1]).ratio()
    given = SequenceMatcher(None, a[0], b[0]).ratio()
    initial = bool(a[0] and b[0]) and (a[0][0] == b[0][0]) and min(len(a[0]), len(b[0])) == 1
    return family >= 0.8 and (given >= 0.75 or initial)


def find_duplicates(
    organization_id: str, given_name: str, family_name: str, birth_date: date
) -> list[Patient]:
    """Patients of the organization who may be the same person: a similar name
    (``similar_names``) and the same birth date, or day and month swapped; exact matches
    first."""
    stmt = select(Patient).where(
        Patient.organization_id == organization_id,
        Patient.birth_date.in_(sorted(_birth_dates(birth_date))),
    )
    found = [
        p
        for p in db.session.scalars(stmt)
        if similar_names(given_name, family_name, p.given_name, p.family_name)
    ]
    exact = (_plain(given_name), _plain(family_name), birth_date)
    found.sort(key=lambda p: ((_plain(p.given_name), _plain(p.family_name), p.birth_date) != exact,
                              p.family_name, p.given_name, p.id))  # fmt: skip
    return found[:MAX_DUPLICATES]


class PossibleDuplicates(Conflict):
    """Patients who may be the one being created; the page shows them before creating."""

    def __init__(self, duplicates: list[Patient]) -> None:
        super().__init__(
            "This patient may already be registered.",
            {"given_name": ["A patient with a similar name and birth date exists."]},
        )
        self.duplicates = duplicates


def possible_duplicates(actor: Actor, data: dict[str, Any]) -> list[Patient]:
    """The actor's organization's patients who may be the person ``data`` describes."""
    policy.require("create", actor, None, "patient")
    organization_id = _organization_for(actor, data.get("organization_id"))
    return find_duplicates(
        organization_id, data["given_name"], data["family_name"], data["birth_date"]
    )


def _place(patient: Patient, text: str, field_name: str) -> None:
    point = geocode(text, field=field_name)
    patient.latitude, patient.longitude = point.latitude, point.longitude
    patient.geom = point_wkt(point.longitude, point.latitude)


def _geocode(patient: Patient) -> str | None:
    """Put the patient's address on the map; when the address cannot be found but the ZIP
    code can, at the ZIP code's centre (offline data). A warning, never an error."""
    text = patient.address_line
    if not text:
        patient.latitude = patient.longitude = patient.geom = None
        return None
    try:
        _place(patient, text, "address_1")
        return None
    except GeocodeError as exc:
        problem = exc.detail
    if patient.postal_code:
        try:
            _place(patient, patient.postal_code, "postal_code")
            return "The street address could not be found: the patient is placed at their ZIP code."
        except GeocodeError as exc:
            problem = exc.detail
    patient.latitude = patient.longitude = patient.geom = None
    return f"The address could not be placed on the map: {problem}"


def create_patient(
    actor: Actor, data: dict[str, Any], *, allow_duplicates: bool = True
) -> PatientCreated:
    """Register a patient of the actor's care organization. A possible duplicate is a
    warning (``allow_duplicates``, the API) or refused with ``PossibleDuplicates`` (409)
    until the coordinator says "create anyway" (the page)."""
    # popped from: a copy
    return run_in_transaction(lambda: add_patient(actor, dict(data), allow_duplicates))


def add_patient(actor: Actor, data: dict[str, Any], allow_duplicates: bool) -> PatientCreated:
    """``create_patient`` inside the caller's transaction (the caller commits or rolls
    back): for a FHIR transaction Bundle, all of whose entries land together or not at all."""
    policy.require("create", actor, None, "patient")
    organization_id = _organization_for(actor, data.pop("organization_id", None))
    duplicates = find_duplicates(
        organization_id, data["given_name"], data["family_name"], data["birth_date"]
    )
    if duplicates and not allow_duplicates:
        raise PossibleDuplicates(duplicates)
    patient = Patient(organization_id=organization_id, created_by_id=actor.id, **data)
    warnings = []
    if duplicates:
        warnings.append(
            "A patient with a similar name and birth date already exists in your organization."
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
    return edit_patient(actor, patient_id, data).patient


def edit_patient(actor: Actor, patient_id: str, data: dict[str, Any]) -> PatientCreated:
    """``update_patient`` with the geocoding warning, if any (the edit page shows it)."""
    return run_in_transaction(lambda: _update_patient(actor, patient_id, data))


def _update_patient(actor: Actor, patient_id: str, data: dict[str, Any]) -> PatientCreated:
    patient = _load(actor, patient_id, "edit")
    data = {k: v for k, v in data.items() if k != "organization_id"}  # never moves
    for name, value in data.items():
        setattr(patient, name, value)
    warning = _geocode(patient) if set(data) & set(ADDRESS_FIELDS) else None
    audit.record(
        actor,
        "update",
        "patient",
        patient.id,
        {"fields": sorted(data)},
        organization_id=patient.organization_id,
    )
    return PatientCreated(patient, [warning] if warning else [])


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
        stmt = stmt.where(*_matching(query))
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


def _parse_day(term: str) -> date | None:
    for pattern in ("%Y-%m-%d", "%m/%d/%Y", "%m-%d-%Y"):
        try:
            return datetime.strptime(term, pattern).date()
        except ValueError:
            continue
    return None


def _matching(query: str) -> list[Any]:
    """Conditions for a search by name and birth date: each word matches the given or the
    family name (anywhere), a date (2026-01-31, 01/31/2026) the birth date."""
    conditions: list[Any] = []
    for term in query.lower().split()[:MAX_TERMS]:
        day = _parse_day(term)
        if day is not None:
            conditions.append(Patient.birth_date == day)
            continue
        like = "%" + term.replace("\\", "").replace("%", "").replace("_", "") + "%"
        conditions.append(
            or_(
                func.lower(Patient.family_name).like(like),
                func.lower(Patient.given_name).like(like),
            )
        )
    return conditions


def _load(actor: Actor, patient_id: str, action: str) -> Patient:
    patient = db.session.get(Patient, patient_id)
    if patient is None:
        raise NotFound("No such record.")
    policy.require(action, actor, patient)
    return patient
