"""What a search returns: the patient's origin, the page in HSDS's paging envelope, and each
result as ``schemas.SearchResultSchema`` shapes it (addresses of confidential services
redacted, opening hours evaluated in the location's time zone)."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from carenet.directory.search.hours_words import describe, next_open_words
from carenet.directory.search.opening_hours import (
    OpeningRule,
    is_open,
    local_wall_time,
    next_opening,
    zone,
)
from carenet.geo import METERS_PER_MILE


@dataclass(frozen=True)
class SearchOrigin:
    latitude: float
    longitude: float
    postcode: str | None
    label: str | None
    radius_mi: float


@dataclass
class SearchPage:
    """One page of results in the HSDS paging envelope."""

    contents: list[dict[str, Any]]
    total_items: int
    page_number: int
    per_page: int
    origin: SearchOrigin
    total_items_exact: bool = True  # False: more match than the search pages through
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def total_pages(self) -> int:
        return math.ceil(self.total_items / self.per_page) if self.total_items else 0

    @property
    def size(self) -> int:
        return len(self.contents)

    @property
    def first_page(self) -> bool:
        return self.page_number == 1

    @property
    def last_page(self) -> bool:
        return self.page_number >= self.total_pages

    @property
    def empty(self) -> bool:
        return not self.contents


@dataclass(frozen=True)
class Opening:
    """A row's hours at the reference time: open now, next opening (ISO, local), in words."""

    open_now: bool | None = None
    next_open_at: str | None = None
    next_open_words: str | None = None
    hours: tuple[str, ...] = ()


def _opening(schedules: str, timezone: str, reference: datetime) -> Opening:
    """The row's opening hours at ``reference``; unknown (None) without rules."""
    rules = [OpeningRule.from_json(r) for r in json.loads(schedules)]
    if not rules:
        return Opening()
    tz = zone(timezone)
    opening = next_opening(rules, reference, tz)
    wall = local_wall_time(reference, tz)
    return Opening(
        is_open(rules, wall),
        opening.isoformat() if opening else None,
        next_open_words(opening, wall) if opening else None,
        tuple(describe(rules)),
    )


def result(
    row: Any, reference: datetime, show_confidential: bool, hours: dict[tuple[str, str], Any]
) -> dict[str, Any]:
    """One result from a page's row; ``hours`` caches opening hours across the page."""
    key = (row.schedules, row.timezone)
    if key not in hours:  # rows often share the same rules: compute them once per search
        hours[key] = _opening(row.schedules, row.timezone, reference)
    opening: Opening = hours[key]
    redacted = bool(row.confidential) and not show_confidential
    distance = None if row.dist_m is None or redacted else float(row.dist_m)
    location = None
    if row.location_id:
        location = {
            "id": row.location_id,
            "name": row.location_name,
            "address": None if redacted else row.address,
            "latitude": None if redacted else row.latitude,
            "longitude": None if redacted else row.longitude,
            "redacted": redacted,
        }
    return {
        "service": {
            "id": row.service_id,
            "name": row.service_name,
            "description": row.service_description,
            "categories": [c for c in row.categories.split(",") if c],
        },
        "organization": {"id": row.organization_id, "name": row.organization_name},
        "location": location,
        "distance_mi": None if distance is None else round(distance / METERS_PER_MILE, 4),
        "distance_km": None if distance is None else round(distance / 1000, 4),
        "serves_patient_area": bool(row.serves),
        "open_now": opening.open_now,
        "next_open_at": opening.next_open_at,
        "next_open_words": opening.next_open_words,
        "hours": list(opening.hours),
        "capacity_status": row.capacity_status,
        "free": bool(row.free),
        "languages": [c for c in row.languages.split(",") if c],
        "phones": json.loads(row.phones),
    }
