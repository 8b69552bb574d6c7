"""The demo tells the truth (`carenet seed --demo-history` on the seeded directory, both
backends): consent rows behind every referral (a few revoked), coordinators on every
referral, a map point for every patient, and reports mostly shown in the default views."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from carenet.accounts.models import Membership
from carenet.accounts.seed import seed_demo_users
from carenet.demo.history import seed_demo_history
from carenet.directory.seed import seed_directory
from carenet.extensions import db
from carenet.geo.geocoding import zip_centroid
from carenet.referrals.consent import patients_with_valid_consent
from carenet.referrals.models import Consent, Patient, Referral
from carenet.reports import service
from carenet.reports.query import ReportQuery


@pytest.fixture
def demo(app_ctx):
    seed_directory(echo=lambda *_: None)
    seed_demo_users()
    counts = seed_demo_history(echo=lambda _: None)
    assert counts is not None and counts.referrals >= 6000 and counts.patients == 1500
    return counts


def _patients() -> list[Patient]:
    return list(db.session.scalars(select(Patient).where(Patient.given_name == "Demo")))


def test_consent_rows_and_a_few_revocations(demo):
    patients = _patients()
    sharing = patients_with_valid_consent([p.id for p in patients])
    revoked = {p.id for p in patients} - sharing
    assert 0.01 * len(patients) <= len(revoked) <= 0.06 * len(patients)
    for pid in revoked:  # a revoked permit and the deny decision naming it, nothing else
        decisions = db.session.scalars(select(Consent).where(Consent.patient_id == pid)).all()
        permit = next(c for c in decisions if c.decision == "permit")
        deny = next(c for c in decisions if c.decision == "deny")
        assert permit.revoked_at is not None and deny.revokes_id == permit.id
    # every referral's patient has consent rows (withdrawn only for the revoked ones)
    without = db.session.scalar(
        select(func.count())
        .select_from(Referral)
        .where(~select(Consent.id).where(Consent.patient_id == Referral.patient_id).exists())
    )  # fmt: skip
    assert without == 0


def test_every_referral_has_a_coordinator_of_its_sender(demo):
    rows = db.session.execute(
        select(Referral.coordinator_id, Referral.sender_organization_id, Membership.role)
        .outerjoin(Membership, (Membership.user_id == Referral.coordinator_id)
                   & (Membership.organization_id == Referral.sender_organization_id))
    ).all()  # fmt: skip
    assert rows and all(c is not None and role == "coordinator" for c, _, role in rows)


def test_every_patient_has_a_map_point_at_their_zip_centroid(demo):
    patients = _patients()
    for p in patients:
        centre = zip_centroid(p.postal_code)
        assert centre is not None and p.geom is not None
        assert (p.latitude, p.longitude) == (centre.latitude, centre.longitude)
    x, y = db.session.execute(
        select(func.ST_X(Patient.geom), func.ST_Y(Patient.geom)).where(Patient.id == patients[0].id)
    ).one()
    assert (round(y, 6), round(x, 6)) == (round(patients[0].latitude, 6),
                                          round(patients[0].longitude, 6))  # fmt: skip


def test_reports_in_the_default_views_are_mostly_shown(demo):
    assert service.release_months(db.session()), "the scheduled release found ended months"
    now = datetime.now(UTC)
    q = ReportQuery(start=now - timedelta(days=365), end=now, group_by="domain")
    board = service.dashboard(db.session, q)
    hidden = shown = 0
    for table in [*board.tables.values(), board.trend]:
        for row in [*table.rows, *([table.totals] if table.totals else [])]:
            for cell in row[1:]:
                if cell in ("<11", "hidden"):
                    hidden += 1
                elif cell not in ("—", ""):
                    shown += 1
    assert shown > hidden, (shown, hidden)
    # the needs tables, grouped by domain and over time, have no hidden cell
    needs = [board.tables["unmet-needs"], board.trend]
    assert all("<11" not in r and "hidden" not in r for t in needs for r in t.rows)
