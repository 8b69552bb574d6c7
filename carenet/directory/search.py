"""Directory search: services that reach a patient, near them or delivering to their home.

One entry point, ``search_services(params, show_confidential)``. The patient's
point comes from ``near`` (a ZIP code or an address, geocoded) or lat/lon; the
patient's ZIP (for ZIP-list and county areas) is the one ``near`` names, else
the ZIP whose centroid is nearest to the point — an approximation near ZIP
borders. See docs/search.md for the rules; ``search_query`` holds the SQL.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from flask import current_app
from sqlalchemy import select

from carenet.directory import search_plan, search_query
from carenet.directory.models import TaxonomyTerm
from carenet.directory.opening_hours import (
    OpeningRule,
    is_open,
    local_wall_time,
    next_opening,
    zone,
)
from carenet.directory.search_models import ANY_CATEGORY, search_timezone
from carenet.errors import InvalidInput
from carenet.extensions import db
from carenet.reports import gaps

METERS_PER_MILE = 1609.344
MIN_RADIUS_MI, MAX_RADIUS_MI, DEFAULT_RADIUS_MI = 0.1, 100.0, 10.0
MAX_PER_PAGE = 100


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
    per_page: int = 20


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


def can_see_confidential(viewer: Any) -> bool:
    """Whether ``viewer`` (None when anonymous) may see addresses of confidential services."""
    if viewer is None:
        return False
    from carenet.accounts.policy import can_view_confidential_locations

    return can_view_confidential_locations(viewer)


def locate(params: SearchParams) -> SearchOrigin:
    """The patient's point and ZIP from ``near`` or lat/lon; GeocodeError names ``near``."""
    from carenet.geo import geocode, nearest_postcode

    if params.near:
        point = geocode(params.near, field="near")
        return SearchOrigin(point.latitude, point.longitude, point.postcode, point.label,
                            params.radius_mi)  # fmt: skip
    if params.latitude is None or params.longitude is None:
        raise InvalidInput("Give near or lat and lon.", {"near": ["Give near or lat and lon."]})
    postcode = nearest_postcode(params.latitude, params.longitude)
    return SearchOrigin(params.latitude, params.longitude, postcode, None, params.radius_mi)


def max_results() -> int:
    """How many matches, nearest first, a search counts and pages through."""
    return int(current_app.config.get("SEARCH_MAX_RESULTS", 200))


def _check_ranges(params: SearchParams) -> None:
    errors: dict[str, list[str]] = {}
    if not MIN_RADIUS_MI <= params.radius_mi <= MAX_RADIUS_MI:
        errors["radius_mi"] = [f"Must be between {MIN_RADIUS_MI} and {MAX_RADIUS_MI} miles."]
    if not 1 <= params.per_page <= MAX_PER_PAGE:
        errors["per_page"] = [f"Must be between 1 and {MAX_PER_PAGE}."]
    if params.page < 1:
        errors["page"] = ["Must be 1 or more."]
    elif (params.page - 1) * params.per_page >= max_results():
        errors["page"] = [f"A search pages through its nearest {max_results()} matches only;"
                          " narrow it (category, radius, filters) to see others."]  # fmt: skip
    if errors:
        raise InvalidInput("Invalid search.", errors)


_TAXONOMY_CACHE: dict[tuple[str, str], tuple[float, bool]] = {}
TAXONOMY_CACHE_SECONDS = 300.0


def _categories(slugs: tuple[str, ...]) -> bool:
    """Whether any asked category is a delivered one. Raises InvalidInput naming
    ``category`` for a slug not in the taxonomy. Known slugs are cached for a few minutes
    (taxonomies change rarely); an unknown one is always looked up again."""
    url = str(db.engine.url)
    clock = time.monotonic()
    cached = {s: _TAXONOMY_CACHE.get((url, s)) for s in slugs}
    missing = [s for s, hit in cached.items() if hit is None or hit[0] < clock]
    if missing:
        rows = db.session.execute(
            select(TaxonomyTerm.code, TaxonomyTerm.delivered).where(TaxonomyTerm.code.in_(missing))
        ).all()
        for code, delivered in rows:
            cached[code] = (clock + TAXONOMY_CACHE_SECONDS, bool(delivered))
            _TAXONOMY_CACHE[(url, code)] = cached[code]
        unknown = [s for s in missing if s not in {row.code for row in rows}]
        if unknown:
            message = f"Unknown category: {', '.join(unknown)}."
            raise InvalidInput(message, {"category": [message]})
    return any(hit[1] for hit in cached.values() if hit)


def _local_times(moment: datetime) -> tuple[search_query.LocalTime, ...]:
    times = []
    for code, name in db.session.execute(select(search_timezone.c.id, search_timezone.c.name)):
        wall = local_wall_time(moment, zone(name))
        times.append(search_query.LocalTime(code, wall.weekday(), wall.hour * 60 + wall.minute,
                                            wall.day, wall.date().toordinal()))  # fmt: skip
    return tuple(times)


def search_services(
    params: SearchParams, show_confidential: bool = False, now: datetime | None = None
) -> SearchPage:
    """Services reaching the patient, nearest first, one page of them."""
    _check_ranges(params)
    origin = locate(params)
    now = now or datetime.now(UTC)
    reference = params.open_at or now
    serving_first = _categories(params.categories) if params.categories else False
    single = params.categories[0] if len(params.categories) == 1 else None
    several = params.categories if len(params.categories) > 1 else ()
    wants_hours = params.open_now or params.open_at is not None
    query = search_query.SearchQuery(
        latitude=origin.latitude,
        longitude=origin.longitude,
        postcode=origin.postcode,
        radius_m=params.radius_mi * METERS_PER_MILE,
        category_code=ANY_CATEGORY,
        category_slug=single,
        category_slugs=several,
        text=params.q,
        local_times=_local_times(reference) if wants_hours else None,
        language=params.language,
        free=params.free,
        age=params.age,
        accepting=params.accepting,
        serving_first=serving_first,
        limit=params.per_page,
        offset=(params.page - 1) * params.per_page,
    )
    conn = _read_connection()
    found = search_plan.run(search_plan.executor(conn), conn.dialect.name, query, max_results())
    rows, total = found.rows, found.total
    if total == 0 and params.page == 1:  # de-identified service-gap log for the reports
        # End the read first (the log commits anyway): on SQLite a read transaction that
        # turns into a write after another worker's commit fails at once (SQLITE_BUSY_SNAPSHOT)
        # instead of waiting for the lock.
        db.session.commit()
        gaps.record_zero_result_search(params.categories, origin.postcode, params.radius_mi)
    hours: dict[tuple[str, str], tuple[bool | None, str | None]] = {}
    contents = [_result(row, reference, show_confidential, hours) for row in rows]
    return SearchPage(contents, total, params.page, params.per_page, origin, found.exact)


def _read_connection() -> Any:
    """The connection a search reads with. On PostgreSQL, when the request has not opened a
    transaction yet, in autocommit: at READ COMMITTED every statement takes its own snapshot
    inside a transaction too, so BEGIN and ROLLBACK would be two round trips that change
    nothing. On SQLite the plan's statements share one read transaction (one snapshot)."""
    if db.engine.dialect.name == "postgresql" and not db.session().in_transaction():
        return db.session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
    return db.session.connection()


def _opening(schedules: str, timezone: str, reference: datetime) -> tuple[bool | None, str | None]:
    """(open at ``reference``, next opening as ISO text) for a row's rules; None when unknown."""
    rules = [OpeningRule.from_json(r) for r in json.loads(schedules)]
    if not rules:
        return None, None
    tz = zone(timezone)
    opening = next_opening(rules, reference, tz)
    return is_open(rules, local_wall_time(reference, tz)), opening.isoformat() if opening else None


def _result(
    row: Any, reference: datetime, show_confidential: bool, hours: dict[tuple[str, str], Any]
) -> dict[str, Any]:
    key = (row.schedules, row.timezone)
    if key not in hours:  # rows often share the same rules: compute them once per search
        hours[key] = _opening(row.schedules, row.timezone, reference)
    open_now, next_open_at = hours[key]
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
        "open_now": open_now,
        "next_open_at": next_open_at,
        "capacity_status": row.capacity_status,
        "free": bool(row.free),
        "languages": [c for c in row.languages.split(",") if c],
        "phones": json.loads(row.phones),
    }
