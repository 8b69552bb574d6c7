"""Opening hours: HSDS 3 recurring schedules evaluated in a location's own time zone.

A rule opens on matching local dates at ``opens`` minutes after local midnight
and closes at ``closes``; ``closes <= opens`` means the period runs past
midnight into the next local day (22:00-02:00). Times are wall-clock times,
so a question is answered by turning the instant into local wall-clock time
with ``zoneinfo`` — which is what keeps answers right across DST changes.
Schedules without times are open all day. ``interval`` (every other week) and
ordinal weekdays ("1MO") are not modelled: the rule applies every week.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAY_CODES = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
MINUTES_PER_DAY = 1440
LOOKAHEAD_DAYS = 62


@dataclass(frozen=True)
class OpeningRule:
    """One recurring opening: on ``days`` (0 = Monday) or ``monthdays``, from ``opens`` to
    ``closes`` minutes after local midnight, between ``valid_from`` and ``valid_to``."""

    days: frozenset[int] | None
    monthdays: frozenset[int] | None
    opens: int
    closes: int
    valid_from: date | None = None
    valid_to: date | None = None

    @property
    def past_midnight(self) -> bool:
        return self.closes <= self.opens

    def occurs_on(self, day: date) -> bool:
        """Whether a period of this rule starts on local date ``day``."""
        if self.valid_from and day < self.valid_from:
            return False
        if self.valid_to and day > self.valid_to:
            return False
        if self.monthdays is not None:
            return day.day in self.monthdays
        return self.days is None or day.weekday() in self.days

    def to_json(self) -> list[object]:
        return [
            sorted(self.days) if self.days is not None else None,
            sorted(self.monthdays) if self.monthdays is not None else None,
            self.opens,
            self.closes,
            self.valid_from.toordinal() if self.valid_from else None,
            self.valid_to.toordinal() if self.valid_to else None,
        ]

    @classmethod
    def from_json(cls, value: Sequence[Any]) -> OpeningRule:
        """The rule ``to_json`` wrote, as ``json.loads`` read it back."""
        days, monthdays, opens, closes, valid_from, valid_to = value
        return cls(
            frozenset(days) if days is not None else None,
            frozenset(monthdays) if monthdays is not None else None,
            int(opens),
            int(closes),
            date.fromordinal(valid_from) if valid_from else None,
            date.fromordinal(valid_to) if valid_to else None,
        )


def _minutes(value: time | None, default: int) -> int:
    return default if value is None else value.hour * 60 + value.minute


def _int_list(text: str | None) -> frozenset[int] | None:
    if not text:
        return None
    values = {int(part) for part in text.replace(" ", "").split(",") if part.lstrip("-").isdigit()}
    return frozenset(v for v in values if 1 <= v <= 31) or None


def _day_list(text: str | None) -> frozenset[int] | None:
    if not text:
        return None
    days = {DAY_CODES.index(p[-2:]) for p in text.upper().split(",") if p.strip()[-2:] in DAY_CODES}
    return frozenset(days) or None


def rule_from_schedule(
    freq: str | None,
    byday: str | None,
    bymonthday: str | None,
    opens_at: time | None,
    closes_at: time | None,
    valid_from: date | None,
    valid_to: date | None,
) -> OpeningRule:
    """An opening rule from the columns of an HSDS ``schedule`` row."""
    opens = _minutes(opens_at, 0)
    closes = _minutes(closes_at, MINUTES_PER_DAY)
    if closes == 0 and opens > 0:
        closes = MINUTES_PER_DAY  # "until midnight"
    if opens == closes:
        opens, closes = 0, MINUTES_PER_DAY
    monthdays = _int_list(bymonthday) if (freq or "WEEKLY").upper() == "MONTHLY" else None
    return OpeningRule(_day_list(byday), monthdays, opens, closes, valid_from, valid_to)


def day_segments(rule: OpeningRule) -> list[tuple[int | None, int | None, int, int, int, int]]:
    """The rule as (weekday, monthday, open_min, close_min, from_shift, to_shift) segments that
    each stay within one local day; a past-midnight rule gives a second segment the next day."""
    days: Iterable[int | None]
    days = [None] if rule.monthdays is not None else (rule.days or range(7))
    segments: list[tuple[int | None, int | None, int, int, int, int]] = []
    for day in days:
        for monthday in sorted(rule.monthdays) if rule.monthdays is not None else [None]:
            if not rule.past_midnight:
                segments.append((day, monthday, rule.opens, rule.closes, 0, 0))
                continue
            segments.append((day, monthday, rule.opens, MINUTES_PER_DAY, 0, 0))
            next_day = None if day is None else (day + 1) % 7
            next_monthday = None if monthday is None else monthday + 1
            if rule.closes > 0:
                segments.append((next_day, next_monthday, 0, rule.closes, 1, 1))
    return segments


def zone(name: str | None, default: str = "America/New_York") -> ZoneInfo:
    """The ZoneInfo of an IANA name, or of ``default`` when the name is unknown."""
    try:
        return ZoneInfo(name or default)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(default)


def local_wall_time(moment: datetime, tz: ZoneInfo) -> datetime:
    """``moment`` as naive local wall-clock time; a naive ``moment`` already is one."""
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(tz).replace(tzinfo=None)


def is_open(rules: Sequence[OpeningRule], wall: datetime) -> bool:
    """Whether any rule is open at naive local wall-clock time ``wall``."""
    minute = wall.hour * 60 + wall.minute
    today, yesterday = wall.date(), wall.date() - timedelta(days=1)
    for rule in rules:
        if rule.occurs_on(today) and rule.opens <= minute < (
            MINUTES_PER_DAY if rule.past_midnight else rule.closes
        ):
            return True
        if rule.past_midnight and minute < rule.closes and rule.occurs_on(yesterday):
            return True
    return False


def next_opening(rules: Sequence[OpeningRule], moment: datetime, tz: ZoneInfo) -> datetime | None:
    """The first start of a period strictly after ``moment``, as an aware local datetime."""
    wall = local_wall_time(moment, tz)
    aware_now = moment if moment.tzinfo else wall.replace(tzinfo=tz)
    best: datetime | None = None
    for offset in range(LOOKAHEAD_DAYS + 1):
        day = wall.date() + timedelta(days=offset)
        for rule in rules:
            if not rule.occurs_on(day):
                continue
            start = datetime.combine(day, time()) + timedelta(minutes=rule.opens)
            aware = start.replace(tzinfo=tz)
            if aware > aware_now and (best is None or aware < best):
                best = aware
        if best is not None:
            return best
    return None
