"""Opening rules: parsing HSDS schedule columns, open-at checks, next opening, day segments."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from carenet.directory.search.opening_hours import (
    day_segments,
    is_open,
    next_opening,
    rule_from_schedule,
)

NEW_YORK = ZoneInfo("America/New_York")


def weekly(byday, opens, closes, **kw):
    return rule_from_schedule("WEEKLY", byday, None, opens, closes, kw.get("valid_from"),
                              kw.get("valid_to"))  # fmt: skip


def test_a_rule_past_midnight_is_open_after_midnight_the_next_day():
    rule = weekly("FR", time(22), time(2))
    assert rule.past_midnight
    assert is_open([rule], datetime(2026, 11, 27, 23, 30))  # Friday
    assert is_open([rule], datetime(2026, 11, 28, 1, 59))  # Saturday
    assert not is_open([rule], datetime(2026, 11, 28, 2, 0))
    assert not is_open([rule], datetime(2026, 11, 27, 1, 0))  # Friday early: Thursday's night


def test_missing_times_mean_all_day_and_missing_days_mean_every_day():
    rule = rule_from_schedule("WEEKLY", None, None, None, None, None, None)
    assert (rule.days, rule.opens, rule.closes) == (None, 0, 1440)
    assert is_open([rule], datetime(2026, 11, 29, 3, 0))


def test_monthly_rule_on_month_days():
    rule = rule_from_schedule("MONTHLY", None, "1,15", time(10), time(12), None, None)
    assert is_open([rule], datetime(2026, 12, 15, 11, 0))
    assert not is_open([rule], datetime(2026, 12, 16, 11, 0))


def test_validity_dates():
    rule = weekly(None, time(9), time(17), valid_from=date(2026, 12, 1))
    assert not is_open([rule], datetime(2026, 11, 30, 10, 0))
    assert is_open([rule], datetime(2026, 12, 1, 10, 0))


def test_next_opening_is_in_local_time_with_the_right_offset_across_dst():
    rule = weekly("MO", time(9), time(17))
    saturday_before_fall_back = datetime(2026, 10, 31, 16, 0, tzinfo=UTC)
    found = next_opening([rule], saturday_before_fall_back, NEW_YORK)
    assert found.isoformat() == "2026-11-02T09:00:00-05:00"


def test_next_opening_skips_the_current_period():
    rule = weekly("MO,TU", time(9), time(17))
    monday_noon = datetime(2026, 11, 23, 17, 0, tzinfo=UTC)
    assert next_opening([rule], monday_noon, NEW_YORK).isoformat() == "2026-11-24T09:00:00-05:00"


def test_day_segments_split_a_night_into_two_days():
    segments = day_segments(weekly("SU", time(22), time(2)))
    assert segments == [(6, None, 1320, 1440, 0, 0), (0, None, 0, 120, 1, 1)]


def test_unknown_day_codes_are_ignored():
    assert weekly("XX,MO", time(9), time(10)).days == frozenset({0})
