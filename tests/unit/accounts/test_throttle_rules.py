"""The throttle's waits (docs/security.md "Throttling"): pure arithmetic of ``Rules``."""

from __future__ import annotations

from datetime import timedelta

from carenet.accounts.throttle import Rules, Throttle

RULES = Rules(
    per_pair=5,
    per_account=20,
    per_address=50,
    window=timedelta(minutes=15),
    first_delay=timedelta(seconds=60),
    account_delay=timedelta(seconds=60),
)


def test_no_wait_below_the_limit_then_doubling_waits_capped_at_the_window():
    assert [RULES.pair_delay(n) for n in range(5)] == [None] * 5
    minutes = [RULES.pair_delay(n) / timedelta(minutes=1) for n in range(5, 12)]
    assert minutes == [1, 2, 4, 8, 15, 15, 15]
    assert RULES.pair_delay(10_000) == timedelta(minutes=15)  # no overflow


def test_the_message_rounds_up_to_minutes():
    assert Throttle(59).message == "Too many failed sign-ins; try again in 1 minute."
    assert Throttle(61).message == "Too many failed sign-ins; try again in 2 minutes."
