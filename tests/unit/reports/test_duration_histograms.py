"""Percentiles read off a duration histogram (``reports.store.durations``, pure arithmetic)."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from carenet.reports.store import durations

ERROR = math.exp(1 / (2 * durations.STEPS)) - 1  # half a bucket: 2.53 %


def _percentile(values: list[float], p: float) -> float:
    values = sorted(values)
    position = p * (len(values) - 1)
    lo = int(position)
    hi = lo + (position > lo)
    return values[lo] + (values[hi] - values[lo]) * (position - lo)


def _histogram(values: list[float]) -> dict[int, int]:
    found: dict[int, int] = {}
    for v in values:
        b = durations.bucket_of(v)
        found[b] = found.get(b, 0) + 1
    return found


seconds = st.floats(min_value=0, max_value=90 * 86400, allow_nan=False)


@given(st.lists(seconds, min_size=1, max_size=300))
def test_the_histogram_gives_percentile_cont_of_the_bucketed_durations(values):
    median, p90 = durations.percentiles(_histogram(values))
    bucketed = [durations.seconds_of(durations.bucket_of(v)) for v in values]
    # the ranks in integers (as the database computes them), the reference in floats
    assert median == pytest.approx(_percentile(bucketed, 0.5), rel=1e-12)
    assert p90 == pytest.approx(_percentile(bucketed, 0.9), rel=1e-12)


@given(st.lists(seconds, min_size=1, max_size=300))
def test_within_half_a_bucket_of_the_exact_percentile(values):
    median, p90 = durations.percentiles(_histogram(values))
    for found, p in ((median, 0.5), (p90, 0.9)):
        exact = _percentile(values, p)
        assert found is not None
        # durations under a second count as one second
        assert abs(found - exact) <= ERROR * max(exact, 1.0) + 1.0 + 1e-9


def test_an_empty_histogram_has_no_percentiles():
    assert durations.percentiles({}) == (None, None)
    assert durations.percentiles({5: 0}) == (None, None)


def test_buckets_follow_the_grid():
    assert durations.bucket_of(0) == durations.bucket_of(1) == 0
    assert durations.bucket_of(3600) == round(durations.STEPS * math.log(3600))
    for b in (0, 1, 100, 400, 600):
        assert durations.bucket_of(durations.seconds_of(b)) == b
