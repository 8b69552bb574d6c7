"""Report tables follow the workflow's changes; searches that find nothing are logged."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select

from carenet.demo.history import seed_demo_history
from carenet.directory.models import Organization, Service
from carenet.directory.service import ensure_taxonomy
from carenet.extensions import db
from carenet.referrals.models import Need, Patient, Referral, ReferralEvent
from carenet.reports.store import measures
from carenet.reports.store.models import ReportReferral, SearchGap

FOOD = "food-insecurity"


def test_a_change_after_a_report_shows_in_the_next_one(history):
    before = {r.key: r for r in measures.need_counts(db.session, history.query())}
    assert (before[FOOD].met, before[FOOD].open) == (1, 1)
    # N3 (food, 33301, open) gets a referral that is completed, as the workflow writes it
    need = db.session.scalar(
        select(Need).where(Need.created_at == datetime(2026, 3, 25, 8, tzinfo=UTC))
    )
    now = datetime.now(UTC)
    sent = datetime(2026, 3, 26, 9, tzinfo=UTC)
    referral = Referral(patient_id=need.patient_id, need_id=need.id, category=FOOD,
                        sender_organization_id=history.care, service_name="Pantry",
                        recipient_organization_id=history.cbo_one, status="completed",
                        version=2, created_at=sent, updated_at=now)  # fmt: skip
    db.session.add(referral)
    db.session.flush()
    db.session.add_all([
        ReferralEvent(referral_id=referral.id, to_status="requested", version=1, occurred_at=sent),
        ReferralEvent(referral_id=referral.id, from_status="requested", to_status="completed",
                      version=2, occurred_at=datetime(2026, 3, 27, 9, tzinfo=UTC)),
    ])  # fmt: skip
    need.status, need.updated_at = "addressed", now
    db.session.commit()
    after = {r.key: r for r in measures.need_counts(db.session, history.query())}
    assert (after[FOOD].met, after[FOOD].open) == (2, 0)
    fact = db.session.get(ReportReferral, referral.id)
    assert (fact.status, fact.closed, fact.zip5) == ("completed", 1, "33301")
    assert fact.completion_s == 24 * 3600


def test_a_search_that_finds_nothing_is_logged_without_a_person(client):
    with client.application.app_context():
        ensure_taxonomy()
        db.session.commit()
    response = client.get("/api/v1/services/search?near=33101&category=housing&radius_mi=5")
    assert response.status_code == 200
    assert response.get_json()["total_items"] == 0
    with client.application.app_context():
        (gap,) = db.session.scalars(select(SearchGap)).all()
        assert (gap.category, gap.domain, gap.postcode, gap.radius_mi) == (
            "housing",
            "housing-instability",
            "33101",
            5.0,
        )


def test_demo_history_is_written_once(app_ctx):
    terms = ensure_taxonomy()
    care = Organization(name="Demo Health System", kind="care")
    cbo = Organization(name="Pantry Org", kind="community")
    db.session.add_all([care, cbo])
    db.session.flush()
    service = Service(organization_id=cbo.id, name="Pantry", status="active")
    service.categories = [terms["food-pantry"], terms["housing"]]
    db.session.add(service)
    db.session.commit()
    counts = seed_demo_history(referrals=300, echo=lambda _: None)
    assert counts is not None and counts.referrals >= 300
    referrals = db.session.scalar(select(func.count()).select_from(Referral))
    assert referrals == counts.referrals
    # every referral's status and version agree with its last event
    last = db.session.execute(
        select(Referral.status, Referral.version, ReferralEvent.to_status, ReferralEvent.version)
        .join(ReferralEvent, ReferralEvent.referral_id == Referral.id)
        .where(ReferralEvent.version == Referral.version)
    ).all()
    assert len(last) == referrals and all(a == c and b == d for a, b, c, d in last)
    names = db.session.scalars(select(Patient.family_name).limit(3)).all()
    assert all(n.startswith("Patient ") for n in names)
    assert seed_demo_history(referrals=300, echo=lambda _: None) is None  # idempotent
    assert db.session.scalar(select(func.count()).select_from(Referral)) == referrals
