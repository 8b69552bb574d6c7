"""What a caller may ask a search for, and its limits — defined here only.

The API's schema (``schemas.SearchArgsSchema``), ``search_services`` and the
coordinator's "services for a need" page all take their limits from here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from flask import current_app

from carenet.errors import InvalidInput

MIN_RADIUS_MI, MAX_RADIUS_MI, DEFAULT_RADIUS_MI = 0.1, 100.0, 10.0
MAX_PER_PAGE, DEFAULT_PER_PAGE = 100, 20
RADIUS_MESSAGE = f"Must be between {MIN_RADIUS_MI} and {MAX_RADIUS_MI} miles."


@dataclass(frozen=True)
class SearchParams:
    """What a caller asks for; validated by ``SearchArgsSchema`` (or built by code)."""

    near: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    radius_mi: float = DEFAULT_RADIUS_MI
    categories: tuple[str, ...] = ()
    q: str | None = None
    open_now: bool = False
    open_at: datetime | None = None
    language: str | None = None
    free: bool = False
    age: int | None = None
    accepting: bool = False
    page: int = 1
    per_page: int = DEFAULT_PER_PAGE


def max_results() -> int:
    """How many matches, nearest first, a search counts and pages through."""
    return int(current_app.config.get("SEARCH_MAX_RESULTS", 200))


def radius_in_range(radius_mi: float) -> bool:
    """Whether ``radius_mi`` is within the limits (never for NaN)."""
    return MIN_RADIUS_MI <= radius_mi <= MAX_RADIUS_MI


def parse_radius_mi(text: str | None) -> float:
    """``radius_mi`` from a query string: absent or empty is the default, else a number of
    miles within the limits. Anything else (``abc``, ``inf``, ``nan``, ``1e999``, a NUL,
    negative, too large) raises InvalidInput naming ``radius_mi``."""
    if text is None or not text.strip():
        return DEFAULT_RADIUS_MI
    try:
        radius = float(text)
    except ValueError:
        radius = math.nan
    if not radius_in_range(radius):
        detail = f"radius_mi must be a number of miles from {MIN_RADIUS_MI} to {MAX_RADIUS_MI}."
        raise InvalidInput(detail, {"radius_mi": [RADIUS_MESSAGE]})
    return radius


def check_ranges(params: SearchParams) -> None:
    """Raise InvalidInput naming each of radius, page size and page that is out of range."""
    errors: dict[str, list[str]] = {}
    if not radius_in_range(params.radius_mi):
        errors["radius_mi"] = [RADIUS_MESSAGE]
    if not 1 <= params.per_page <= MAX_PER_PAGE:
        errors["per_page"] = [f"Must be between 1 and {MAX_PER_PAGE}."]
    if params.page < 1:
        errors["page"] = ["Must be 1 or more."]
    elif (params.page - 1) * params.per_page >= max_results():
        errors["page"] = [f"A search pages through its nearest {max_results()} matches only;"
                          " narrow it (category, radius, filters) to see others."]  # fmt: skip
    if errors:
        raise InvalidInput("Invalid search.", errors)
