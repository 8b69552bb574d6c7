"""Timestamps read back timezone-aware in UTC on both backends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from carenet.directory.models import Organization
from carenet.extensions import db


def test_a_stored_moment_reads_back_aware_and_equal_in_utc(app_ctx):
    miami_evening = datetime(2026, 3, 8, 21, 30, tzinfo=timezone(timedelta(hours=-5)))
    org = Organization(name="Clock Test", kind="community", created_at=miami_evening)
    db.session.add(org)
    db.session.commit()
    db.session.expire_all()

    stored = db.session.get(Organization, org.id)
    assert stored.created_at.tzinfo is not None
    assert stored.created_at == miami_evening
    assert stored.created_at.astimezone(UTC) == datetime(2026, 3, 9, 2, 30, tzinfo=UTC)
