"""``carenet seed --demo-history``: a year of synthetic needs, referrals and searches.

Runs after the directory and the demo users are seeded: referrals go from the
demo care organization (and any other care organization) to the community
organizations of the seeded directory, for patients in the ZIP codes where those
services are. Idempotent: nothing is written when a demo history exists.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, update

from carenet.accounts.models import Membership
from carenet.db.bulk import analyze
from carenet.db.types import point_wkt
from carenet.demo.generator import Counts, Recipient, World, generate_history
from carenet.directory.models import Address, Organization, Service
from carenet.directory.taxonomy import category_for
from carenet.extensions import db
from carenet.geo.geocoding import zip_centroid
from carenet.referrals.models import Patient

DEMO_REFERRALS = 6000
NAME_PREFIX = "Demo Patient"
# Volume that survives the reports' small-cell threshold (11) in their default views: six
# months of history (about 1,000 referrals a month), three SDOH domains, two rejection
# reasons, the patients in 4 ZIP codes and the referrals to 5 community organizations
# (docs/reports.md, "Demo history").
DEMO_MONTHS_DAYS = 183
DEMO_ZIPS = 4
DEMO_CBOS = 5
DEMO_REASONS = {"no-capacity": 55, "not-eligible": 45}
DEMO_DOMAINS = {"food-insecurity": 38, "transportation-insecurity": 32, "housing-instability": 30}
DEMO_REJECT_RATE = 0.25  # every domain
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
    _map_points()
    db.session.commit()
    analyze(db.session)
    echo(
        f"demo history: {counts.patients} patients ({counts.consents} consent decisions), "
        f"{counts.needs} needs, "
        f"{counts.referrals} referrals, {counts.events} events, "
        f"{counts.searches} zero-result searches"
    )
    return counts


def _map_points() -> None:
    """Each demo patient's point (geom) from the latitude and longitude the generator gave
    them — their ZIP code's centroid, as ``carenet.geo.geocoding`` resolves it offline."""
    found = db.session.execute(
        select(Patient.id, Patient.latitude, Patient.longitude).where(
            Patient.given_name == "Demo", Patient.latitude.is_not(None), Patient.geom.is_(None)
        )
    ).all()
    if found:
        db.session.execute(
            update(Patient),
            [{"id": pid, "geom": point_wkt(lon, lat)} for pid, lat, lon in found],
        )


def _coordinators() -> dict[str, str]:
    """Care organization → its first coordinator (by e-mail order of membership)."""
    rows = db.session.execute(
        select(Membership.organization_id, Membership.user_id)
        .join(Organization, Organization.id == Membership.organization_id)
        .where(Organization.kind == "care", Membership.role == "coordinator")
        .order_by(Membership.created_at, Membership.user_id)
    )  # fmt: skip
    found: dict[str, str] = {}
    for org, user in rows:
        found.setdefault(org, user)
    return found


def _few_cbos(recipients: list[Recipient]) -> list[Recipient]:
    """The services of ``DEMO_CBOS`` community organizations: those with demo users first
    (their inbox has referrals), then those with the most services in the demo's domains."""
    staffed = set(
        db.session.scalars(
            select(Membership.organization_id)
            .join(Organization, Organization.id == Membership.organization_id)
            .where(Organization.kind == "community")
        )
    )
    useful = [r for r in recipients if r.domains & set(DEMO_DOMAINS)]
    per_org: dict[str, int] = {}
    for r in useful:
        per_org[r.organization_id] = per_org.get(r.organization_id, 0) + 1
    ranked = sorted(per_org, key=lambda o: (o not in staffed, -per_org[o], o))[:DEMO_CBOS]
    return [r for r in useful if r.organization_id in ranked] or recipients


def _world() -> World:
    coordinators = _coordinators()
    # referrals come from care organizations with a coordinator (else from any, unnamed)
    care = sorted(coordinators) or list(
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
    recipients = _few_cbos(recipients)
    known = {p[:5] for p in db.session.scalars(select(Address.postal_code)) if p}
    points = {
        z: (centre.latitude, centre.longitude)
        for z in sorted(known | set(FALLBACK_POSTCODES))
        if z.isdigit() and (centre := zip_centroid(z)) is not None
    }
    postcodes = sorted(z for z in known if z in points)
    end = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    return World(
        care_organization_ids=care,
        recipients=recipients,
        postcodes=postcodes[:DEMO_ZIPS] or FALLBACK_POSTCODES,
        start=end - timedelta(days=DEMO_MONTHS_DAYS),
        end=end,
        name_prefix=NAME_PREFIX,
        coordinators=coordinators,
        points=points,
        consent=True,
        domains=dict(DEMO_DOMAINS),
        growth=False,
        reasons=dict(DEMO_REASONS),
        reject_rates=dict.fromkeys(DEMO_DOMAINS, DEMO_REJECT_RATE),
        withdrawn=1.0,  # nothing left "requested" for months
    )
