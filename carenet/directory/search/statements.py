"""The search statements: the full one, a ring around the patient, the nearest rows in KNN
order (where the spatial index gives them: PostgreSQL), and the capped counts.

``plan`` decides which of them a search runs. All of them find the same matches
in the same order (``ranking``):

- a *near* row: a ``search_entry`` row of the category within the radius;
- a *serving* row: the primary row of a service whose area (shape, circle or
  ZIP list) contains the patient, wherever its office is;
- the order: serving rows first when the caller asked for a delivered category,
  then the distance (SQLite: the flat-earth distance, which the page also
  reports exactly; PostgreSQL: the spheroid distance), the name and the id.

Each statement is assembled from the backend's ``fragments``; this module never asks
which backend it is.
"""

# ruff: noqa: S608  (SQL text is assembled from fragments' pieces; values are bound)

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from carenet.directory.search import ranking
from carenet.directory.search.fragments import Fragments, for_dialect, local_times_cte
from carenet.directory.search.models import ANY_CATEGORY
from carenet.directory.search.query import SearchQuery

OUTPUT_COLUMNS = (
    "id", "service_id", "service_name", "service_description", "categories",
    "organization_id", "organization_name", "location_id", "location_name", "address",
    "latitude", "longitude", "confidential", "capacity_status", "free", "languages",
    "minimum_age", "maximum_age", "phones", "schedules", "timezone", "area_primary", "has_area",
)  # fmt: skip

# What the candidate rows carry through counting and sorting: the sort keys and what
# ``keep`` tests. The wide display columns are read for the page's rows only.
CANDIDATE_COLUMNS = ("id", "service_id", "service_name", "has_area", "area_primary")


@dataclass(frozen=True)
class Parts:
    """What every statement of one search shares: parameters and fragments."""

    sql: Fragments  # the backend's fragments
    params: dict[str, Any]
    code: str  # SQL for the category code
    where: str  # the filters on ``e``
    lt: str  # the local-time CTE (with its trailing comma), or ""
    any_category: bool  # no one category: the "any category" rows (code 0)


def parts(dialect: str, q: SearchQuery) -> Parts:
    """The parameters and shared fragments of ``q``'s statements."""
    sql = for_dialect(dialect)
    params: dict[str, Any] = {"lat": q.latitude, "lon": q.longitude, "zip": q.postcode,
                              "code": q.category_code, "radius_m": q.radius_m,
                              "limit": q.limit, "offset": q.offset}  # fmt: skip
    where = " AND ".join(sql.filters(q, params)) or "1 = 1"
    if q.category_slug is not None:
        params["slug"] = q.category_slug
        code = "(SELECT id FROM search_category WHERE slug = :slug)"
    else:
        code = sql.code_param
    params.update(sql.point_params(q.latitude, q.longitude, q.radius_m))
    lt = local_times_cte(q, params) if q.local_times is not None else ""
    any_category = q.category_slug is None and q.category_code == ANY_CATEGORY
    return Parts(sql, params, code, where, lt, any_category)


def build_sql(dialect: str, q: SearchQuery, count_only: bool = False) -> tuple[str, dict]:
    """The full statement: every match counted and sorted, one page of them returned with
    ``total`` (the exact number of matches). Its cost grows with the number of matches."""
    p = parts(dialect, q)
    cols = ", ".join(f"e.{c}" for c in CANDIDATE_COLUMNS)
    sql, keep = p.sql.full_candidates(p.lt, p.code, p.any_category, p.where, cols)
    if count_only:
        return sql + f"SELECT count(*) FROM scored WHERE {keep}", p.params
    order = ranking.full_order(p.sql, q.serving_first)
    # Count and sort narrow rows; the display columns and the exact distance are read for
    # the page's rows only.
    wide = ", ".join(f"e.{c}" for c in OUTPUT_COLUMNS)
    return (
        sql + f"SELECT {wide}, p.serves, p.total, {p.sql.exact_distance()} AS dist_m FROM"
        f" (SELECT scored.*, count(*) OVER () AS total FROM scored WHERE {keep}"
        f" ORDER BY {order.format(p='')} LIMIT :limit OFFSET :offset) AS p"
        f" JOIN search_entry e ON e.id = p.id ORDER BY {order.format(p='p.')}",
        p.params,
    )


def ring_sql(dialect: str, q: SearchQuery, ring_m: float, first: int) -> tuple[str, dict]:
    """The ``first`` nearest rows within ``ring_m`` meters (of the radius or less) that are
    matches — serving ones only when serving rows come first — in the full statement's
    order, with ``sort_m``, the distance that order uses. Reads only the ring's rows."""
    p = parts(dialect, q)
    p.params.update(ring_m=ring_m, first=first)
    p.params.update(p.sql.ring_params(q.latitude, q.longitude, ring_m))
    serves = p.sql.serves(p.code, p.any_category)
    tables, near = p.sql.near(p.code, ":ring_m", box="ring_")
    only_serving = f" AND {serves}" if q.serving_first else ""
    served = p.sql.true if q.serving_first else serves
    wide = ", ".join(f"e.{c}" for c in OUTPUT_COLUMNS)
    order = ranking.NEAREST_ORDER
    return (
        f"WITH {p.lt}ring AS (SELECT e.id, e.service_name, {p.sql.sort_distance()} AS approx_m"
        f" FROM {tables} WHERE {near} AND {p.where}{only_serving}) "
        f"SELECT {wide}, {served} AS serves, NULL AS total, {p.sql.exact_distance()} AS dist_m,"
        f" p.approx_m AS sort_m FROM (SELECT * FROM ring ORDER BY {order.format(p='')}"
        f" LIMIT :first) AS p JOIN search_entry e ON e.id = p.id ORDER BY {order.format(p='p.')}",
        p.params,
    )


def nearest_sql(
    dialect: str, q: SearchQuery, first: int, fetch: int, at_most: int | None = None
) -> tuple[str, dict]:
    """Where the spatial index reads nearest first (``Fragments.nearest_first``: PostgreSQL):
    the ``fetch`` matches within the radius nearest by the index's (sphere) distance, read
    in that order from the GiST index (KNN) — serving ones only when serving rows come first
    — and of them the ``first`` in the full statement's order, with ``sort_m`` (the distance
    that order uses), ``edge_m`` (the sphere distance of the farthest row read) and
    ``fetched`` (rows read). Reads only the rows it returns and the rows nearer. With
    ``at_most``, ``near_n`` is also ``count_near_sql``'s count, in the same round trip."""
    p = parts(dialect, q)
    p.params.update(first=first, fetch=fetch)
    serves = p.sql.serves(p.code, p.any_category)
    tables, near = p.sql.near(p.code, ":radius_m")
    only_serving = f" AND {serves}" if q.serving_first else ""
    served = p.sql.true if q.serving_first else serves
    wide = ", ".join(f"e.{c}" for c in OUTPUT_COLUMNS)
    order = ranking.NEAREST_ORDER
    knn = p.sql.knn_distance()
    count = "NULL"
    if at_most is not None:
        p.params["at_most"] = at_most
        count = f"({_capped_count(tables, near, p.where)})"
    return (
        f"WITH {p.lt}nearest AS (SELECT e.id, e.service_name, {p.sql.sort_distance()} AS"
        f" approx_m, {knn} AS sphere_m FROM {tables} WHERE {near} AND {p.where}{only_serving}"
        f" ORDER BY {knn} LIMIT :fetch), "
        f"edge AS (SELECT max(sphere_m) AS edge_m, count(*) AS fetched, {count} AS near_n"
        " FROM nearest) "
        f"SELECT {wide}, {served} AS serves, NULL AS total, {p.sql.exact_distance()} AS dist_m,"
        " p.approx_m AS sort_m, edge.edge_m, edge.fetched, edge.near_n"
        f" FROM (SELECT * FROM nearest ORDER BY {order.format(p='')} LIMIT :first) AS p"
        f" JOIN search_entry e ON e.id = p.id CROSS JOIN edge ORDER BY {order.format(p='p.')}",
        p.params,
    )


def count_near_sql(dialect: str, q: SearchQuery, at_most: int) -> tuple[str, dict]:
    """How many rows within the radius match, counting no further than ``at_most``."""
    p = parts(dialect, q)
    p.params["at_most"] = at_most
    tables, near = p.sql.near(p.code, ":radius_m")
    if p.where == "1 = 1":  # no filters: the spatial index alone, where it can decide
        tables, near = p.sql.near_unfiltered(p.code, ":radius_m") or (tables, near)
    with_lt = f"WITH {p.lt[:-2]} " if p.lt else ""
    return with_lt + _capped_count(tables, near, p.where), p.params


def _capped_count(tables: str, near: str, where: str) -> str:
    """SQL counting the rows of ``tables`` that are ``near`` and pass ``where``, no further
    than ``:at_most``."""
    return (
        f"SELECT count(*) FROM (SELECT 1 FROM {tables} WHERE {near} AND {where}"
        " LIMIT :at_most) AS c"
    )


def count_far_sql(dialect: str, q: SearchQuery, at_most: int) -> tuple[str, dict]:
    """How many services serve the patient's area from an office outside the radius (or
    none), counting no further than ``at_most``."""
    p = parts(dialect, q)
    p.params["at_most"] = at_most
    with_lt = f"WITH {p.lt[:-2]} " if p.lt else ""
    return (
        f"{with_lt}SELECT count(*) FROM ({p.sql.far_areas(p.code, p.where, p.any_category)}"
        " LIMIT :at_most) AS c",
        p.params,
    )


@lru_cache(maxsize=512)  # a search's statement texts repeat; their values are parameters
def driver_sql(sql: str, dialect: str) -> str:
    """Named ``:param`` placeholders in the DB-API's own style (psycopg wants ``%(param)s``)."""
    return for_dialect(dialect).to_driver(sql)
