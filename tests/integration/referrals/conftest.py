"""A small referral network: two care organizations, two CBOs with services, a user per role."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from factories import (
    PASSWORD,
    ConsentFactory,
    OrganizationFactory,
    PatientFactory,
    ServiceFactory,
    UserFactory,
)
from flask import Flask

from carenet.accounts.models import User
from carenet.extensions import db

USERS = {
    "coordinator": ("coordinator", "care"),
    "coordinator_other": ("coordinator", "care_other"),
    "staff_a": ("cbo_staff", "cbo_a"),
    "admin_a": ("cbo_admin", "cbo_a"),
    "staff_b": ("cbo_staff", "cbo_b"),
    "lead": ("program_lead", "care"),
    "admin": ("admin", "care"),
}


@dataclass
class Net:
    orgs: dict[str, str]
    services: dict[str, str]
    users: dict[str, str]  # name → user id
    emails: dict[str, str]
    patient: str
    patient_without_consent: str

    def user(self, name: str) -> User:
        user = db.session.get(User, self.users[name])
        assert user is not None
        return user


def build_net() -> Net:
    """Rows written through the factories, committed; call inside an app context."""
    orgs = {
        "care": OrganizationFactory(name="Mercy Clinic", kind="care"),
        "care_other": OrganizationFactory(name="Other Clinic", kind="care"),
        "cbo_a": OrganizationFactory(name="Food Bank A"),
        "cbo_b": OrganizationFactory(name="Rides B"),
    }
    services = {
        "open": ServiceFactory(organization=orgs["cbo_a"], name="Pantry A", locations=[]),
        "waitlist": ServiceFactory(
            organization=orgs["cbo_a"], name="Meals A", capacity_status="waitlist", locations=[]
        ),
        "full": ServiceFactory(
            organization=orgs["cbo_a"],
            name="Shelter A",
            capacity_status="no-capacity",
            locations=[],
        ),
        "b": ServiceFactory(organization=orgs["cbo_b"], name="Rides B", locations=[]),
    }
    users = {
        name: UserFactory(
            email=f"{name}@example.org", display_name=name, role=role, organization=orgs[org]
        )
        for name, (role, org) in USERS.items()
    }
    coordinator = users["coordinator"].id
    patient = PatientFactory(
        organization=orgs["care"],
        given_name="Ana",
        family_name="Lopez",
        birth_date=date(1950, 3, 4),
        phone="305-555-0199",
        postal_code="33130",
        created_by_id=coordinator,
    )
    bare = PatientFactory(
        organization=orgs["care"],
        given_name="Ben",
        family_name="Ng",
        birth_date=date(1961, 1, 2),
        created_by_id=coordinator,
    )
    ConsentFactory(patient=patient, recorded_by_id=coordinator)
    db.session.commit()
    return Net(
        orgs={k: v.id for k, v in orgs.items()},
        services={k: v.id for k, v in services.items()},
        users={k: v.id for k, v in users.items()},
        emails={k: v.email for k, v in users.items()},
        patient=patient.id,
        patient_without_consent=bare.id,
    )


@pytest.fixture
def net(app_ctx: Flask) -> Net:
    return build_net()


@pytest.fixture
def api_net(app: Flask) -> Net:
    with app.app_context():
        return build_net()


@pytest.fixture
def tokens(app: Flask, api_net: Net) -> dict[str, dict[str, str]]:
    """An Authorization header per user name."""
    from carenet.accounts import service as accounts

    headers = {}
    with app.app_context():
        for name, user_id in api_net.users.items():
            user = db.session.get(User, user_id)
            _, token = accounts.create_api_token(user, "tests")
            headers[name] = {"Authorization": f"Bearer {token}"}
        db.session.commit()
    return headers


@pytest.fixture
def send(net: Net) -> Any:
    """Send a referral for the consenting patient as the coordinator; returns the Referral."""
    from carenet.referrals.service import ReferralRequest, send_referral

    def _send(service: str = "open", **fields: Any) -> Any:
        fields.setdefault("category", None if fields.get("need_id") else "food-insecurity")
        request = ReferralRequest(
            patient_id=net.patient, service_id=net.services[service], **fields
        )
        return send_referral(net.user("coordinator"), request).referral

    return _send


_CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def csrf_from(html: str) -> str:
    match = _CSRF.search(html) or re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF token in the page"
    return match.group(1)


@pytest.fixture
def signed_in(app: Flask, api_net: Net) -> Any:
    """A test client signed in as ``name`` through the real login form."""

    def client_for(name: str) -> Any:
        client = app.test_client()
        token = csrf_from(client.get("/login").get_data(as_text=True))
        response = client.post(
            "/login",
            data={"email": api_net.emails[name], "password": PASSWORD, "csrf_token": token},
        )
        assert response.status_code in (302, 303), response.get_data(as_text=True)[:300]
        return client

    return client_for
