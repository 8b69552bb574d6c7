"""Closed-loop counts and duration percentiles on a generated history, every grouping.

Each figure is recomputed here independently from the raw ``referral`` and
``referral_event`` rows (durations from the events, percentiles by linear
interpolation as ``percentile_cont``). The index walk (``reports.store.percentiles``,
used without filters) must also give exactly, to the last bit, what the
filtered path gives: ``ROW_NUMBER()`` ranking on SQLite, ``percentile_cont`` on
PostgreSQL.
"""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import UTC, datetime, timedelta

import pytest
from raw_referrals import raw_referrals
from sqlalchemy import text

from carenet.demo.generator import (
    DOMAIN_WEIGHTS,
    Recipient,
    World,
    generate_history,
    write_rows,
)
from carenet.extensions import db
from carenet.reports.query import ReportQuery
from carenet.reports.store import measures

END = datetime(2026, 6, 1, tzinfo=UTC)
START = END - timedelta(days=120)
FINAL = {"completed", "rejected", "failed", "cancelled"}
POSTCODES = ["33101", "33012", "33301", "32801", "33125"]
GROUPINGS = [("none", "month"), ("domain", "month"), ("period", "week"), ("period", "month"),
             ("period", "quarter"), ("zip", "month"), ("county", "month"), ("cbo", "month"),
             ("care_org", "month")]  # fmt: skip


@pytest.fixture
def generated(app_ctx):
    rng = random.Random(11)
    now = END
    care = [f"pct-care-{i}" for i in range(3)]
    cbos = [f"pct-cbo-{i}" for i in range(6)]
    conn = db.session.connection()
    write_rows(conn, "organization", ("id", "name", "kind", "created_at", "updated_at"),
               [(i, i, "care", now, now) for i in care]
               + [(i, i, "community", now, now) for i in cbos])  # fmt: skip
    domains = list(DOMAIN_WEIGHTS)
    recipients = [
        Recipient(i, None, f"Service {i}", frozenset(rng.sample(domains, 3))) for i in cbos
    ]
    world = World(care, recipients, POSTCODES, START - timedelta(days=20), END, "Pct Patient")
    generate_history(conn, world, 600, seed=5, echo=lambda _: None)
    db.session.commit()
    # exact ties: 40 referrals answered at the moment they were sent (0 s, several per group)
    db.session.execute(
        text(
            "UPDATE referral SET created_at = (SELECT MIN(e.occurred_at) FROM referral_event e"
            " WHERE e.referral_id = referral.id AND e.to_status = 'accepted')"
            " WHERE id IN (SELECT referral_id FROM referral_event WHERE to_status = 'accepted'"
            " ORDER BY referral_id LIMIT 40)"
        )
    )
    db.session.commit()
    return world


def _percentile(values: list[float], p: float) -> float | None:
    if not values:
        return None
    values = sorted(values)
    position = p * (len(values) - 1)
    lo = int(position)
    hi = lo + (position > lo)
    return values[lo] + (values[hi] - values[lo]) * (position - lo)


def _expected(group_by: str, period: str, domain: str | None = None) -> dict[str, tuple]:
    """(referrals, closed, 6 percentiles) per group, from the raw tables."""
    groups: dict[str, list] = defaultdict(lambda: [0, 0, [], [], []])
    for r in raw_referrals():
        if not START <= r.created < END or domain not in (None, r.dims["domain"]):
            continue
        entry = groups[_key(group_by, period, r.created, r.dims)]
        entry[0] += 1
        entry[1] += r.status in FINAL
        for i, seconds in enumerate(r.seconds):
            if seconds is not None:
                entry[2 + i].append(seconds)
    return {
        k: (e[0], e[1], *[_percentile(e[2 + m], p) for m in range(3) for p in (0.5, 0.9)])
        for k, e in groups.items()
    }


def _key(group_by: str, period: str, created: datetime, dims: dict[str, str]) -> str:
    if group_by == "period":
        day = created.date()
        if period == "week":
            day = day - timedelta(days=day.weekday())
        elif period == "month":
            day = day.replace(day=1)
        else:
            day = day.replace(month=(day.month - 1) // 3 * 3 + 1, day=1)
        return day.isoformat()
    return "all" if group_by == "none" else dims[group_by]


def _found(group_by: str, period: str, **filters) -> dict[str, tuple]:  # type: ignore[no-untyped-def]
    q = ReportQuery(start=START, end=END, as_of=END, group_by=group_by, period=period, **filters)
    return {
        t.key: (t.referrals, t.closed, *t.response, *t.acceptance, *t.completion)
        for t in measures.timings(db.session, q)
    }


@pytest.mark.parametrize(("group_by", "period"), GROUPINGS)
def test_timings_match_a_recomputation_from_the_raw_tables(generated, group_by, period):
    found, expected = _found(group_by, period), _expected(group_by, period)
    assert set(found) == set(expected)
    assert len(found) > (1 if group_by != "none" else 0)
    for key, row in expected.items():
        assert found[key][:2] == row[:2], key
        assert found[key][2:] == pytest.approx(row[2:], abs=1e-3), key  # julianday vs Python


@pytest.mark.parametrize("group_by", ["zip", "cbo"])
def test_filtered_timings_match_a_recomputation(generated, group_by):
    food = "food-insecurity"
    found, expected = _found(group_by, "month", domain=food), _expected(group_by, "month", food)
    assert set(found) == set(expected) and expected
    for key, row in expected.items():
        assert found[key][:2] == row[:2], key
        assert found[key][2:] == pytest.approx(row[2:], abs=1e-3), key


@pytest.mark.parametrize(("group_by", "period"), GROUPINGS)
def test_index_walk_equals_ranking_the_rows(generated, group_by, period, monkeypatch):
    monkeypatch.setattr(measures, "_walkable", lambda session, dialect: True)  # tiny tables
    walked = _found(group_by, period)
    # the path filtered reports take: ROW_NUMBER() on SQLite, percentile_cont on PostgreSQL
    monkeypatch.setattr(measures, "_filtered", lambda q: True)
    assert _found(group_by, period) == walked  # exactly, not approximately


def test_an_empty_range_gives_no_rows_for_any_grouping(generated):
    empty = {"start": END + timedelta(days=30), "end": END + timedelta(days=60), "as_of": END}
    for group_by in ("none", "domain", "cbo"):
        q = ReportQuery(group_by=group_by, **empty)
        assert measures.timings(db.session, q) == []
        assert measures.status_counts(db.session, q) == []
        assert measures.reason_counts(db.session, q) == []
        if group_by != "cbo":
            assert measures.need_counts(db.session, q) == []


def test_the_first_build_puts_every_covering_index_back(generated):
    from sqlalchemy import inspect

    from carenet.reports.store.indexes import need_indexes, referral_indexes

    q = ReportQuery(start=START, end=END, as_of=END, group_by="domain")
    assert measures.timings(db.session, q)  # the first refresh dropped and rebuilt them
    inspector = inspect(db.engine)
    found = {
        i["name"] for t in ("report_referral", "report_need") for i in inspector.get_indexes(t)
    }
    assert {i.name for i in referral_indexes() + need_indexes()} <= found
