"""Fixtures for accounts tests: organizations, one user per role, signing in with CSRF."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from factories import PASSWORD, OrganizationFactory, ServiceFactory, UserFactory
from flask import Flask
from flask.testing import FlaskClient

from carenet.extensions import db

ROLES = ("coordinator", "cbo_staff", "cbo_admin", "program_lead", "admin")
_CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


@dataclass
class World:
    care: str
    network: str
    cbo_a: str
    cbo_b: str
    service_a: str
    service_b: str
    emails: dict[str, str]


@pytest.fixture
def world(app: Flask) -> World:
    """Two CBOs (A and B) with a service each, a care org, a network, a user per role."""
    with app.app_context():
        orgs = {
            "care": OrganizationFactory(name="Care Org", kind="care"),
            "network": OrganizationFactory(name="Network Org", kind="network"),
            "cbo_a": OrganizationFactory(name="CBO A"),
            "cbo_b": OrganizationFactory(name="CBO B"),
        }
        service_a = ServiceFactory(organization=orgs["cbo_a"], name="Pantry A", locations=[])
        service_b = ServiceFactory(organization=orgs["cbo_b"], name="Pantry B", locations=[])
        home = {
            "coordinator": "care",
            "cbo_staff": "cbo_a",
            "cbo_admin": "cbo_a",
            "program_lead": "network",
            "admin": "network",
        }
        emails = {}
        for role in ROLES:
            emails[role] = f"{role}@example.org"
            UserFactory(email=emails[role], role=role, organization=orgs[home[role]])
        emails["cbo_admin_b"] = "cbo_admin_b@example.org"
        UserFactory(email=emails["cbo_admin_b"], role="cbo_admin", organization=orgs["cbo_b"])
        db.session.commit()
        return World(
            care=orgs["care"].id,
            network=orgs["network"].id,
            cbo_a=orgs["cbo_a"].id,
            cbo_b=orgs["cbo_b"].id,
            service_a=service_a.id,
            service_b=service_b.id,
            emails=emails,
        )


def csrf_from(html: str) -> str:
    match = _CSRF.search(html)
    assert match, "no CSRF token in the page"
    return match.group(1)


@pytest.fixture
def csrf_token() -> Callable[[FlaskClient, str], str]:
    """The CSRF token of a form on ``path`` (fetched as the client's session)."""

    def fetch(client: FlaskClient, path: str = "/login") -> str:
        return csrf_from(client.get(path).get_data(as_text=True))

    return fetch


@pytest.fixture
def sign_in(csrf_token: Callable[[FlaskClient, str], str]) -> Callable[..., object]:
    """Sign ``client`` in through the real login form; returns the response."""

    def login(client: FlaskClient, email: str, password: str = PASSWORD, **environ: str):
        token = csrf_token(client, "/login")
        return client.post(
            "/login",
            data={"email": email, "password": password, "csrf_token": token},
            environ_overrides=environ or None,
        )

    return login
