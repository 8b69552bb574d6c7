"""Cleaning rules for older 211 data (HSDS 1.x tabular, AIRS/211 taxonomy codes).

The AIRS/211 taxonomy is proprietary: carenet keeps only code *prefixes* mapped
to its own categories (no AIRS term names), in ``seed_data/taxonomy_map.csv``
(read by ``taxonomy_map``). A service gets every category one of its codes maps
to; codes that map to none are dropped.
"""

from __future__ import annotations

import re
from datetime import time


def categories_for_airs_code(code: str) -> tuple[str, ...]:
    """carenet category slugs for one AIRS code (empty when it maps to none): the code
    prefixes of ``seed_data/taxonomy_map.csv`` (``taxonomy_map``), longest prefix first."""
    from carenet.directory.hsds.taxonomy_map import AIRS, categories_for_term

    return categories_for_term(AIRS, code, None)


WEEKDAYS = {
    "mo": "MO", "mon": "MO", "monday": "MO",
    "tu": "TU", "tue": "TU", "tues": "TU", "tuesday": "TU",
    "we": "WE", "wed": "WE", "wednesday": "WE",
    "th": "TH", "thu": "TH", "thur": "TH", "thurs": "TH", "thursday": "TH",
    "fr": "FR", "fri": "FR", "friday": "FR",
    "sa": "SA", "sat": "SA", "saturday": "SA",
    "su": "SU", "sun": "SU", "sunday": "SU",
}  # fmt: skip
WEEK_ORDER = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
_TIME = re.compile(r"^\s*(\d{1,2})(?::(\d{2}))?(?::(\d{2}))?\s*(a\.?m\.?|p\.?m\.?)?\s*$", re.I)


def parse_clock(text: str | None) -> time | None:
    """A time from "9:00am", "5:00 PM", "17:30", "noon"; None when blank or unreadable."""
    if not text or not text.strip():
        return None
    value = text.strip().lower()
    if value in {"noon", "12 noon"}:
        return time(12, 0)
    if value == "midnight":
        return time(0, 0)
    match = _TIME.match(value)
    if not match:
        return None
    hour, minute, second = int(match[1]), int(match[2] or 0), int(match[3] or 0)
    meridiem = (match[4] or "").replace(".", "")
    if meridiem and not 1 <= hour <= 12:
        return None
    if meridiem == "pm" and hour != 12:
        hour += 12
    elif meridiem == "am" and hour == 12:
        hour = 0
    if hour > 23 or minute > 59 or second > 59:
        return None
    return time(hour, minute, second)


def parse_weekday(text: str | None) -> str | None:
    """The RFC 5545 day code (MO..SU) for a weekday name or abbreviation."""
    if not text:
        return None
    return WEEKDAYS.get(text.strip().lower().rstrip("."))


def parse_day_range(text: str) -> list[str]:
    """Day codes from "Mon-Fri", "Mon, Wed, Fri", "Tuesday" (in week order)."""
    days: set[str] = set()
    for part in re.split(r"[,&/]|\band\b", text):
        bounds = [p.strip() for p in part.split("-")]
        if len(bounds) == 2 and parse_weekday(bounds[0]) and parse_weekday(bounds[1]):
            start = WEEK_ORDER.index(parse_weekday(bounds[0]) or "MO")
            end = WEEK_ORDER.index(parse_weekday(bounds[1]) or "SU")
            span = range(start, end + 1) if start <= end else [*range(start, 7), *range(end + 1)]
            days.update(WEEK_ORDER[i] for i in span)
        elif len(bounds) == 1 and parse_weekday(bounds[0]):
            days.add(parse_weekday(bounds[0]) or "")
    return [d for d in WEEK_ORDER if d in days]


_CLOCK = r"\d{1,2}(?::\d{2})?\s*(?:[ap]\.?m\.?)|noon|midnight"
_RANGE = re.compile(rf"({_CLOCK})\s*(?:-|–|—|to|GÇô)\s*({_CLOCK})", re.I)


def parse_hours_text(text: str | None) -> list[tuple[list[str], time, time]]:
    """Opening hours from 211 free text such as "8:00am-12:00pm; 1:00pm-5:00pm, Mon-Fri".

    Returns (day codes, opens, closes) per time range found; a range without days
    takes the days of the next part that names some (else Monday to Friday is not
    assumed: it is skipped).
    """
    if not text:
        return []
    parts = [p for p in re.split(r";|\n|\\n", text) if p.strip()]
    found: list[tuple[list[str], time, time]] = []
    pending: list[tuple[time, time]] = []
    for part in parts:
        ranges = []
        for match in _RANGE.finditer(part):
            opens, closes = parse_clock(match[1]), parse_clock(match[2])
            if opens and closes:
                ranges.append((opens, closes))
        days = parse_day_range(_RANGE.sub(" ", part).strip(" ,:"))
        if days:
            found.extend((days, o, c) for o, c in [*pending, *ranges])
            pending = []
        else:
            pending.extend(ranges)
    return found


# Punctuation that an export of the 211 data turned into "GÇ" + a character: the UTF-8
# bytes E2 80 xx read through code page 437, with the lead byte flattened to "G".
_MOJIBAKE = {
    "GÇÖ": "\u2019", "GÇÿ": "\u2018", "GÇ£": "\u201c", "GÇ¥": "\u201d", "GÇô": "\u2013",
    "GÇö": "\u2014", "GÇª": "\u2026", "GÇæ": "\u2011", "GÇï": "\u200b",
}  # fmt: skip
_MOJIBAKE_RE = re.compile("|".join(map(re.escape, _MOJIBAKE)))


def repair_text(value: str) -> str:
    """Undo the 211 export's mangled punctuation and its literal ``\\n`` line breaks."""
    value = value.replace("\\n", "\n")
    if "GÇ" in value:
        value = _MOJIBAKE_RE.sub(lambda m: _MOJIBAKE[m.group(0)], value).replace("\u200b", "")
    return value


def clean_state(value: str | None) -> str | None:
    """Trim padded state codes ("FL " -> "FL"); blank -> None."""
    value = (value or "").strip().upper()
    return value or None


def clean_country(value: str | None) -> str:
    """ISO country code; blank or padded values default to US (211 data is US-only)."""
    value = (value or "").strip().upper()
    return value if len(value) == 2 else "US"


def clean_postcode(value: str | None) -> str | None:
    """A 5-digit ZIP from "33157" or "33157-1234"; other text kept trimmed."""
    value = (value or "").strip()
    if re.fullmatch(r"\d{5}(-\d{4})?", value):
        return value[:5]
    return value or None


LANGUAGE_CODES = {
    "english": "en", "spanish": "es", "creole": "ht", "haitian creole": "ht", "french": "fr",
    "portuguese": "pt", "hebrew": "he", "russian": "ru", "arabic": "ar", "italian": "it",
    "greek": "el", "yiddish": "yi", "german": "de", "chinese": "zh", "mandarin": "zh",
    "cantonese": "zh", "vietnamese": "vi", "korean": "ko", "japanese": "ja", "polish": "pl",
    "tagalog": "tl", "hindi": "hi", "urdu": "ur", "american sign language": "ase",
}  # fmt: skip


def language_for(name: str | None) -> tuple[str, str] | None:
    """(name, ISO 639 code) for a language name such as "Spanish (limited)"; None if unknown."""
    if not name:
        return None
    base = re.sub(r"\s*\(.*?\)\s*", "", name.replace("\\n", " ")).strip()
    code = LANGUAGE_CODES.get(base.lower())
    return (base, code) if code else None
