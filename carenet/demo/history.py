"""``carenet seed --demo-history``: a year of synthetic needs, referrals and searches.

Runs after the directory and the demo users are seeded: referrals go from the
demo care organization (and any other care organization) to the community
organizations of the seeded directory, for patients in the ZIP codes where those
services are. Idempotent: nothing is written when a demo history exists.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from carenet.db.bulk import analyze
from carenet.demo.generator import Counts, Recipient, World, generate_history
from carenet.directory.models import Address, Organization, Service
from carenet.directory.taxonomy import category_for
from carenet.extensions import db
from carenet.referrals.models import Patient

DEMO_REFERRALS = 6000
NAME_PREFIX = "Demo Patient"
FALLBACK_POSTCODES = ["33125", "33127", "33135", "33142", "33150", "33161", "33012", "33010"]


def demo_history_exists() -> bool:
    """Whether demo patients are already there."""
    found = db.session.scalar(
        select(func.count()).select_from(Patient).where(Patient.given_name == "Demo")
    )
    return bool(found)


def seed_demo_history(
    referrals: int = DEMO_REFERRALS, echo: Callable[[str], None] = print
) -> Counts | None:
    """Create about a year of history (``referrals`` referrals); None when one exists."""
    if demo_history_exists():
        echo("demo history: already there, nothing written")
        return None
    world = _world()
    if not world.care_organization_ids or not world.recipients:
        echo("demo history: run `carenet seed` first (no care organization or no services)")
        return None
    conn = db.session.connection()
    counts = generate_history(conn, world, referrals, echo=echo)
    db.session.commit()
    analyze(db.session)
    echo(
        f"demo history: {counts.patients} patients, {counts.needs} needs, "
        f"{counts.referrals} referrals, {counts.events} events, "
        f"{counts.searches} zero-result searches"
    )
    return counts


def _world() -> World:
    care = list(
        db.session.scalars(
            select(Organization.id).where(Organization.kind == "care").order_by(Organization.name)
        )
    )
    recipients = []
    services = db.session.scalars(
        select(Service)
        .join(Organization, Organization.id == Service.organization_id)
        .where(Organization.kind == "community", Service.status == "active")
        .order_by(Service.name)
    )
    for service in services:
        domains = {c.sdoh_code for s in service.category_slugs if (c := category_for(s))}
        if domains:
            recipients.append(
                Recipient(service.organization_id, service.id, service.name, frozenset(domains))
            )
    postcodes = sorted(
        {p[:5] for p in db.session.scalars(select(Address.postal_code)) if p and p[:5].isdigit()}
    )
    end = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    return World(
        care_organization_ids=care,
        recipients=recipients,
        postcodes=postcodes[:60] or FALLBACK_POSTCODES,
        start=end - timedelta(days=365),
        end=end,
        name_prefix=NAME_PREFIX,
    )
