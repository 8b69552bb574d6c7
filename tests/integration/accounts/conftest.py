"""Fixtures for accounts tests: organizations, one user per role, signing in with CSRF."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

import pytest
from flask import Flask
from flask.testing import FlaskClient

from carenet.accounts import passwords, service
from carenet.directory.models import Organization, Service
from carenet.extensions import db

PASSWORD = "a long test passphrase"
ROLES = ("coordinator", "cbo_staff", "cbo_admin", "program_lead", "admin")
_CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


@cache
def password_hash() -> str:
    """Hashing with argon2id (64 MiB) once per test run keeps the suite fast."""
    return passwords.hash_password(PASSWORD)


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
            "care": Organization(name="Care Org", kind="care"),
            "network": Organization(name="Network Org", kind="network"),
            "cbo_a": Organization(name="CBO A", kind="community"),
            "cbo_b": Organization(name="CBO B", kind="community"),
        }
        db.session.add_all(orgs.values())
        db.session.flush()
        service_a = Service(organization_id=orgs["cbo_a"].id, name="Pantry A")
        service_b = Service(organization_id=orgs["cbo_b"].id, name="Pantry B")
        db.session.add_all([service_a, service_b])
        db.session.flush()
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
            service.create_user(
                emails[role], "", role, orgs[home[role]].id, password_hash=password_hash()
            )
        emails["cbo_admin_b"] = "cbo_admin_b@example.org"
        service.create_user(
            emails["cbo_admin_b"], "", "cbo_admin", orgs["cbo_b"].id, password_hash=password_hash()
        )
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
