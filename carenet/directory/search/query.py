"""A search in the terms of the search tables: what the statements and the plan are given.

``service.search_services`` turns a caller's ``SearchParams`` into a ``SearchQuery``;
``statements`` builds SQL from it and ``plan`` decides which statements run.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LocalTime:
    """The wall-clock time in one time zone at the moment asked about."""

    tz_code: int
    weekday: int
    minute: int
    monthday: int
    day: int  # date.toordinal()


@dataclass(frozen=True)
class SearchQuery:
    """A validated search, in the terms of the search tables."""

    latitude: float
    longitude: float
    postcode: str | None
    radius_m: float
    category_code: int  # ANY_CATEGORY (0) unless ``category_slug`` names the one category
    category_slug: str | None = None
    category_slugs: tuple[str, ...] = ()  # residual filter when several categories are asked
    text: str | None = None
    local_times: tuple[LocalTime, ...] | None = None
    language: str | None = None
    free: bool = False
    age: int | None = None
    accepting: bool = False
    serving_first: bool = False
    limit: int = 20
    offset: int = 0
