"""Business days across weekends, and the overdue rule as a pure function."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

import pytest

from carenet.referrals.overdue import is_overdue
from carenet.referrals.timeutil import add_business_days, business_deadline

# 2026-11-20 is a Friday.
FRI, SAT, SUN, MON, TUE, WED = (date(2026, 11, d) for d in (20, 21, 22, 23, 24, 25))


@pytest.mark.parametrize(
    ("start", "days", "expected"),
    [(MON, 2, WED), (FRI, 1, MON), (FRI, 2, TUE), (SAT, 1, MON), (SUN, 2, TUE), (WED, 0, WED)],
)
def test_add_business_days_skips_weekends(start, days, expected):
    assert add_business_days(start, days) == expected


def _at(day: date, hour: int) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def test_two_business_days_from_friday_morning_end_tuesday_morning():
    assert business_deadline(_at(FRI, 10), 2) == _at(TUE, 10)


def test_a_referral_sent_on_saturday_counts_from_monday_midnight():
    assert business_deadline(_at(SAT, 15), 2) == _at(WED, 0)


def test_the_deadline_is_counted_in_the_organizations_zone():
    # Friday 23:30 in New York is Saturday 04:30 UTC: still a Friday referral there.
    start = datetime(2026, 11, 21, 4, 30, tzinfo=UTC)
    deadline = business_deadline(start, 2, "America/New_York")
    assert deadline == datetime(2026, 11, 25, 4, 30, tzinfo=UTC)  # Tuesday 23:30 New York


@dataclass
class FakeReferral:
    status: str
    created_at: datetime
    follow_up_on: date | None = None


def test_requested_is_overdue_after_two_business_days_not_over_the_weekend():
    sent = FakeReferral("requested", _at(FRI, 9))
    assert not is_overdue(sent, _at(MON, 17))
    assert not is_overdue(sent, _at(TUE, 8))
    assert is_overdue(sent, _at(TUE, 9))


def test_a_naive_timestamp_from_sqlite_is_read_as_utc():
    sent = FakeReferral("requested", datetime(2026, 11, 23, 9))
    assert is_overdue(sent, _at(WED, 9)) and not is_overdue(sent, _at(WED, 8))


def test_accepted_is_overdue_the_day_after_its_follow_up_date():
    accepted = FakeReferral("accepted", _at(MON, 9), follow_up_on=TUE)
    assert not is_overdue(accepted, _at(TUE, 23))
    assert is_overdue(accepted, _at(WED, 0))


@pytest.mark.parametrize("status", ["in-progress", "on-hold", "completed", "rejected"])
def test_other_states_are_never_overdue(status):
    assert not is_overdue(FakeReferral(status, _at(MON, 9), follow_up_on=MON), _at(WED, 12))
