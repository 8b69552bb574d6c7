"""The scheduled release: `carenet reports release` releases every ended month once; a
request never releases — it shows the released months and names the pending ones."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import func, select

from carenet.extensions import db
from carenet.reports import service
from carenet.reports.store.models import ReportCount, ReportPeriod

MAY = datetime(2026, 5, 1, 12, tzinfo=UTC)


def _periods() -> list[date]:
    return list(db.session.scalars(select(ReportPeriod.period_start).order_by("period_start")))


def test_a_request_never_releases_and_says_what_is_pending(unreleased_history):
    table = service.unmet_needs(db.session, unreleased_history.query(group_by="domain"))
    assert table.rows == [] and table.totals is None
    assert "pending" in table.note and "January 2026" in table.note and "March 2026" in table.note
    assert (table.first, table.last) == (date(2026, 1, 1), date(2026, 3, 31))
    board = service.dashboard(db.session, unreleased_history.query(group_by="domain"))
    assert "March 2026" in board.pending
    assert _periods() == []
    assert db.session.scalar(select(func.count()).select_from(ReportCount)) == 0


def test_the_job_releases_every_ended_month_once(unreleased_history, release_job):
    released = service.release_months(db.session(), unreleased_history.query().as_of)
    # the first data is a zero-result search of November 2025; April has not ended
    assert released == [date(2025, 11, 1), date(2025, 12, 1), date(2026, 1, 1),
                        date(2026, 2, 1), date(2026, 3, 1)]  # fmt: skip
    rows = db.session.scalar(select(func.count()).select_from(ReportCount))
    assert rows > 0
    assert service.release_months(db.session(), unreleased_history.query().as_of) == []
    assert db.session.scalar(select(func.count()).select_from(ReportCount)) == rows
    table = service.unmet_needs(db.session, unreleased_history.query(group_by="domain"))
    assert table.note == "" and table.rows and table.totals


def test_the_latest_month_pending_is_left_out_and_named(unreleased_history, release_job):
    release_job()  # as of April 1: up to March
    q = unreleased_history.query(group_by="period", period="month", as_of=MAY,
                                 end=datetime(2026, 5, 1, tzinfo=UTC))  # fmt: skip
    table = service.unmet_needs(db.session, q)
    assert [k for k in table.keys] == ["2026-01-01", "2026-02-01", "2026-03-01"]
    assert table.last == date(2026, 3, 31)
    assert table.note == "Not released yet (pending): April 2026."
    assert _periods()[-1] == date(2026, 3, 1)  # the request released nothing
    assert service.release_months(db.session(), MAY) == [date(2026, 4, 1)]
    table = service.unmet_needs(db.session, q)
    assert table.note == "" and table.last == date(2026, 4, 30)


def test_filtered_reads_match_the_unfiltered_table(history):
    whole = service.unmet_needs(db.session, history.query(group_by="zip"))
    food = service.unmet_needs(db.session, history.query(group_by="zip", domain="food-insecurity"))
    assert set(food.keys) <= set(whole.keys) and food.keys
    gaps = service.service_gaps(db.session, history.query(zip="33101"))
    assert {r[1] for r in gaps.rows} == {"33101"}


def test_the_command_releases_and_is_idempotent(app, unreleased_history):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["reports", "release", "--as-of", "2026-04-01"])
    assert first.exit_code == 0, first.output
    assert "released 2026-03" in first.output and "5 month(s) released" in first.output
    again = runner.invoke(args=["reports", "release", "--as-of", "2026-04-01"])
    assert again.exit_code == 0 and "nothing to release" in again.output
