"""Directory search: services that reach a patient, near them or delivering to their home.

One entry point, ``search_services(params, show_confidential)``. The patient's
point comes from ``near`` (a ZIP code or an address, geocoded) or lat/lon; the
patient's ZIP (for ZIP-list and county areas) is the one ``near`` names, else
the ZIP whose centroid is nearest to the point — an approximation near ZIP
borders. See docs/search.md for the rules; ``plan`` picks the statements,
``statements`` holds them, ``ranking`` the order, ``results`` shapes the page.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from carenet.accounts.actor import Actor
from carenet.directory.search import plan, ranking
from carenet.directory.search.details import directory_languages
from carenet.directory.search.fragments import for_dialect
from carenet.directory.search.models import ANY_CATEGORY, search_timezone
from carenet.directory.search.opening_hours import local_wall_time, zone
from carenet.directory.search.params import SearchParams, check_ranges, max_results
from carenet.directory.search.query import LocalTime, SearchQuery
from carenet.directory.search.results import SearchOrigin, SearchPage, result
from carenet.errors import InvalidInput
from carenet.extensions import db
from carenet.geo import METERS_PER_MILE
from carenet.reports import service as reports


def can_see_confidential(viewer: Actor | None) -> bool:
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


def _local_times(moment: datetime) -> tuple[LocalTime, ...]:
    times = []
    for code, name in db.session.execute(select(search_timezone.c.id, search_timezone.c.name)):
        wall = local_wall_time(moment, zone(name))
        times.append(LocalTime(code, wall.weekday(), wall.hour * 60 + wall.minute,
                               wall.day, wall.date().toordinal()))  # fmt: skip
    return tuple(times)


def search_services(
    params: SearchParams, show_confidential: bool = False, now: datetime | None = None
) -> SearchPage:
    """Services reaching the patient, nearest first, one page of them."""
    check_ranges(params)
    origin = locate(params)
    now = now or datetime.now(UTC)
    reference = params.open_at or now
    serving_first = ranking.serving_first(params.categories) if params.categories else False
    single = params.categories[0] if len(params.categories) == 1 else None
    several = params.categories if len(params.categories) > 1 else ()
    wants_hours = params.open_now or params.open_at is not None
    query = SearchQuery(
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
    found = plan.run(plan.executor(conn), conn.dialect.name, query, max_results())
    rows, total = found.rows, found.total
    # A de-identified service-gap log for the reports; not when a filter could match nothing
    # in the whole directory (a language no service offers: a mistyped filter, not a gap).
    if total == 0 and params.page == 1 and _filters_can_match(params):
        # End the read first (the log commits anyway): on SQLite a read transaction that
        # turns into a write after another worker's commit fails at once (SQLITE_BUSY_SNAPSHOT)
        # instead of waiting for the lock.
        db.session.commit()
        reports.record_zero_result_search(params.categories, origin.postcode, params.radius_mi)
    hours: dict[tuple[str, str], Any] = {}  # (rules, zone) → Opening, once per page
    contents = [result(row, reference, show_confidential, hours) for row in rows]
    return SearchPage(contents, total, params.page, params.per_page, origin, found.exact)


def _filters_can_match(params: SearchParams) -> bool:
    """Whether some service in the directory offers what the filters ask for (language)."""
    if params.language is None:
        return True
    offered = {code for code, _ in directory_languages()}
    return params.language.lower() in offered


def _read_connection() -> Any:
    """The connection a search reads with. On PostgreSQL (``Fragments.autocommit_reads``),
    when the request has not opened a transaction yet, in autocommit: at READ COMMITTED
    every statement takes its own snapshot inside a transaction too, so BEGIN and ROLLBACK
    would be two round trips that change nothing. On SQLite the plan's statements share one
    read transaction (one snapshot)."""
    if for_dialect(db.engine.dialect.name).autocommit_reads and not db.session().in_transaction():
        return db.session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
    return db.session.connection()
