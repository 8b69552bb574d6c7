"""Time-to-close from the histograms stored at release (migration 0020) equals the same
report recomputed from the raw tables (referral, referral_event), both backends.

The expected figures are computed here from the referrals and their events alone:
each duration put on the release's geometric grid (``durations.bucket_of``), the
median and 90th percentile interpolated as ``percentile_cont`` over the window's
referrals of each row, shown in hours as the report shows them — for every
grouping, a filter, and trend-like periods (quarters adding up months).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta

import pytest
from flask_migrate import downgrade, upgrade
from raw_referrals import raw_referrals
from sqlalchemy import inspect, select, text

from carenet.demo.generator import DOMAIN_WEIGHTS, Recipient, World, generate_history, write_rows
from carenet.extensions import db
from carenet.reports import service
from carenet.reports.query import ReportQuery
from carenet.reports.store import durations
from carenet.reports.store.models import ReportDuration

END = datetime(2026, 7, 1, tzinfo=UTC)
START = datetime(2026, 2, 1, tzinfo=UTC)
POSTCODES = ["33101", "33012", "32801"]
NONE = "—"


@pytest.fixture
def released(app_ctx):
    care = [f"dur-care-{i}" for i in range(2)]
    cbos = [f"dur-cbo-{i}" for i in range(3)]
    conn = db.session.connection()
    write_rows(conn, "organization", ("id", "name", "kind", "created_at", "updated_at"),
               [(i, i, "care", END, END) for i in care]
               + [(i, i, "community", END, END) for i in cbos])  # fmt: skip
    domains = list(DOMAIN_WEIGHTS)[:2]
    recipients = [Recipient(i, None, f"Service {i}", frozenset(domains)) for i in cbos]
    world = World(care, recipients, POSTCODES, START - timedelta(days=10), END, "Dur Patient",
                  domains={d: 1 for d in domains}, growth=False)  # fmt: skip
    generate_history(conn, world, 3000, seed=9, echo=lambda _: None)
    db.session.commit()
    service.release_months(db.session, END)
    return world


def _referrals() -> list[tuple]:
    """(created, {dimension: value}, [response, acceptance, completion seconds or None])."""
    return [(r.created, r.dims, r.seconds) for r in raw_referrals()]


def _expected(rows: list[tuple], group_by: str, start: datetime, end: datetime,
              **filters: str) -> dict[str, list[str]]:  # fmt: skip
    """Per row key: the six times as the report prints them, from the raw rows."""
    cells: dict[str, list[dict[int, int]]] = defaultdict(lambda: [{}, {}, {}])
    for created, dims, seconds in rows:
        if not start <= created < end or any(dims[k] != v for k, v in filters.items()):
            continue
        key = "all" if group_by == "none" else dims[group_by]
        for i, s in enumerate(seconds):
            if s is not None:
                b = durations.bucket_of(s)
                cells[key][i][b] = cells[key][i].get(b, 0) + 1
    return {
        key: [
            NONE if v is None else f"{v / 3600:.1f}"
            for h in hists
            for v in durations.percentiles(h)
        ]  # fmt: skip
        for key, hists in cells.items()
    }


def _shown(table) -> list[tuple[str, list[str], list[str]]]:  # type: ignore[no-untyped-def]
    """(row key, referrals cell, times) of the rows whose referral count is 11 or more."""
    return [(k, r[1], r[4:]) for k, r in zip(table.keys, table.rows, strict=True)
            if r[1].isdigit() and int(r[1]) >= 11]  # fmt: skip


WINDOWS = [(START, END)] + [
    (datetime(2026, m, 1, tzinfo=UTC), datetime(2026, m + 1, 1, tzinfo=UTC)) for m in range(2, 7)
]  # the whole window, and each month alone (sums of months hide more cells)


@pytest.mark.parametrize("group_by", ["none", "domain", "zip", "county", "cbo", "care_org"])
def test_time_to_close_from_the_release_equals_the_raw_tables(released, group_by):
    rows, compared = _referrals(), 0
    for start, end in WINDOWS:
        q = ReportQuery(start=start, end=end, as_of=END, group_by=group_by)
        table = service.time_to_close(db.session, q)
        expected = _expected(rows, group_by, start, end)
        for key, _, times in _shown(table):
            assert times == expected[key], (start, key)
            compared += 1
        hidden = [r for r in table.rows if not r[1].isdigit() or int(r[1]) < 11]
        assert all(r[4:] == [NONE] * 6 for r in hidden)
    assert compared >= 2, "the fixture must show some rows"


def test_a_filtered_table_equals_the_raw_tables(released):
    food, rows, compared = list(DOMAIN_WEIGHTS)[0], _referrals(), 0
    for start, end in WINDOWS:
        q = ReportQuery(start=start, end=end, as_of=END, group_by="cbo", domain=food)
        table = service.time_to_close(db.session, q)
        expected = _expected(rows, "cbo", start, end, domain=food)
        for key, _, times in _shown(table):
            assert times == expected[key], (start, key)
            compared += 1
    assert compared >= 2


def test_periods_add_up_their_months_histograms(released):
    q = ReportQuery(start=START, end=END, as_of=END, group_by="period", period="quarter")
    table = service.time_to_close(db.session, q)
    rows = _referrals()
    assert _shown(table)
    for key, _, times in _shown(table):
        first = datetime.fromisoformat(key).replace(tzinfo=UTC)
        stop = datetime(first.year, first.month + 3, 1, tzinfo=UTC) if first.month < 10 else (
            datetime(first.year + 1, 1, 1, tzinfo=UTC))  # fmt: skip
        expected = _expected(rows, "none", max(first, START), min(stop, END))
        assert times == expected["all"], key


def test_only_shown_cells_have_histograms(released):
    d = ReportDuration
    stored = db.session.execute(select(d.view, d.period_start, d.d1, d.d2).distinct()).all()
    assert stored
    shown = {
        (v, m, a, b)
        for v, m, a, b in db.session.execute(
            text(
                "SELECT view, period_start, d1, d2 FROM report_count WHERE family = 'referral'"
                " AND measure = 'all' AND value IS NOT NULL"
            )  # fmt: skip
        )
    }
    as_text = {(v, str(m), a, b) for v, m, a, b in shown}
    assert {(v, str(m), a, b) for v, m, a, b in stored} <= as_text


def test_migration_0020_down_and_up_and_the_histograms_come_back(released):
    q = ReportQuery(start=START, end=END, as_of=END, group_by="cbo")
    before = service.time_to_close(db.session, q)
    db.session.remove()
    db.engine.dispose()
    try:
        downgrade(revision="0019_report_periods")
        db.engine.dispose()
        assert "report_duration" not in inspect(db.engine).get_table_names()
    finally:
        upgrade()
        db.engine.dispose()
    assert "report_duration" in inspect(db.engine).get_table_names()
    assert db.session.scalar(select(ReportDuration.n).limit(1)) is None  # empty after upgrade
    # the next scheduled release fills the months released before (same report tables)
    service.release_months(db.session, END)
    again = service.time_to_close(db.session, q)
    assert (again.rows, again.totals) == (before.rows, before.totals)


def test_the_database_ranks_as_the_python_merge_does(released):
    """``cell_percentiles`` (ranked in SQL) equals ``percentiles`` of the summed histograms,
    for every view, window and a filter on either value of a pair."""
    from carenet.reports import cube

    months = sorted(db.session.scalars(select(ReportDuration.period_start).distinct()))
    assert len(months) >= 4
    windows = [months, months[:1], months[1:3], months[::2]]
    compared = 0
    for view in cube.REFERRAL.views():
        for window in windows:
            wheres: list[tuple[str, str] | None] = [None]
            summed = durations.load(db.session, window, view)
            for dim in view:  # a filter on each value of the view, taken from a stored cell
                some = next(iter(summed), None)
                if some is not None:
                    wheres.append((dim, some[0][view.index(dim)]))
            for where in wheres:
                expected = {
                    values: {m: durations.percentiles(h) for m, h in hists.items()}
                    for (values, _), hists in durations.load(
                        db.session, window, view, where
                    ).items()
                }
                found = durations.cell_percentiles(db.session, window, view, where)
                assert found.keys() == expected.keys(), (view, where)
                for values, per_measure in expected.items():
                    for measure, figures in per_measure.items():
                        assert found[values][measure] == pytest.approx(figures, rel=1e-12)
                        compared += 1
    assert compared > 100
