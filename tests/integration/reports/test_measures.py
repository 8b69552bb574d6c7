"""Each measure on the hand-computed history of conftest.py, exact numbers, both backends."""

from __future__ import annotations

import pytest

from carenet.extensions import db
from carenet.reports.store import measures
from carenet.reports.store.gaps import gap_counts

FOOD, HOUSING, RIDES = "food-insecurity", "housing-instability", "transportation-insecurity"


def _needs(history, **fields):
    rows = measures.need_counts(db.session, history.query(**fields))
    return {r.key: (r.identified, r.met, r.unmet, r.open) for r in rows}


def test_needs_identified_met_unmet_open_by_domain(history):
    assert _needs(history, group_by="domain") == {
        FOOD: (3, 1, 1, 1),  # N1 met; N2 every referral ended badly; N3 only 6 days old
        HOUSING: (2, 0, 2, 0),  # N4 no referral after 14 days; N5 still requested after 30
        RIDES: (2, 1, 0, 1),  # N7 met after a rejection; N6 accepted 11 days ago
    }


def test_needs_overall_by_zip_county_period_and_care_org(history):
    assert _needs(history, group_by="none") == {"all": (7, 2, 3, 2)}
    assert _needs(history, group_by="zip") == {
        "33012": (2, 0, 2, 0),
        "33101": (3, 2, 1, 0),
        "33301": (2, 0, 0, 2),
    }
    assert _needs(history, group_by="county") == {
        "Broward County, FL": (2, 0, 0, 2),
        "Miami-Dade County, FL": (5, 2, 3, 0),
    }
    assert _needs(history, group_by="period", period="month") == {
        "2026-01-01": (2, 1, 1, 0),
        "2026-02-01": (2, 0, 2, 0),
        "2026-03-01": (3, 1, 0, 2),
    }
    assert _needs(history, group_by="care_org") == {history.care: (7, 2, 3, 2)}


def test_needs_filters(history):
    assert _needs(history, group_by="domain", zip="33101") == {
        FOOD: (1, 1, 0, 0),
        HOUSING: (1, 0, 1, 0),
        RIDES: (1, 1, 0, 0),
    }
    assert _needs(history, group_by="none", county="Broward County, FL") == {"all": (2, 0, 0, 2)}
    assert _needs(history, group_by="none", domain=HOUSING) == {"all": (2, 0, 2, 0)}
    # a need counts for a CBO when one of its referrals went there
    assert _needs(history, group_by="none", cbo=history.cbo_one) == {"all": (3, 2, 1, 0)}


def test_week_and_quarter_periods(history):
    weeks = _needs(history, group_by="period", period="week")
    assert weeks["2026-01-05"] == (2, 1, 1, 0)  # Monday 5 Jan: N1 (Mon) and N2 (Sat 10th)
    assert weeks["2026-03-23"] == (1, 0, 0, 1)  # N3 on Wednesday 25 March
    assert _needs(history, group_by="period", period="quarter") == {"2026-01-01": (7, 2, 3, 2)}


def test_referral_outcomes_and_reasons(history):
    rows = measures.status_counts(db.session, history.query(group_by="none"))
    assert {status: n for _, _, status, n in rows} == {
        "completed": 2,
        "rejected": 2,
        "failed": 1,
        "requested": 1,
        "accepted": 1,
    }
    by_cbo = measures.status_counts(db.session, history.query(group_by="cbo"))
    one, two = history.cbo_one, history.cbo_two  # grouped by id; names come after
    assert {(key, s): n for key, _, s, n in by_cbo} == {
        (one, "completed"): 1,
        (one, "rejected"): 2,
        (two, "failed"): 1,
        (two, "requested"): 1,
        (two, "accepted"): 1,
        (two, "completed"): 1,
    }
    reasons = measures.reason_counts(db.session, history.query(group_by="domain"))
    assert {(k, code): n for k, _, code, n in reasons} == {
        (FOOD, "no-capacity"): 1,
        (FOOD, "could-not-contact"): 1,
        (RIDES, "not-eligible"): 1,
    }


def test_closed_loop_and_time_percentiles(history):
    (overall,) = measures.timings(db.session, history.query(group_by="none"))
    assert (overall.referrals, overall.closed) == (7, 5)
    hours = lambda pair: pytest.approx(tuple(v / 3600 for v in pair), abs=1e-4)  # noqa: E731
    assert (3.5, 8.0) == hours(overall.response)  # of 1, 2, 3, 4, 6, 10 hours
    assert (2.5, 7.9) == hours(overall.acceptance)  # of 1, 2, 3, 10
    assert (96.0, 115.2) == hours(overall.completion)  # of 72 and 120


def test_time_percentiles_per_cbo_and_category(history):
    by_cbo = {t.key: t for t in measures.timings(db.session, history.query(group_by="cbo"))}
    one, two = by_cbo[history.cbo_one], by_cbo[history.cbo_two]
    assert (one.referrals, one.closed, two.referrals, two.closed) == (3, 3, 4, 2)
    assert tuple(v / 3600 for v in one.response) == pytest.approx((4.0, 5.6))  # 2, 4, 6
    assert tuple(v / 3600 for v in two.acceptance) == pytest.approx((3.0, 8.6))  # 1, 3, 10
    assert one.acceptance == pytest.approx((7200.0, 7200.0), abs=0.01)
    by_domain = {t.key: t for t in measures.timings(db.session, history.query(group_by="domain"))}
    assert by_domain[HOUSING].response == (None, None)  # R4 never answered
    assert by_domain[HOUSING].closed == 0


def test_zero_result_searches_are_counted_by_domain_and_zip(history):
    rows = gap_counts(db.session, history.query())
    assert sorted(rows) == [
        (FOOD, "33101", "Miami-Dade County, FL", 2),
        (HOUSING, "33012", "Miami-Dade County, FL", 1),
    ]


def test_zero_result_search_rows_hold_no_person(history):
    columns = {c["name"] for c in db.inspect(db.engine).get_columns("search_gap")}
    assert columns == {"id", "category", "domain", "postcode", "radius_mi", "searched_at"}
    postcodes = db.session.execute(db.text("SELECT DISTINCT postcode FROM search_gap")).scalars()
    assert sorted(postcodes) == ["33012", "33101"]  # ZIP+4 cut to the ZIP code
