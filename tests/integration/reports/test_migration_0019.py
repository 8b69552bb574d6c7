"""Migration 0019: released months carried from JSON documents to one row per count and back,
unchanged (frozen cells stay what they were)."""

from __future__ import annotations

from flask_migrate import downgrade, upgrade
from sqlalchemy import select

from carenet.extensions import db
from carenet.reports import service
from carenet.reports.store.models import ReportCount, ReportPeriod


def _counts() -> list[tuple]:
    c = ReportCount
    return sorted(
        db.session.execute(
            select(c.family, c.view, c.period_start, c.d1, c.d2, c.measure, c.value, c.mark)
        ).all()
    )


def test_released_counts_survive_a_downgrade_and_upgrade(history):
    before = _counts()
    months = sorted(db.session.scalars(select(ReportPeriod.period_start)))
    table = service.unmet_needs(db.session, history.query(group_by="zip"))
    assert before and months
    db.session.remove()
    db.engine.dispose()
    try:
        downgrade(revision="0018_cbo_inbox")
        db.engine.dispose()
        docs = db.session.execute(db.text("SELECT COUNT(*) FROM report_release")).scalar_one()
        assert docs > 0
        db.session.remove()
    finally:
        upgrade()
        db.engine.dispose()
    assert _counts() == before
    assert sorted(db.session.scalars(select(ReportPeriod.period_start))) == months
    again = service.unmet_needs(db.session, history.query(group_by="zip"))
    assert (again.rows, again.totals) == (table.rows, table.totals)
