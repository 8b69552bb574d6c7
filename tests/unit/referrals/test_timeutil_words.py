"""Local time in words: the zone rule, clock and day phrasing, durations in days from 48 h,
and the Jinja filters as templates call them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from flask import Flask, render_template_string
from hypothesis import given
from hypothesis import strategies as st

from carenet.referrals.timeutil import (
    ago_words,
    clock,
    date_words,
    duration_words,
    local_stamp,
    local_words,
    register_filters,
    zone_named,
    zone_of,
)

NY = "America/New_York"
NOW = datetime(2026, 12, 2, 15, 0, tzinfo=UTC)  # Wednesday 10:00 in New York


def test_clock_drops_zero_minutes():
    assert clock(datetime(2026, 1, 1, 7, 0)) == "7 AM"
    assert clock(datetime(2026, 1, 1, 17, 30)) == "5:30 PM"
    assert clock(datetime(2026, 1, 1, 0, 5)) == "12:05 AM"
    assert clock(datetime(2026, 1, 1, 12, 0)) == "12 PM"


def test_moments_are_said_in_the_places_zone():
    assert local_words(datetime(2026, 12, 3, 12, 0, tzinfo=UTC), NY, NOW) == "tomorrow at 7 AM"
    assert local_words(datetime(2026, 12, 2, 22, 0, tzinfo=UTC), NY, NOW) == "today at 5 PM"
    # 02:00 UTC on the 3rd is still the 2nd (9 PM) in New York
    assert local_words(datetime(2026, 12, 3, 2, 0, tzinfo=UTC), NY, NOW) == "today at 9 PM"
    assert local_words(datetime(2026, 12, 1, 14, 15, tzinfo=UTC), NY, NOW) == "yesterday at 9:15 AM"
    assert local_words(datetime(2026, 12, 4, 14, 0, tzinfo=UTC), NY, NOW) == "on Friday at 9 AM"
    assert local_words(datetime(2026, 11, 20, 14, 0, tzinfo=UTC), NY, NOW) == "on Nov 20 at 9 AM"
    assert local_words(datetime(2025, 7, 4, 16, 0, tzinfo=UTC), NY, NOW) == (
        "on Jul 4, 2025 at 12 PM"
    )
    assert local_words(None, NY, NOW) == ""


def test_naive_datetimes_are_utc_and_stamps_name_the_zone():
    assert local_stamp(datetime(2026, 12, 2, 12, 5), NY) == "Dec 2, 2026, 7:05 AM EST"
    assert local_stamp(datetime(2026, 7, 2, 12, 5), NY) == "Jul 2, 2026, 8:05 AM EDT"
    assert date_words(datetime(2026, 12, 2).date()) == "Dec 2, 2026"


def test_durations_switch_to_days_at_48_hours():
    assert duration_words(timedelta(minutes=45)) == "45 minutes"
    assert duration_words(timedelta(hours=1)) == "1 hour"
    assert duration_words(timedelta(hours=47)) == "47 hours"
    assert duration_words(timedelta(hours=48)) == "2 days"
    assert duration_words(179) == "7 days"  # the "179 h"
    assert duration_words(timedelta(days=8, hours=3)) == "8 days"
    assert ago_words(NOW - timedelta(seconds=20), NOW) == "just now"
    assert ago_words(NOW - timedelta(days=3), NOW) == "3 days ago"


def test_the_zone_rule_service_then_organization_then_default():
    loc = SimpleNamespace(timezone="America/Chicago")
    org = SimpleNamespace(locations=[SimpleNamespace(timezone="America/Denver")])
    service = SimpleNamespace(service_at_locations=[SimpleNamespace(location=loc)])
    assert zone_of(service, NY) == "America/Chicago"
    assert zone_of(SimpleNamespace(service_at_locations=[], organization=org), NY) == (
        "America/Denver"
    )
    assert zone_of(SimpleNamespace(locations=[], organization=None), NY) == NY
    assert zone_of(None, NY) == NY
    assert str(zone_named("Not/AZone", NY)) == NY


@given(st.datetimes(timezones=st.just(UTC)), st.sampled_from([NY, "UTC", "Asia/Kolkata", "bad"]))
def test_any_moment_in_any_zone_reads_as_words(moment, zone):
    words = local_words(moment, zone, NOW)
    assert " at " in words and ("AM" in words or "PM" in words)


@given(st.floats(min_value=-1e6, max_value=1e6, allow_nan=False))
def test_any_duration_reads_as_words(hours):
    assert duration_words(hours).split(" ")[1] in {"minute", "minutes", "hour", "hours", "days"}


@pytest.fixture
def flask_app():
    app = Flask(__name__)
    app.config["DEFAULT_TIMEZONE"] = NY
    register_filters(app)
    return app


def test_the_filters_render_in_templates(flask_app):
    moment = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
    with flask_app.app_context():
        text = render_template_string(
            "{{ m|local_time(now=now) }}|{{ m|local_time('UTC', now=now) }}|{{ h|duration }}|"
            "{{ m|local_stamp }}|{{ none|local_time }}",
            m=moment,
            now=NOW,
            h=timedelta(hours=200),
            none=None,
        )
    assert text == "tomorrow at 7 AM|tomorrow at 12 PM|8 days|Dec 3, 2026, 7 AM EST|"
