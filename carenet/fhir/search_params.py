"""Parsing FHIR search parameters: the ones a type supports (``capability.SEARCH_PARAMS``),
references (``Type/id`` or ``id``), tokens (``system|code``), dates with prefixes, paging
(``_count``, ``_page``). Anything else is a 400 OperationOutcome naming the parameter."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from werkzeug.datastructures import MultiDict

from carenet.db.paging import DEFAULT_PER_PAGE, MAX_PAGE, MAX_PER_PAGE, PageRequest
from carenet.fhir.capability import INCLUDES, SEARCH_PARAMS
from carenet.fhir.outcome import FhirError
from carenet.validation import MAX_YEAR, MIN_YEAR

IGNORED = frozenset({"_format", "_pretty"})
PREFIXES = ("eq", "gt", "ge", "lt", "le")


@dataclass(frozen=True)
class Search:
    params: dict[str, list[str]]
    page: PageRequest
    include: tuple[str, ...] = ()

    def one(self, name: str) -> str | None:
        values = self.params.get(name)
        return values[-1] if values else None

    def values(self, name: str) -> list[str]:
        """Every value given for ``name``, commas splitting alternatives (OR)."""
        return [v for value in self.params.get(name, []) for v in value.split(",") if v]


def _whole(name: str, raw: str | None, default: int, most: int) -> int:
    if raw is None:
        return default
    if not (raw.isascii() and raw.isdigit() and len(raw) < 7) or not 1 <= int(raw) <= most:
        raise FhirError(400, f"{name} must be a whole number from 1 to {most}.", name)
    return int(raw)


def parse_search(resource_type: str, args: MultiDict[str, str]) -> Search:
    allowed = SEARCH_PARAMS.get(resource_type, {})
    params: dict[str, list[str]] = {}
    include: list[str] = []
    for name, value in args.items(multi=True):
        base = name.split(":", 1)[0]
        if name in IGNORED or name in ("_count", "_page"):
            continue
        if name == "_include":
            if value not in INCLUDES.get(resource_type, []):
                raise FhirError(400, f"_include={value} is not supported.", "_include")
            include.append(value)
            continue
        if base not in allowed or (":" in name and name != f"{base}:exact"):
            raise FhirError(
                400, f"Search parameter {name} is not supported on {resource_type}.", name
            )
        params.setdefault(base, []).append(value)
    page = PageRequest(
        _whole("_page", args.get("_page"), 1, MAX_PAGE),
        _whole("_count", args.get("_count"), DEFAULT_PER_PAGE, MAX_PER_PAGE),
    )
    return Search(params, page, tuple(include))


def reference_id(name: str, value: str, resource_type: str) -> str:
    """``Type/id``, an absolute URL ending so, or a bare id → the id; another type → 400."""
    parts = value.rstrip("/").split("/")
    if len(parts) >= 2:
        if parts[-2] != resource_type:
            raise FhirError(400, f"{name} refers to {resource_type} resources.", name)
        return parts[-1]
    if not value:
        raise FhirError(400, f"{name} needs a value.", name)
    return value


def token_code(value: str) -> tuple[str | None, str]:
    """``system|code`` → (system, code); ``code`` → (None, code)."""
    if "|" in value:
        system, _, code = value.partition("|")
        return system or None, code
    return None, value


def _moment(name: str, text: str) -> tuple[datetime, datetime]:
    """The interval [start, end) a FHIR date or dateTime value stands for."""
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            start = datetime.combine(day, time(), UTC)
            return _checked(name, start), start + timedelta(days=1)
        found = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise FhirError(400, f"{name}: not a FHIR date or dateTime.", name) from exc
    if found.tzinfo is None:
        found = found.replace(tzinfo=UTC)
    return _checked(name, found), found + timedelta(seconds=1)


def _checked(name: str, moment: datetime) -> datetime:
    if not MIN_YEAR <= moment.year <= MAX_YEAR:
        raise FhirError(400, f"{name}: the year must be from {MIN_YEAR} to {MAX_YEAR}.", name)
    return moment


def date_bounds(name: str, values: list[str]) -> list[tuple[str, datetime]]:
    """(operator, moment) conditions of date values such as ``gt2026-01-01``."""
    found: list[tuple[str, datetime]] = []
    for value in values:
        prefix = value[:2] if value[:2] in PREFIXES else "eq"
        text = value[2:] if value[:2] in PREFIXES else value
        start, end = _moment(name, text)
        if prefix == "eq":
            found += [("ge", start), ("lt", end)]
        elif prefix in ("gt", "le"):
            found.append(("ge" if prefix == "gt" else "lt", end))
        else:
            found.append((prefix, start))
    return found


def apply_bounds(column: Any, bounds: list[tuple[str, datetime]]) -> list[Any]:
    ops = {"ge": column.__ge__, "lt": column.__lt__}
    return [ops[op](moment) for op, moment in bounds]
