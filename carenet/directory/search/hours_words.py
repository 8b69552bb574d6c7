"""Opening hours in words, in English or Spanish: "Monday to Friday, 9 AM to 5 PM".

Pure functions over ``OpeningRule`` (no database, no Flask): the search results, the
service page and the patient's printed plan read the same sentences. Days with the same
hours are grouped; runs of three or more days read as a range.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from carenet.directory.search.opening_hours import MINUTES_PER_DAY, OpeningRule

DAY_NAMES = {
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
    "es": ("lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo"),
}
WORDS = {
    "en": {"to": "to", "and": "and", "all_day": "all day", "every_day": "Every day",
           "monthly": "Days {days} of each month", "opens": "Opens {when}"},
    "es": {"to": "a", "and": "y", "all_day": "todo el día", "every_day": "Todos los días",
           "monthly": "Días {days} de cada mes", "opens": "Abre {when}"},
}  # fmt: skip
LANGUAGES = tuple(DAY_NAMES)


def _lang(lang: str) -> str:
    return lang if lang in DAY_NAMES else "en"


def clock(minutes: int, lang: str = "en") -> str:
    """Minutes after midnight as a wall-clock time: "9 AM", "5:30 PM" / "9:00", "17:30"."""
    minutes %= MINUTES_PER_DAY
    hour, minute = divmod(minutes, 60)
    if _lang(lang) == "es":
        return f"{hour}:{minute:02d}"
    if (hour, minute) == (12, 0):
        return "noon"
    suffix = "AM" if hour < 12 else "PM"
    shown = hour % 12 or 12
    return f"{shown} {suffix}" if minute == 0 else f"{shown}:{minute:02d} {suffix}"


def _span(opens: int, closes: int, lang: str) -> str:
    words = WORDS[_lang(lang)]
    if opens == 0 and closes >= MINUTES_PER_DAY:
        return words["all_day"]
    return f"{clock(opens, lang)} {words['to']} {clock(closes, lang)}"


def _days(days: Sequence[int], lang: str) -> str:
    """Weekday numbers (0 = Monday) as words; consecutive runs of 3+ as "Monday to Friday"."""
    names, words = DAY_NAMES[_lang(lang)], WORDS[_lang(lang)]
    if list(days) == list(range(7)):
        return words["every_day"]
    runs: list[list[int]] = []
    for day in sorted(days):
        if runs and day == runs[-1][-1] + 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    parts: list[str] = []
    for run in runs:
        if len(run) >= 3:
            parts.append(f"{names[run[0]]} {words['to']} {names[run[-1]]}")
        else:
            parts.extend(names[d] for d in run)
    text = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + f" {words['and']} {parts[-1]}"
    return text[0].upper() + text[1:]


def describe(rules: Iterable[OpeningRule], lang: str = "en") -> list[str]:
    """One sentence per group of days with the same hours; [] when no hours are known."""
    by_hours: dict[tuple[int, int], set[int]] = {}
    monthly: list[str] = []
    for rule in rules:
        if rule.monthdays is not None:
            days = ", ".join(str(d) for d in sorted(rule.monthdays))
            monthly.append(
                WORDS[_lang(lang)]["monthly"].format(days=days)
                + f", {_span(rule.opens, rule.closes, lang)}"
            )
            continue
        days_of_rule = range(7) if rule.days is None else rule.days
        by_hours.setdefault((rule.opens, rule.closes), set()).update(days_of_rule)
    weekly = sorted(by_hours.items(), key=lambda kv: (min(kv[1]), kv[0]))
    return [f"{_days(sorted(d), lang)}, {_span(o, c, lang)}" for (o, c), d in weekly] + monthly


def next_open_words(moment: datetime, now: datetime, lang: str = "en") -> str:
    """When a place opens next, from the local wall time ``now`` there: "Opens today at 9 AM",
    "Opens tomorrow at 7 AM", "Opens Monday at 9 AM" (within a week), else the date."""
    days_ahead = (moment.date() - now.date()).days
    at = clock(moment.hour * 60 + moment.minute, lang)
    es = _lang(lang) == "es"
    if days_ahead <= 0:
        when = f"hoy a las {at}" if es else f"today at {at}"
    elif days_ahead == 1:
        when = f"mañana a las {at}" if es else f"tomorrow at {at}"
    elif days_ahead < 7:
        day = DAY_NAMES[_lang(lang)][moment.weekday()]
        when = f"el {day} a las {at}" if es else f"{day} at {at}"
    else:
        when = f"el {moment.date().isoformat()}" if es else f"on {moment.date().isoformat()}"
    return WORDS[_lang(lang)]["opens"].format(when=when)
