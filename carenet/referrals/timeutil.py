"""Time helpers: business days and the local date of a moment."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from carenet.db.types import as_utc


def is_business_day(day: date) -> bool:
    return day.weekday() < 5


def add_business_days(day: date, days: int) -> date:
    """The date ``days`` business days (Monday–Friday) after ``day``."""
    current = day
    remaining = days
    while remaining > 0:
        current += timedelta(days=1)
        if is_business_day(current):
            remaining -= 1
    return current


def subtract_business_days(day: date, days: int) -> date:
    """The business day ``days`` business days before ``day``."""
    current = day
    remaining = days
    while remaining > 0:
        current -= timedelta(days=1)
        if is_business_day(current):
            remaining -= 1
    return current


def business_deadline(start: datetime, days: int, zone: str = "UTC") -> datetime:
    """When ``days`` business days have passed since ``start``, in UTC.

    Time is counted in the organization's time zone; a start on a weekend counts
    from the following Monday at midnight. Friday 10:00 + 2 → Tuesday 10:00.
    """
    tz = ZoneInfo(zone)
    local = as_utc(start).astimezone(tz)
    if not is_business_day(local.date()):
        monday = local.date()
        while not is_business_day(monday):
            monday += timedelta(days=1)
        local = datetime.combine(monday, time.min, tzinfo=tz)
    target = add_business_days(local.date(), days)
    return datetime.combine(target, local.timetz().replace(tzinfo=None), tzinfo=tz).astimezone(UTC)


def local_today(now: datetime, zone: str = "UTC") -> date:
    return as_utc(now).astimezone(ZoneInfo(zone)).date()
