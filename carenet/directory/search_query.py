"""The search statements: the full one, a ring around the patient (SQLite), the nearest
rows in KNN order (PostgreSQL), and the capped counts.

``search_plan`` decides which of them a search runs. All of them find the same
matches in the same order:

- a *near* row: a ``search_entry`` row of the category within the radius;
- a *serving* row: the primary row of a service whose area (shape, circle or
  ZIP list) contains the patient, wherever its office is;
- the order: serving rows first when the caller asked for a delivered category,
  then the distance (SQLite: the flat-earth distance, which the page also
  reports exactly; PostgreSQL: the spheroid distance), the name and the id.
"""

# ruff: noqa: S608  (SQL text is assembled from search_sql's fragments; values are bound)

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from carenet.directory import search_sql as f
from carenet.directory.search_models import ANY_CATEGORY

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


@dataclass(frozen=True)
class Parts:
    """What every statement of one search shares: parameters and fragments."""

    dialect: str
    params: dict[str, Any]
    code: str  # SQL for the category code
    where: str  # the filters on ``e``
    lt: str  # the local-time CTE (with its trailing comma), or ""
    any_category: bool  # no one category: the "any category" rows (code 0)


def parts(dialect: str, q: SearchQuery) -> Parts:
    """The parameters and shared fragments of ``q``'s statements."""
    params: dict[str, Any] = {"lat": q.latitude, "lon": q.longitude, "zip": q.postcode,
                              "code": q.category_code, "radius_m": q.radius_m,
                              "limit": q.limit, "offset": q.offset}  # fmt: skip
    where = " AND ".join(f.filters(dialect, q, params)) or "1 = 1"
    if q.category_slug is not None:
        params["slug"] = q.category_slug
        code = "(SELECT id FROM search_category WHERE slug = :slug)"
    else:
        # PostgreSQL: an int2 parameter would keep btree_gist's int4 opclass out of the index.
        code = "CAST(:code AS integer)" if dialect == "postgresql" else ":code"
    if dialect != "postgresql":
        params.update(f.bbox_params(q.latitude, q.longitude, q.radius_m))
        params.update(f.flat_earth_params(q.latitude))
    lt = f.local_times_cte(q, params) if q.local_times is not None else ""
    any_category = q.category_slug is None and q.category_code == ANY_CATEGORY
    return Parts(dialect, params, code, where, lt, any_category)


def _distance(p: Parts, e: str = "e") -> str:
    """SQL for the distance the order uses."""
    if p.dialect == "postgresql":
        return f"ST_Distance({e}.geog, {f.HERE_PG})"
    return f.approx_m(f"{e}.latitude", f"{e}.longitude")


def _exact(p: Parts) -> str:
    """SQL for the distance a result reports (exact on both backends)."""
    if p.dialect == "postgresql":
        return "p.approx_m"
    return f.exact_m_sqlite("e.latitude", "e.longitude")


def _near(p: Parts, radius: str, box: str = "") -> tuple[str, str]:
    """(FROM, WHERE) of the category's rows within ``radius`` meters, from the spatial index;
    ``box`` names the ``bbox_params`` prefix of that radius (SQLite)."""
    if p.dialect == "postgresql":
        within = f"ST_DWithin(e.geog, {f.HERE_PG}, CAST({radius} AS float8))"
        return "search_entry e", f"e.category_code = {p.code} AND {within}"
    within = f.within_sqlite("e.latitude", "e.longitude", radius)
    return (
        "search_entry_rtree r JOIN search_entry e ON e.id = r.id",
        f"{f.box_sqlite('r', p.code, box)} AND {within} = 1",
    )


def _sqlite_sql(p: Parts, cols: str) -> tuple[str, str]:
    within = f.within_sqlite("e.latitude", "e.longitude", ":radius_m")
    sql = (
        f"WITH {p.lt}{f.area_cte('sqlite', p.code, p.any_category)}, "
        f"cand(id) AS (SELECT id FROM search_entry_rtree r WHERE {f.box_sqlite('r', p.code)}"
        " UNION SELECT e.id FROM area JOIN search_entry e ON e.service_id = area.service_id"
        f" AND e.category_code = {p.code} WHERE e.area_primary = 1), "
        f"scored AS (SELECT {cols}, {_distance(p)} AS approx_m, {within} AS near,"
        " (e.has_area = 1 AND e.service_id IN (SELECT service_id FROM area)) AS serves"
        f" FROM cand JOIN search_entry e ON e.id = cand.id WHERE {p.where}) "
    )
    return sql, "near = 1 OR (serves = 1 AND area_primary = 1)"


def _postgres_sql(p: Parts, cols: str) -> tuple[str, str]:
    within = f"ST_DWithin(e.geog, {f.HERE_PG}, CAST(:radius_m AS float8))"
    # Rows near the patient and rows reached only through an area are disjoint, so
    # UNION ALL needs no de-duplication and each row is read once, from its index.
    sql = (
        f"WITH {p.lt}{f.area_cte('postgresql', p.code, p.any_category)}, "
        f"near AS (SELECT {cols}, {_distance(p)} AS approx_m FROM search_entry e"
        f" WHERE e.category_code = {p.code} AND {within} AND {p.where}), "
        f"far AS (SELECT {cols}, {_distance(p)} AS approx_m FROM area"
        " JOIN search_entry e ON e.service_id = area.service_id"
        f" WHERE e.category_code = {p.code} AND e.area_primary AND {p.where}"
        f" AND (e.geog IS NULL OR NOT {within})), "
        "scored AS (SELECT near.*, (near.has_area AND near.service_id IN"
        " (SELECT service_id FROM area)) AS serves FROM near"
        " UNION ALL SELECT far.*, true AS serves FROM far) "
    )
    return sql, "true"


def _order(p: Parts, serving_first: bool) -> str:
    if p.dialect == "postgresql":
        order = "{p}approx_m NULLS LAST, {p}service_name, {p}id"
    else:
        order = "{p}approx_m IS NULL, {p}approx_m, {p}service_name, {p}id"
    return "{p}serves DESC, " + order if serving_first else order


def build_sql(dialect: str, q: SearchQuery, count_only: bool = False) -> tuple[str, dict]:
    """The full statement: every match counted and sorted, one page of them returned with
    ``total`` (the exact number of matches). Its cost grows with the number of matches."""
    p = parts(dialect, q)
    cols = ", ".join(f"e.{c}" for c in CANDIDATE_COLUMNS)
    sql, keep = (_postgres_sql if dialect == "postgresql" else _sqlite_sql)(p, cols)
    if count_only:
        return sql + f"SELECT count(*) FROM scored WHERE {keep}", p.params
    order = _order(p, q.serving_first)
    # Count and sort narrow rows; the display columns and the exact distance are read for
    # the page's rows only.
    wide = ", ".join(f"e.{c}" for c in OUTPUT_COLUMNS)
    return (
        sql + f"SELECT {wide}, p.serves, p.total, {_exact(p)} AS dist_m FROM (SELECT scored.*,"
        f" count(*) OVER () AS total FROM scored WHERE {keep} ORDER BY {order.format(p='')}"
        f" LIMIT :limit OFFSET :offset) AS p JOIN search_entry e ON e.id = p.id"
        f" ORDER BY {order.format(p='p.')}",
        p.params,
    )


def ring_sql(dialect: str, q: SearchQuery, ring_m: float, first: int) -> tuple[str, dict]:
    """The ``first`` nearest rows within ``ring_m`` meters (of the radius or less) that are
    matches — serving ones only when serving rows come first — in the full statement's
    order, with ``sort_m``, the distance that order uses. Reads only the ring's rows."""
    p = parts(dialect, q)
    p.params.update(ring_m=ring_m, first=first)
    if dialect != "postgresql":
        p.params.update(f.bbox_params(q.latitude, q.longitude, ring_m, prefix="ring_"))
    serves = f.serves(dialect, p.code, p.any_category)
    tables, near = _near(p, ":ring_m", box="ring_")
    only_serving = f" AND {serves}" if q.serving_first else ""
    served = ("true" if dialect == "postgresql" else "1") if q.serving_first else serves
    wide = ", ".join(f"e.{c}" for c in OUTPUT_COLUMNS)
    order = "{p}approx_m, {p}service_name, {p}id"
    return (
        f"WITH {p.lt}ring AS (SELECT e.id, e.service_name, {_distance(p)} AS approx_m"
        f" FROM {tables} WHERE {near} AND {p.where}{only_serving}) "
        f"SELECT {wide}, {served} AS serves, NULL AS total, {_exact(p)} AS dist_m,"
        f" p.approx_m AS sort_m FROM (SELECT * FROM ring ORDER BY {order.format(p='')}"
        f" LIMIT :first) AS p JOIN search_entry e ON e.id = p.id ORDER BY {order.format(p='p.')}",
        p.params,
    )


# The spheroid distance the order uses is at least this share of the sphere distance that
# PostgreSQL's KNN index order (``<->``) follows: the WGS84 radii of curvature lie within
# 0.9944 and 1.0045 times the mean radius of PostGIS's sphere (a margin kept).
SPHERE_TO_SPHEROID_MIN = 0.992


def nearest_sql(
    q: SearchQuery, first: int, fetch: int, at_most: int | None = None
) -> tuple[str, dict]:
    """PostgreSQL: the ``fetch`` matches within the radius nearest by sphere distance, read
    in that order from the GiST index (KNN) — serving ones only when serving rows come first
    — and of them the ``first`` in the full statement's order, with ``sort_m`` (the distance
    that order uses), ``edge_m`` (the sphere distance of the farthest row read) and
    ``fetched`` (rows read). Reads only the rows it returns and the rows nearer. With
    ``at_most``, ``near_n`` is also ``count_near_sql``'s count, in the same round trip."""
    p = parts("postgresql", q)
    p.params.update(first=first, fetch=fetch)
    serves = f.serves("postgresql", p.code, p.any_category)
    tables, near = _near(p, ":radius_m")
    only_serving = f" AND {serves}" if q.serving_first else ""
    served = "true" if q.serving_first else serves
    wide = ", ".join(f"e.{c}" for c in OUTPUT_COLUMNS)
    order = "{p}approx_m, {p}service_name, {p}id"
    knn = f"e.geog <-> {f.HERE_PG}"
    count = "NULL"
    if at_most is not None:
        p.params["at_most"] = at_most
        count = f"({_capped_count(tables, near, p.where)})"
    return (
        f"WITH {p.lt}nearest AS (SELECT e.id, e.service_name, {_distance(p)} AS approx_m,"
        f" {knn} AS sphere_m FROM {tables} WHERE {near} AND {p.where}{only_serving}"
        f" ORDER BY {knn} LIMIT :fetch), "
        f"edge AS (SELECT max(sphere_m) AS edge_m, count(*) AS fetched, {count} AS near_n"
        " FROM nearest) "
        f"SELECT {wide}, {served} AS serves, NULL AS total, {_exact(p)} AS dist_m,"
        " p.approx_m AS sort_m, edge.edge_m, edge.fetched, edge.near_n"
        f" FROM (SELECT * FROM nearest ORDER BY {order.format(p='')} LIMIT :first) AS p"
        f" JOIN search_entry e ON e.id = p.id CROSS JOIN edge ORDER BY {order.format(p='p.')}",
        p.params,
    )


def count_near_sql(dialect: str, q: SearchQuery, at_most: int) -> tuple[str, dict]:
    """How many rows within the radius match, counting no further than ``at_most``."""
    p = parts(dialect, q)
    p.params["at_most"] = at_most
    tables, near = _near(p, ":radius_m")
    if dialect != "postgresql" and p.where == "1 = 1":  # no filters: the R*Tree alone
        tables = "search_entry_rtree r"
        near = f"{f.box_sqlite('r', p.code)} AND {f.within_rtree_sqlite('r', ':radius_m')} = 1"
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
        f"{with_lt}SELECT count(*) FROM ({f.far_areas(dialect, p.code, p.where, p.any_category)}"
        " LIMIT :at_most) AS c",
        p.params,
    )


@lru_cache(maxsize=512)  # a search's statement texts repeat; their values are parameters
def driver_sql(sql: str, dialect: str) -> str:
    """Named ``:param`` placeholders in the DB-API's own style (psycopg wants ``%(param)s``)."""
    if dialect == "postgresql":
        return re.sub(r"(?<!:):(\w+)", r"%(\1)s", sql)
    return sql
