"""A patient's plan: needs → referrals → status and next follow-up, and the printed version
the coordinator hands over, in plain English or Spanish (services chosen, how to reach
them, when they are open, what happens next). Follow-up dates are set here.

Reads go through ``patients.get_patient`` (policy + audit); the plan shows only the
referrals the coordinator's organizations sent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from marshmallow import Schema
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from carenet.accounts import policy
from carenet.accounts.actor import Actor
from carenet.accounts.policy import coordinator_orgs
from carenet.audit import service as audit
from carenet.db.retry import run_in_transaction
from carenet.db.types import utcnow
from carenet.directory.models import (
    Location,
    Organization,
    Schedule,
    Service,
    ServiceAtLocation,
)
from carenet.directory.search.hours_words import describe
from carenet.directory.search.opening_hours import rule_from_schedule
from carenet.errors import InvalidInput, NotFound
from carenet.extensions import db
from carenet.referrals import overdue, patients
from carenet.referrals.models import Need, Patient, Referral
from carenet.referrals.timeutil import local_today
from carenet.referrals.workflow import OPEN_STATUSES
from carenet.validation import Date

LANGUAGES = {"en": "English", "es": "Español"}


class FollowUpIn(Schema):
    """The follow-up form: a date, or blank to clear it."""

    follow_up_on = Date(load_default=None)


MAX_FOLLOW_UP_DAYS = 366  # a follow-up date within a year

CATEGORY_WORDS = {
    "en": {
        "food-insecurity": "Food", "housing-instability": "Housing",
        "homelessness": "A place to stay", "inadequate-housing": "Home repairs and safety",
        "transportation-insecurity": "Transportation", "financial-insecurity": "Money and bills",
        "utility-insecurity": "Utilities (power, water, gas)",
        "social-connection": "Company and support", "intimate-partner-violence": "Safety",
        "elder-abuse": "Safety", "material-hardship": "Basic needs",
        "employment-status": "Work", "educational-attainment": "School and training",
        "health-insurance-coverage-status": "Health insurance",
    },
    "es": {
        "food-insecurity": "Comida", "housing-instability": "Vivienda",
        "homelessness": "Un lugar donde quedarse",
        "inadequate-housing": "Reparaciones y seguridad en el hogar",
        "transportation-insecurity": "Transporte", "financial-insecurity": "Dinero y cuentas",
        "utility-insecurity": "Servicios (luz, agua, gas)",
        "social-connection": "Compañía y apoyo", "intimate-partner-violence": "Seguridad",
        "elder-abuse": "Seguridad", "material-hardship": "Necesidades básicas",
        "employment-status": "Trabajo", "educational-attainment": "Escuela y capacitación",
        "health-insurance-coverage-status": "Seguro médico",
    },
}  # fmt: skip

NEXT_STEP = {
    "en": {
        "requested": "We sent your information to {org}. They will contact you; if you do "
        "not hear from them in 2 business days, call them.",
        "accepted": "{org} can help you. Call them if you have not set a time yet.",
        "in-progress": "{org} is helping you now.",
        "on-hold": "{org} has paused this for now. Your care coordinator will check on it.",
        "completed": "Done.",
        "rejected": "{org} cannot help this time. Your care coordinator will find another place.",
        "failed": "This did not work out. Your care coordinator will talk with you about "
        "other options.",
        "cancelled": "This referral was stopped.",
    },
    "es": {
        "requested": "Enviamos su información a {org}. Ellos se comunicarán con usted; si no "
        "sabe de ellos en 2 días hábiles, llámelos.",
        "accepted": "{org} puede ayudarle. Llámelos si todavía no tiene una cita.",
        "in-progress": "{org} le está ayudando ahora.",
        "on-hold": "{org} pausó esto por ahora. Su coordinador de cuidado le dará seguimiento.",
        "completed": "Listo.",
        "rejected": "{org} no puede ayudar esta vez. Su coordinador de cuidado buscará otro lugar.",
        "failed": "Esto no funcionó. Su coordinador de cuidado hablará con usted sobre otras "
        "opciones.",
        "cancelled": "Este referido se detuvo.",
    },
}

LABELS = {
    "en": {
        "title": "Your plan", "for": "Plan for", "made": "Made on", "need": "What you need",
        "where": "Where to go", "call": "Phone", "address": "Address",
        "hours": "When they are open",
        "next": "What happens next", "follow_up": "Your care coordinator will call you on {day}.",
        "no_hours": "Call to ask when they are open.", "confidential": "Call for the address.",
        "nothing": "No services have been chosen yet.",
        "questions": "Questions? Call your care coordinator at {org}{phone}.",
    },
    "es": {
        "title": "Su plan", "for": "Plan para", "made": "Hecho el", "need": "Lo que necesita",
        "where": "Adónde ir", "call": "Teléfono", "address": "Dirección",
        "hours": "Cuándo está abierto", "next": "Qué pasa ahora",
        "follow_up": "Su coordinador de cuidado le llamará el {day}.",
        "no_hours": "Llame para preguntar el horario.",
        "confidential": "Llame para pedir la dirección.",
        "nothing": "Todavía no se han elegido servicios.",
        "questions": "¿Preguntas? Llame a su coordinador de cuidado en {org}{phone}.",
    },
}  # fmt: skip


@dataclass(frozen=True)
class PlanService:
    """How to reach the service of a referral: its address, phones and hours in words."""

    name: str
    organization: str
    address: str | None
    confidential: bool
    phones: list[str]
    hours: list[str]
    email: str | None = None


@dataclass(frozen=True)
class PlanItem:
    referral: Referral
    reach: PlanService
    overdue: bool
    open: bool


@dataclass
class PlanNeed:
    category: str
    need: Need | None  # None: referrals sent without a recorded need
    items: list[PlanItem] = field(default_factory=list)


@dataclass(frozen=True)
class Plan:
    patient: Patient
    needs: list[PlanNeed]
    today: date


def category_words(code: str, lang: str = "en") -> str:
    words = CATEGORY_WORDS.get(lang, CATEGORY_WORDS["en"])
    return words.get(code, code.replace("-", " ").capitalize())


def next_step(referral: Referral, lang: str = "en") -> str:
    steps = NEXT_STEP.get(lang, NEXT_STEP["en"])
    return steps.get(referral.status, "").format(org=referral.recipient_organization.name)


def reach(service: Service | None, referral: Referral, lang: str = "en") -> PlanService:
    """How to reach a referral's service (its organization's phones when it has none)."""
    org = referral.recipient_organization
    if service is None:  # the service was deleted: the organization's contact
        phones = [p.number for p in org.phones]
        return PlanService(referral.service_name, org.name, None, False, phones, [], org.email)
    location = next((sal.location for sal in service.service_at_locations), None)
    schedules = list(service.schedules) or (list(location.schedules) if location else [])
    address = location.physical_address if location else None
    phones = [p.number for p in service.phones] or [p.number for p in org.phones]
    return PlanService(
        service.name,
        org.name,
        None if service.confidential or address is None else address.one_line,
        bool(service.confidential),
        phones,
        describe_schedules(schedules, lang),
        service.email or org.email,
    )


def describe_schedules(schedules: list[Schedule], lang: str = "en") -> list[str]:
    rules = [
        rule_from_schedule(s.freq, s.byday, s.bymonthday, s.opens_at, s.closes_at,
                           s.valid_from, s.valid_to)
        for s in schedules
    ]  # fmt: skip
    return describe(rules, lang)


def patient_plan(actor: Actor, patient_id: str, lang: str = "en") -> Plan:
    """The patient's needs with the referrals sent for each (policy-checked, audited read)."""
    patient = patients.get_patient(actor, patient_id)
    referrals = db.session.scalars(
        select(Referral)
        .where(
            Referral.patient_id == patient.id,
            Referral.sender_organization_id.in_(coordinator_orgs(actor)),
        )
        .order_by(Referral.created_at.desc(), Referral.id)
        .options(
            selectinload(Referral.recipient_organization).selectinload(Organization.phones),
            selectinload(Referral.service).options(
                selectinload(Service.phones),
                selectinload(Service.schedules),
                selectinload(Service.service_at_locations)
                .selectinload(ServiceAtLocation.location)
                .options(selectinload(Location.schedules)),
            ),
        )
    ).all()
    now = utcnow()
    zone = overdue.zone()
    needs = {n.id: PlanNeed(n.category, n) for n in patient.needs}
    loose: dict[str, PlanNeed] = {}
    for referral in referrals:
        item = PlanItem(
            referral,
            reach(referral.service, referral, lang),
            overdue.is_overdue(referral, now, zone),
            referral.status in OPEN_STATUSES,
        )
        if referral.need_id in needs:
            needs[str(referral.need_id)].items.append(item)
        else:
            loose.setdefault(referral.category, PlanNeed(referral.category, None)).items.append(
                item
            )
    return Plan(patient, list(needs.values()) + list(loose.values()), local_today(now, zone))


def set_follow_up(actor: Actor, referral_id: str, day: date | None) -> Referral:
    """Set (or clear, ``None``) when the coordinator follows a referral up; audited.
    Only the sending side, on an open referral, within a year from today."""
    return run_in_transaction(lambda: _set_follow_up(actor, referral_id, day))


def _set_follow_up(actor: Actor, referral_id: str, day: date | None) -> Referral:
    referral = db.session.get(Referral, referral_id)
    if referral is None:
        raise NotFound("No such record.")
    policy.require("manage", actor, referral)
    if referral.status not in OPEN_STATUSES:
        raise InvalidInput(
            "Follow-ups are for open referrals.",
            {"follow_up_on": [f"The referral is {referral.status}."]},
        )
    today = local_today(utcnow(), overdue.zone())
    if day is not None and not (
        today - timedelta(days=7) <= day <= today + timedelta(days=MAX_FOLLOW_UP_DAYS)
    ):
        raise InvalidInput(
            "Choose a follow-up date from last week to a year from now.",
            {"follow_up_on": ["From last week to a year from now."]},
        )
    referral.follow_up_on = day
    audit.record(
        actor,
        "update",
        "referral",
        referral.id,
        {"fields": ["follow_up_on"]},
        organization_id=referral.sender_organization_id,
        patient_id=referral.patient_id,
    )
    return referral
