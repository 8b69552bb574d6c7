"""Demo users, one per role, for trying carenet out. CHANGE OR REMOVE THEM in any real deployment.

All share the password ``DEMO_PASSWORD``; see docs/security.md.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import func, select

from carenet.accounts import passwords, service
from carenet.accounts.models import Membership
from carenet.directory.models import Organization, Service, TaxonomyTerm, service_category
from carenet.extensions import db

DEMO_PASSWORD = "carenet-demo-2026"  # noqa: S105 (documented demo credential)
CARE_ORGANIZATION = "Demo Health System"
NETWORK_ORGANIZATION = "Demo Referral Network"
FALLBACK_CBO = "Demo Community Pantry"
SOCIAL_CARE_CATEGORIES = (
    "food-pantry",
    "meal-delivery",
    "housing",
    "transportation",
    "utilities",
    "in-home-help",
)

DEMO_USERS = (
    ("coordinator@demo.carenet.test", "Casey Coordinator", "coordinator", "care"),
    ("cbo.staff@demo.carenet.test", "Sam Staff", "cbo_staff", "community"),
    ("cbo.admin@demo.carenet.test", "Alex CBO-Admin", "cbo_admin", "community"),
    ("lead@demo.carenet.test", "Pat Program-Lead", "program_lead", "network"),
    ("admin@demo.carenet.test", "Ari Admin", "admin", "network"),
)


def seed_demo_users(echo: Callable[[str], None] | None = None) -> list[str]:
    """Create (idempotently) one demo user per role; returns the e-mails created now."""
    organizations = {
        "care": _organization(CARE_ORGANIZATION, "care"),
        "network": _organization(NETWORK_ORGANIZATION, "network"),
        "community": _demo_cbo(),
    }
    created = []
    password_hash = None
    for email, name, role, kind in DEMO_USERS:
        organization = organizations[kind]
        user = service.find_user(email)
        if user is None:
            password_hash = password_hash or passwords.hash_password(DEMO_PASSWORD)
            service.create_user(
                email, "", role, organization.id, display_name=name, password_hash=password_hash
            )
            created.append(email)
        elif not any(m.role == role for m in user.memberships):
            user.memberships.append(Membership(organization_id=organization.id, role=role))
        if echo:
            echo(f"demo user {email} ({role} at {organization.name})")
    db.session.commit()
    return created


def _organization(name: str, kind: str) -> Organization:
    found = db.session.scalar(
        select(Organization).where(Organization.name == name, Organization.kind == kind)
    )
    if found is None:
        found = Organization(
            name=name, kind=kind, description="Demo organization created by carenet's seed."
        )
        db.session.add(found)
        db.session.flush()
    return found


def _demo_cbo() -> Organization:
    """The directory's community organization with the most social-care services
    (food, meals, housing, rides, utilities, help at home), else a demo one."""
    busiest = db.session.scalar(
        select(Organization)
        .join(Service, Service.organization_id == Organization.id)
        .join(service_category, service_category.c.service_id == Service.id)
        .join(TaxonomyTerm, TaxonomyTerm.id == service_category.c.taxonomy_term_id)
        .where(Organization.kind == "community", TaxonomyTerm.code.in_(SOCIAL_CARE_CATEGORIES))
        .group_by(Organization.id)
        .order_by(func.count(func.distinct(Service.id)).desc(), Organization.name)
        .limit(1)
    )
    return busiest or _organization(FALLBACK_CBO, "community")
