"""A small seeded network for input tests: a user and API token per role, a service, a
patient with consent and a need, a referral with a note; and the real id each path
parameter of the app can take."""

from __future__ import annotations

from dataclasses import dataclass, field

from factories import (
    ConsentFactory,
    IndexedServiceFactory,
    NeedFactory,
    OrganizationFactory,
    PatientFactory,
    UserFactory,
)
from flask import Flask

from carenet.accounts import tokens
from carenet.accounts.models import User
from carenet.extensions import db
from carenet.referrals import history
from carenet.referrals.service import ReferralRequest, send_referral
from carenet.reports.service import REPORTS


@dataclass
class World:
    headers: dict[str, dict[str, str]]
    ids: dict[str, list[str]] = field(default_factory=dict)  # path parameter → real values


def seed(app: Flask) -> World:
    """Organizations, one user (and token) per role, a service, a patient with consent and
    a need, a referral with a note; the ids every path parameter can take."""
    with app.app_context():
        care = OrganizationFactory(name="Care", kind="care")
        network = OrganizationFactory(name="Network", kind="network")
        cbo = OrganizationFactory(name="CBO")
        home = {
            "coordinator": care,
            "cbo_staff": cbo,
            "cbo_admin": cbo,
            "program_lead": network,
            "admin": network,
        }
        users = {
            role: UserFactory(email=f"{role}@example.org", role=role, organization=org)
            for role, org in home.items()
        }
        spare = UserFactory(email="spare@example.org", role="cbo_staff", organization=cbo)
        db.session.commit()
        service = IndexedServiceFactory(
            name="Pantry", organization=cbo, categories=("food-pantry",)
        )
        patient = PatientFactory(
            organization=care,
            postal_code="33130",
            latitude=25.77,
            longitude=-80.19,
            created_by_id=users["coordinator"].id,
        )
        consent = ConsentFactory(patient=patient, recorded_by_id=users["coordinator"].id)
        need = NeedFactory(patient=patient, category="food-insecurity")
        db.session.commit()
        coordinator = db.session.get(User, users["coordinator"].id)
        request = ReferralRequest(patient_id=patient.id, service_id=service.id, need_id=need.id)
        referral = send_referral(coordinator, request).referral
        history.add_note(coordinator, referral.id, "Called the patient.")
        headers = {"anonymous": {}}
        for role, user in users.items():
            _, text = tokens.create_api_token(db.session.get(User, user.id), "fuzz")
            headers[role] = {"Authorization": f"Bearer {text}"}
        spare_token, _ = tokens.create_api_token(db.session.get(User, spare.id), "spare")
        db.session.commit()
        return World(
            headers=headers,
            ids={
                "service_id": [service.id],
                "patient_id": [patient.id],
                "need_id": [need.id],
                "referral_id": [referral.id],
                "consent_id": [consent.id],
                "token_id": [spare_token.id],
                "user_id": [spare.id],
                "name": [*REPORTS, *(f"{name}.csv" for name in REPORTS)],
            },
        )
