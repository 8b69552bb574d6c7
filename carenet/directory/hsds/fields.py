"""Readers of single HSDS fields: trimmed text, numbers, dates, times, choices, ZIP facts.

Each raises ``RecordRejected`` with a reason that names the field and the value.
"""

from __future__ import annotations

from datetime import date, time
from functools import lru_cache
from typing import Any

from carenet.directory.hsds.conventions import RecordRejected, derived_id
from carenet.directory.hsds.legacy import parse_clock


def text(obj: dict[str, Any], key: str) -> str | None:
    """A trimmed string field; blank and missing are both None."""
    value = obj.get(key)
    if value is None:
        return None
    if type(value) is str:  # the usual case, first
        return value.strip() or None
    if isinstance(value, (dict, list)):
        raise RecordRejected(f"{key} must be text")
    value = str(value).strip()
    return value or None


def hsds_id(obj: dict[str, Any], *fallback: str) -> str:
    """The object's id; a stable derived id from ``fallback`` parts when it has none."""
    value = text(obj, "id")
    if value:
        return value
    if not fallback:
        raise RecordRejected("id is missing")
    return derived_id(*fallback)


def object_list(obj: dict[str, Any], key: str) -> list[dict[str, Any]]:
    """A list of objects (missing: empty)."""
    value = obj.get(key)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise RecordRejected(f"{key} must be a list of objects")
    return value


def number(obj: dict[str, Any], key: str, where: str) -> float | None:
    """A finite number (numeric text accepted); blank is None."""
    value = obj.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise RecordRejected(f"{where}: {key} {value!r} is not a number")
    try:
        parsed = float(value)
    except (TypeError, ValueError):
        raise RecordRejected(f"{where}: {key} {value!r} is not a number") from None
    if parsed != parsed or parsed in (float("inf"), float("-inf")):
        raise RecordRejected(f"{where}: {key} {value!r} is not a number")
    return parsed


def whole(obj: dict[str, Any], key: str, where: str) -> int | None:
    """A whole number; blank is None."""
    parsed = number(obj, key, where)
    if parsed is None:
        return None
    if parsed != int(parsed):
        raise RecordRejected(f"{where}: {key} {obj.get(key)!r} is not a whole number")
    return int(parsed)


def as_date(value: Any, what: str) -> date | None:
    """An ISO date (a date-time keeps its date part); blank is None."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        return date.fromisoformat(str(value).strip()[:10])
    except ValueError:
        raise RecordRejected(f"{what} {value!r} is not a date (YYYY-MM-DD)") from None


def as_time(value: Any, what: str) -> time | None:
    """An ISO time, or a 211-style clock time such as "9:00am"; blank is None."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    raw = str(value).strip()
    try:
        return time.fromisoformat(raw)
    except ValueError:
        parsed = parse_clock(raw)
        if parsed is None:
            raise RecordRejected(f"{what} {value!r} is not a time") from None
        return parsed


def choice(value: str | None, allowed: tuple[str, ...], default: str, what: str) -> str:
    """``value`` if it is one of ``allowed``; ``default`` when None."""
    if value is None:
        return default
    if value not in allowed:
        raise RecordRejected(f"unknown {what} '{value}' (expected one of {', '.join(allowed)})")
    return value


@lru_cache(maxsize=65536)
def postcode_facts(postcode: str) -> tuple[float | None, float | None, str | None]:
    """(latitude, longitude, IANA zone) of a ZIP code from the offline data (cached): the
    gazetteer's copy of what ``carenet.geo.zip_centroid`` and ``timezone_for_postcode``
    give, read without loading the ``zipcodes`` package."""
    from carenet.geo.gazetteer import zip_facts

    return zip_facts(postcode)


def county_postcodes(county: str, state: str) -> tuple[str, ...]:
    """ZIP codes of a county from the offline ZIP data (``carenet.geo.gazetteer``)."""
    from carenet.geo.gazetteer import county_postcodes as of_county

    return of_county(county, state)
