"""Migration 0012: existing consents become decisions; revocations become deny rows."""

from __future__ import annotations

from datetime import timedelta

from factories import ConsentFactory, PatientFactory
from flask_migrate import downgrade, upgrade
from sqlalchemy import select

from carenet.db.types import as_utc, utcnow
from carenet.extensions import db
from carenet.referrals.consent import has_valid_consent
from carenet.referrals.models import Consent


def _rows(patient_id: str) -> list[tuple]:
    return db.session.execute(
        db.text(
            "SELECT decision, revokes_id, historical, revocation_note FROM consent "
            "WHERE patient_id = :p ORDER BY starts_at"
        ),
        {"p": patient_id},
    ).all()


def test_revoked_consents_become_deny_decisions_and_back(app_ctx):
    now = utcnow()
    before, after = PatientFactory(), PatientFactory()
    # ``before``: a consent revoked an hour ago, and another one older than the revocation.
    older = ConsentFactory(patient=before, starts_at=now - timedelta(days=3))
    revoked = ConsentFactory(
        patient=before,
        starts_at=now - timedelta(days=2),
        revoked_at=now - timedelta(hours=1),
        revocation_note="asked by phone",
    )
    # ``after``: a consent revoked, then a newer consent.
    ConsentFactory(
        patient=after, starts_at=now - timedelta(days=2), revoked_at=now - timedelta(days=1)
    )
    ConsentFactory(patient=after, starts_at=now - timedelta(hours=2))
    db.session.commit()
    ids = (before.id, after.id, older.id, revoked.id)
    db.session.remove()
    db.engine.dispose()
    try:
        downgrade(revision="0011_report_releases")
        db.engine.dispose()
        assert [len(r) for r in db.session.execute(db.text("SELECT * FROM consent")).all()]
        db.session.remove()
    finally:
        upgrade()
        db.engine.dispose()
    before_id, after_id, older_id, revoked_id = ids
    assert _rows(before_id) == [
        ("permit", None, False, None),
        ("permit", None, False, "asked by phone"),
        ("deny", revoked_id, False, "asked by phone"),
    ]
    deny = db.session.scalar(select(Consent).where(Consent.revokes_id == revoked_id))
    assert deny is not None
    assert as_utc(deny.starts_at) == as_utc(db.session.get(Consent, revoked_id).revoked_at)
    # The revocation is the latest decision: the older open consent no longer shares.
    assert not has_valid_consent(before_id)
    assert has_valid_consent(after_id)  # a consent newer than its revocation
    assert db.session.get(Consent, older_id).decision == "permit"
