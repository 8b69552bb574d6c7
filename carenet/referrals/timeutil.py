"""Time helpers: business days, the local date of a moment, and local time in words (the
Jinja filters every page uses: ``register_filters``)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
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


# --- local time in words ---------------------------------------------------------------
#
# The rule (docs/architecture.md "Local time"): a moment is shown in the zone of the place it
# is about — a service's first location's ``timezone``, else its organization's first
# location's, else ``CARENET_DEFAULT_TIMEZONE``. Pages with no such place (a user's own
# sign-ins, the audit log) use the default zone too. Stored times stay UTC.

HOURS_BEFORE_DAYS = 48  # a duration of at least this many hours is said in days


def zone_named(name: str | None, fallback: str = "UTC") -> ZoneInfo:
    """``ZoneInfo(name)``, or the fallback for a missing or unknown name."""
    for candidate in (name, fallback, "UTC"):
        if candidate:
            try:
                return ZoneInfo(candidate)
            except (KeyError, ValueError):  # ZoneInfoNotFoundError is a KeyError
                continue
    return ZoneInfo("UTC")


def zone_of(place: object | None, default: str = "UTC") -> str:
    """The zone name for a service, an organization or a location (the rule above)."""
    if place is None:
        return default
    direct = getattr(place, "timezone", None)
    if isinstance(direct, str) and direct:
        return direct
    for link in getattr(place, "service_at_locations", None) or []:
        location = getattr(link, "location", None)
        if location is not None and getattr(location, "timezone", None):
            return str(location.timezone)
    for location in getattr(place, "locations", None) or []:
        if getattr(location, "timezone", None):
            return str(location.timezone)
    organization = getattr(place, "organization", None)
    if organization is not None and organization is not place:
        return zone_of(organization, default)
    return default


def clock(moment: datetime | time) -> str:
    """``7 AM``, ``5:30 PM``, ``12 PM`` (noon)."""
    hour = moment.hour % 12 or 12
    suffix = "AM" if moment.hour < 12 else "PM"
    return f"{hour} {suffix}" if moment.minute == 0 else f"{hour}:{moment.minute:02d} {suffix}"


def day_words(day: date, today: date) -> str:
    """``today``, ``tomorrow``, ``yesterday``, ``on Friday`` (within the week ahead),
    ``on Dec 2`` (this year), ``on Dec 2, 2025``."""
    delta = (day - today).days
    if delta == 0:
        return "today"
    if delta == 1:
        return "tomorrow"
    if delta == -1:
        return "yesterday"
    if 1 < delta < 7:
        return f"on {day.strftime('%A')}"
    if day.year == today.year:
        return f"on {day.strftime('%b')} {day.day}"
    return f"on {day.strftime('%b')} {day.day}, {day.year}"


def local_words(moment: datetime | None, zone: str, now: datetime) -> str:
    """A moment in words in ``zone``: ``today at 7 AM``, ``tomorrow at 5 PM``, ``on Dec 2 at
    9:15 AM``; empty for None."""
    if moment is None:
        return ""
    tz = zone_named(zone)
    local = as_utc(moment).astimezone(tz)
    today = as_utc(now).astimezone(tz).date()
    return f"{day_words(local.date(), today)} at {clock(local)}"


def local_stamp(moment: datetime | None, zone: str) -> str:
    """A moment as a full local date and time with the zone's abbreviation:
    ``Dec 2, 2026, 7:05 AM EST``; empty for None."""
    if moment is None:
        return ""
    local = as_utc(moment).astimezone(zone_named(zone))
    return f"{local.strftime('%b')} {local.day}, {local.year}, {clock(local)} {local.tzname()}"


def date_words(day: date | None) -> str:
    """``Dec 2, 2026``; empty for None."""
    return "" if day is None else f"{day.strftime('%b')} {day.day}, {day.year}"


def duration_words(span: timedelta | float | int | None) -> str:
    """A duration (a timedelta, or hours): ``45 minutes``, ``1 hour``, ``36 hours``, and in
    days from 48 hours (``8 days``); empty for None."""
    if span is None:
        return ""
    hours = span.total_seconds() / 3600 if isinstance(span, timedelta) else float(span)
    hours = abs(hours)
    if hours < 1:
        minutes = round(hours * 60)
        return f"{minutes} minute{'s' if minutes != 1 else ''}"
    if hours < HOURS_BEFORE_DAYS:
        whole = round(hours)
        return f"{whole} hour{'s' if whole != 1 else ''}"
    days = round(hours / 24)
    return f"{days} days"


def ago_words(moment: datetime | None, now: datetime) -> str:
    """``5 minutes ago``, ``3 hours ago``, ``8 days ago``; ``just now`` under a minute."""
    if moment is None:
        return ""
    span = as_utc(now) - as_utc(moment)
    if span < timedelta(minutes=1):
        return "just now"
    return f"{duration_words(span)} ago"


def register_filters(app: Any) -> None:
    """Jinja filters for every template (``create_app`` calls this):

    ``{{ moment|local_time(zone) }}`` "today at 7 AM"; ``|local_stamp(zone)`` "Dec 2, 2026,
    7:05 AM EST"; ``|date_words`` "Dec 2, 2026"; ``|duration`` "8 days"; ``|ago`` "3 hours
    ago"; ``|zone_of`` a service's / organization's zone name. ``zone`` defaults to
    ``CARENET_DEFAULT_TIMEZONE``; "now" is read per call (a test may pass ``now=``).
    """
    from flask import current_app

    from carenet.db.types import utcnow

    def default_zone() -> str:
        return str(current_app.config.get("DEFAULT_TIMEZONE") or "UTC")

    def local_time(
        moment: datetime | None, zone: str | None = None, now: datetime | None = None
    ) -> str:
        return local_words(moment, zone or default_zone(), now or utcnow())

    def stamp(moment: datetime | None, zone: str | None = None) -> str:
        return local_stamp(moment, zone or default_zone())

    def ago(moment: datetime | None, now: datetime | None = None) -> str:
        return ago_words(moment, now or utcnow())

    def place_zone(place: object | None) -> str:
        return zone_of(place, default_zone())

    app.add_template_filter(local_time, "local_time")
    app.add_template_filter(stamp, "local_stamp")
    app.add_template_filter(date_words, "date_words")
    app.add_template_filter(duration_words, "duration")
    app.add_template_filter(ago, "ago")
    app.add_template_filter(place_zone, "zone_of")
