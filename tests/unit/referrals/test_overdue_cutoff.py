"""The overdue rule read backwards (``requested_overdue_before``) agrees with ``is_overdue``:
lists sort overdue first in SQL with the one, pages flag rows with the other."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from carenet.referrals.overdue import is_overdue, requested_overdue_before


@dataclass
class _Requested:
    created_at: datetime
    status: str = "requested"
    follow_up_on: None = None


# Two weeks without a DST change in New York; "now" on each day, at several hours.
NOWS = [
    datetime(2026, 11, 9, tzinfo=UTC) + timedelta(days=d, hours=h, minutes=7)
    for d in range(7)
    for h in (0, 5, 13, 23)
]


@pytest.mark.parametrize("zone", ["UTC", "America/New_York"])
@pytest.mark.parametrize("now", NOWS, ids=lambda n: n.strftime("%a%H"))
def test_the_cutoff_splits_overdue_from_not(zone, now):
    edge = requested_overdue_before(now, zone)
    created = now - timedelta(days=9)
    while created <= now:
        assert is_overdue(_Requested(created), now, zone) == (created < edge), created
        created += timedelta(minutes=17)
    for moment in (edge - timedelta(microseconds=1), edge):
        assert is_overdue(_Requested(moment), now, zone) == (moment < edge), moment
