"""open_now / open_at in each location's own time zone, past midnight and across DST."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from factories import MIAMI, IndexedServiceFactory, weekly

from search.places import point_at

LATE = weekly(byday="FR", opens="22:00", closes="02:00")


def open_names(search, now, **kw):
    page = search(lat=MIAMI[0], lon=MIAMI[1], open_now=True, now=now, **kw)
    return [r["service"]["name"] for r in page.contents]


def utc(*args):
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(
    ("moment", "is_open"),
    [
        (utc(2026, 11, 28, 4, 30), True),  # Fri 23:30 EST
        (utc(2026, 11, 28, 6, 30), True),  # Sat 01:30 EST, still Friday's period
        (utc(2026, 11, 28, 7, 30), False),  # Sat 02:30 EST
        (utc(2026, 11, 27, 4, 30), False),  # Thu 23:30 EST
    ],
)
def test_a_schedule_past_midnight(search, moment, is_open):
    IndexedServiceFactory(name="Night line", locations=[point_at(MIAMI, 1)], schedules=(LATE,))
    assert open_names(search, moment) == (["Night line"] if is_open else [])
    result = search(lat=MIAMI[0], lon=MIAMI[1], now=moment).contents[0]
    assert result["open_now"] is is_open


def test_spring_forward_day_uses_daylight_time(search):
    # 2026-03-08: clocks go from 02:00 EST to 03:00 EDT. Open Sunday 01:00-05:00 local.
    IndexedServiceFactory(
        name="Early", locations=[point_at(MIAMI, 1)], schedules=(weekly("SU", "01:00", "05:00"),)
    )
    assert open_names(search, utc(2026, 3, 8, 8, 30)) == ["Early"]  # 04:30 EDT
    assert open_names(search, utc(2026, 3, 8, 9, 30)) == []  # 05:30 EDT (04:30 in EST)


def test_fall_back_day_past_midnight(search):
    # 2026-11-01: 02:00 EDT becomes 01:00 EST. Open Saturday 22:00-02:00 local.
    IndexedServiceFactory(
        name="Late", locations=[point_at(MIAMI, 1)], schedules=(weekly("SA", "22:00", "02:00"),)
    )
    assert open_names(search, utc(2026, 11, 1, 6, 30)) == ["Late"]  # 01:30 EST
    assert open_names(search, utc(2026, 11, 1, 7, 30)) == []  # 02:30 EST


def test_each_location_uses_its_own_time_zone(search):
    daytime = (weekly("MO,TU,WE,TH,FR", "09:00", "17:00"),)
    IndexedServiceFactory(name="Miami office", locations=[point_at(MIAMI, 1)], schedules=daytime)
    IndexedServiceFactory(
        name="Pacific office",
        locations=[point_at(MIAMI, 2)],
        schedules=daytime,
        locations__timezone="America/Los_Angeles",
    )
    # Wednesday 2026-11-25 16:30 UTC: 11:30 in Miami, 08:30 in Los Angeles.
    assert open_names(search, utc(2026, 11, 25, 16, 30)) == ["Miami office"]
    assert open_names(search, utc(2026, 11, 25, 17, 30)) == ["Miami office", "Pacific office"]


def test_open_at_without_offset_is_local_wall_time_everywhere(search):
    daytime = (weekly("MO,TU,WE,TH,FR", "09:00", "17:00"),)
    IndexedServiceFactory(name="Miami office", locations=[point_at(MIAMI, 1)], schedules=daytime)
    IndexedServiceFactory(
        name="Pacific office",
        locations=[point_at(MIAMI, 2)],
        schedules=daytime,
        locations__timezone="America/Los_Angeles",
    )
    page = search(lat=MIAMI[0], lon=MIAMI[1], open_at=datetime(2026, 11, 25, 9, 30))
    assert [r["service"]["name"] for r in page.contents] == ["Miami office", "Pacific office"]
    page = search(lat=MIAMI[0], lon=MIAMI[1], open_at=datetime(2026, 11, 28, 9, 30))  # Sat
    assert page.contents == []


def test_validity_dates_bound_a_schedule(search):
    from datetime import date

    IndexedServiceFactory(
        name="Winter only",
        locations=[point_at(MIAMI, 1)],
        schedules=(
            weekly(
                None, "09:00", "17:00", valid_from=date(2026, 12, 1), valid_to=date(2027, 2, 28)
            ),
        ),
    )
    assert open_names(search, utc(2026, 11, 25, 16, 0)) == []
    assert open_names(search, utc(2026, 12, 2, 16, 0)) == ["Winter only"]


def test_next_open_at_is_the_next_start_in_local_time(search):
    IndexedServiceFactory(name="Night line", locations=[point_at(MIAMI, 1)], schedules=(LATE,))
    result = search(lat=MIAMI[0], lon=MIAMI[1], now=utc(2026, 11, 26, 15, 0)).contents[0]
    assert result["open_now"] is False
    assert result["next_open_at"] == "2026-11-27T22:00:00-05:00"


def test_a_service_without_schedule_has_unknown_hours_and_is_not_open_now(search):
    IndexedServiceFactory(name="No hours", locations=[point_at(MIAMI, 1)])
    result = search(lat=MIAMI[0], lon=MIAMI[1]).contents[0]
    assert result["open_now"] is None and result["next_open_at"] is None
    assert open_names(search, utc(2026, 11, 25, 16, 0)) == []
