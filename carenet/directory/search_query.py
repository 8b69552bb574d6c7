"""The one search query, written for each backend's indexes.

Candidates come from two index probes, then exact tests:

- near the patient: PostGIS ``ST_DWithin`` on geography over the GiST
  ``(category_code, geog)`` index; SQLite an R*Tree box (category as third
  dimension), then SpatiaLite's ellipsoidal ``ST_Distance(a, b, 1)``;
- serving the patient's home: areas whose shape contains the point (GiST
  ``(category_code, geom)`` / R*Tree then ``ST_Intersects``) or whose ZIP list
  holds the patient's ZIP (``service_area_postcode`` index).

Filters then run on those few rows; ``count(*) OVER ()`` gives the total in
the same round trip.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

OUTPUT_COLUMNS = (
    "id", "service_id", "service_name", "service_description", "categories",
    "organization_id", "organization_name", "location_id", "location_name", "address",
    "latitude", "longitude", "confidential", "capacity_status", "free", "languages",
    "minimum_age", "maximum_age", "phones", "schedules", "timezone", "area_primary", "has_area",
)  # fmt: skip

POINT_PG = "ST_SetSRID(ST_MakePoint(CAST(:lon AS float8), CAST(:lat AS float8)), 4326)"
METERS_PER_DEGREE_LAT = 110_574.0  # the shortest degree of latitude: a safe upper bound
METERS_PER_DEGREE_LON_EQUATOR = 111_320.0
EDGE_BAND = 5e-4  # relative: the flat-earth distance is within 2e-4 of the geodesic


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


def _bbox(lat: float, lon: float, radius_m: float) -> dict[str, float]:
    dlat = radius_m / METERS_PER_DEGREE_LAT * 1.001 + 1e-6
    far_lat = min(89.9, abs(lat) + dlat)
    dlon = radius_m / (METERS_PER_DEGREE_LON_EQUATOR * math.cos(math.radians(far_lat)))
    dlon = dlon * 1.005 + 1e-6
    return {"min_lat": lat - dlat, "max_lat": lat + dlat, "min_lon": lon - dlon,
            "max_lon": lon + dlon}  # fmt: skip


# PostgreSQL's english stop words that people type; FTS5 has no stop-word list of its own.
STOP_WORDS = frozenset(
    "a an and are as at be but by for from if in into is it no not of on or such that the their"
    " then there these they this to was will with".split()
)


def fts5_query(words: str) -> str | None:
    """Every word must appear, as ``plainto_tsquery`` does on PostgreSQL: each word quoted so
    input cannot inject FTS5 operators, stop words dropped."""
    tokens = [t for t in re.findall(r"\w+", words.lower()) if t not in STOP_WORDS]
    return " ".join(f'"{t}"' for t in tokens) or None


def _filters(dialect: str, q: SearchQuery, params: dict[str, Any]) -> list[str]:
    where: list[str] = []
    if q.text:
        if dialect == "postgresql":
            where.append(
                "e.any_id IN (SELECT any_id FROM search_text"
                " WHERE tsv @@ plainto_tsquery('english', :q))"
            )
            params["q"] = q.text
        else:
            where.append("e.any_id IN (SELECT rowid FROM search_fts WHERE search_fts MATCH :q)")
            params["q"] = fts5_query(q.text) or '""'
    if q.category_slugs:
        parts = []
        for i, slug in enumerate(q.category_slugs):
            parts.append(f"e.categories LIKE :cat{i}")
            params[f"cat{i}"] = f"%,{slug},%"
        where.append("(" + " OR ".join(parts) + ")")
    if q.language:
        where.append("e.languages LIKE :language")
        params["language"] = f"%,{q.language},%"
    if q.free:
        where.append("e.free = :yes")
    if q.accepting:
        where.append("e.capacity_status = 'capacity'")
    if q.age is not None:
        where.append("(e.minimum_age IS NULL OR e.minimum_age <= :age)")
        where.append("(e.maximum_age IS NULL OR e.maximum_age >= :age)")
        params["age"] = q.age
    if q.local_times is not None:
        where.append(
            "EXISTS (SELECT 1 FROM search_hours h, lt WHERE h.any_id = e.any_id"
            " AND lt.tz = e.tz_code AND (h.dow = lt.dow OR h.monthday = lt.mday)"
            " AND h.open_min <= lt.m AND h.close_min > lt.m"
            " AND (h.valid_from IS NULL OR h.valid_from <= lt.day)"
            " AND (h.valid_to IS NULL OR h.valid_to >= lt.day))"
        )
    params["yes"] = True
    return where


def _local_times_cte(q: SearchQuery, params: dict[str, Any]) -> str:
    rows = []
    for i, lt in enumerate(q.local_times or ()):
        rows.append(f"(:tz{i}, :dow{i}, :m{i}, :mday{i}, :day{i})")
        params.update({f"tz{i}": lt.tz_code, f"dow{i}": lt.weekday, f"m{i}": lt.minute,
                       f"mday{i}": lt.monthday, f"day{i}": lt.day})  # fmt: skip
    if not rows:
        rows.append("(-1, -1, -1, -1, -1)")
    return "lt(tz, dow, m, mday, day) AS (VALUES " + ", ".join(rows) + "), "


def _flat_earth(lat: float) -> dict[str, float]:
    """Coefficients of the FCC flat-earth formula (47 CFR 73.208) at the patient's latitude:
    km per degree of latitude, and of longitude as ``k2a * cos(mean latitude) + k2b``. Within
    100 miles it is within 0.02 % of the geodesic; exact distances decide near the edge."""
    p = math.radians(lat)
    return {
        "k1": 111.13209 - 0.56605 * math.cos(2 * p) + 0.00120 * math.cos(4 * p),
        "k2a": 111.41513,
        "k2b": -0.09455 * math.cos(3 * p) + 0.00012 * math.cos(5 * p),
    }


def _approx_m(lat: str, lon: str) -> str:
    """SQL for the flat-earth distance in meters from the patient to (lat, lon) columns."""
    dy = f"(({lat}) - :lat) * :k1"
    dx = f"(({lon}) - :lon) * (:k2a * cos(radians((({lat}) + :lat) * 0.5)) + :k2b)"
    return f"(1000.0 * sqrt(({dy}) * ({dy}) + ({dx}) * ({dx})))"


def _within_sqlite(lat: str, lon: str, radius: str) -> str:
    """SQL: (lat, lon) within ``radius`` meters; exact ellipsoidal distance only near the edge."""
    approx = _approx_m(lat, lon)
    exact = f"ST_Distance(MakePoint({lon}, {lat}, 4326), MakePoint(:lon, :lat, 4326), 1)"
    # CASE, not OR: SQLite evaluates both sides of OR outside a WHERE clause.
    return (
        f"(CASE WHEN {approx} <= {radius} * {1 - EDGE_BAND} - 1.0 THEN 1"
        f" WHEN {approx} > {radius} * {1 + EDGE_BAND} + 1.0 THEN 0"
        f" WHEN {exact} <= {radius} THEN 1 ELSE 0 END)"
    )


def _sqlite_sql(q: SearchQuery, code: str, lt: str, where: str, cols: str) -> tuple[str, str]:
    zip_areas = (
        "SELECT sa.service_id FROM service_area_postcode pc"
        " JOIN service_area sa ON sa.id = pc.service_area_id WHERE pc.postcode = :zip"
    )
    in_circle = _within_sqlite("a.center_latitude", "a.center_longitude", "a.radius_m")
    sql = (
        f"WITH {lt}area(service_id) AS (SELECT a.service_id FROM search_area_rtree r"  # noqa: S608
        " JOIN search_area a ON a.id = r.id"
        " WHERE r.min_x <= :lon AND r.max_x >= :lon AND r.min_y <= :lat AND r.max_y >= :lat"
        f" AND r.min_c <= {code} AND r.max_c >= {code} AND CASE WHEN a.radius_m IS NOT NULL"
        f" THEN {in_circle} ELSE (SELECT ST_Intersects(sa.geom, MakePoint(:lon, :lat, 4326))"
        " FROM service_area sa WHERE sa.id = a.service_area_id) = 1 END"
        f" UNION {zip_areas}), "
        "cand(id) AS (SELECT id FROM search_entry_rtree WHERE min_x <= :max_lon"
        " AND max_x >= :min_lon AND min_y <= :max_lat AND max_y >= :min_lat"
        f" AND min_c <= {code} AND max_c >= {code}"
        " UNION SELECT e.id FROM area JOIN search_entry e ON e.service_id = area.service_id"
        f" AND e.category_code = {code} WHERE e.area_primary = 1), "
        f"scored AS (SELECT {cols}, {_approx_m('e.latitude', 'e.longitude')} AS approx_m,"
        f" {_within_sqlite('e.latitude', 'e.longitude', ':radius_m')} AS near,"
        " (e.has_area = 1 AND e.service_id IN (SELECT service_id FROM area)) AS serves"
        f" FROM cand JOIN search_entry e ON e.id = cand.id WHERE {where}) "
    )
    return sql, "near = 1 OR (serves = 1 AND area_primary = 1)"


def _postgres_sql(q: SearchQuery, code: str, lt: str, where: str, cols: str) -> tuple[str, str]:
    zip_areas = (
        "SELECT sa.service_id FROM service_area_postcode pc"
        " JOIN service_area sa ON sa.id = pc.service_area_id WHERE pc.postcode = :zip"
    )
    center = "ST_SetSRID(ST_MakePoint(a.center_longitude, a.center_latitude), 4326)::geography"
    here = f"{POINT_PG}::geography"
    within = f"ST_DWithin(e.geog, {here}, CAST(:radius_m AS float8))"
    # Rows near the patient and rows reached only through an area are disjoint, so
    # UNION ALL needs no de-duplication and each row is read once, from its index.
    sql = (
        f"WITH {lt}area AS (SELECT a.service_id FROM search_area a"  # noqa: S608
        f" WHERE a.category_code = {code} AND a.geom && {POINT_PG} AND CASE WHEN a.radius_m"
        f" IS NOT NULL THEN ST_DWithin({center}, {here}, a.radius_m)"
        f" ELSE ST_Intersects(a.geom, {POINT_PG}) END"
        f" UNION {zip_areas}), "
        f"near AS (SELECT {cols}, ST_Distance(e.geog, {here}) AS approx_m FROM search_entry e"
        f" WHERE e.category_code = {code} AND {within} AND {where}), "
        f"far AS (SELECT {cols}, ST_Distance(e.geog, {here}) AS approx_m FROM area"
        " JOIN search_entry e ON e.service_id = area.service_id"
        f" WHERE e.category_code = {code} AND e.area_primary AND {where}"
        f" AND (e.geog IS NULL OR NOT {within})), "
        "scored AS (SELECT near.*, (near.has_area AND near.service_id IN"
        " (SELECT service_id FROM area)) AS serves FROM near"
        " UNION ALL SELECT far.*, true AS serves FROM far) "
    )
    return sql, "true"


# What the candidate rows carry through counting and sorting: the sort keys and what
# ``keep`` tests. The wide display columns are read for the page's rows only.
CANDIDATE_COLUMNS = ("id", "service_id", "service_name", "has_area", "area_primary")


def build_sql(dialect: str, q: SearchQuery, count_only: bool = False) -> tuple[str, dict]:
    """The search statement for ``dialect`` and its parameters."""
    params: dict[str, Any] = {"lat": q.latitude, "lon": q.longitude, "zip": q.postcode,
                              "code": q.category_code, "radius_m": q.radius_m,
                              "limit": q.limit, "offset": q.offset}  # fmt: skip
    where = " AND ".join(_filters(dialect, q, params)) or "1 = 1"
    if q.category_slug is not None:
        params["slug"] = q.category_slug
        code = "(SELECT id FROM search_category WHERE slug = :slug)"
    else:
        # PostgreSQL: an int2 parameter would keep btree_gist's int4 opclass out of the index.
        code = "CAST(:code AS integer)" if dialect == "postgresql" else ":code"
    cols = ", ".join(f"e.{c}" for c in CANDIDATE_COLUMNS)
    lt = _local_times_cte(q, params) if q.local_times is not None else ""
    if dialect == "postgresql":
        sql, keep = _postgres_sql(q, code, lt, where, cols)
        order = "{p}approx_m NULLS LAST, {p}service_name, {p}id"
        exact = "p.approx_m"
    else:
        params.update(_bbox(q.latitude, q.longitude, q.radius_m))
        params.update(_flat_earth(q.latitude))
        sql, keep = _sqlite_sql(q, code, lt, where, cols)
        order = "{p}approx_m IS NULL, {p}approx_m, {p}service_name, {p}id"
        exact = (
            "ST_Distance(MakePoint(e.longitude, e.latitude, 4326), MakePoint(:lon, :lat, 4326), 1)"
        )
    if count_only:
        return sql + f"SELECT count(*) FROM scored WHERE {keep}", params  # noqa: S608
    if q.serving_first:
        order = "{p}serves DESC, " + order
    # Count and sort narrow rows; the display columns and the exact distance are read for
    # the page's rows only.
    wide = ", ".join(f"e.{c}" for c in OUTPUT_COLUMNS)
    return (
        sql + f"SELECT {wide}, p.serves, p.total, {exact} AS dist_m FROM (SELECT scored.*,"  # noqa: S608
        f" count(*) OVER () AS total FROM scored WHERE {keep} ORDER BY {order.format(p='')}"
        f" LIMIT :limit OFFSET :offset) AS p JOIN search_entry e ON e.id = p.id"
        f" ORDER BY {order.format(p='p.')}",
        params,
    )


def driver_sql(sql: str, dialect: str) -> str:
    """Named ``:param`` placeholders in the DB-API's own style (psycopg wants ``%(param)s``)."""
    if dialect == "postgresql":
        return re.sub(r"(?<!:):(\w+)", r"%(\1)s", sql)
    return sql


def run(conn: Any, q: SearchQuery) -> tuple[list[Any], int]:
    """The page of rows and the total number of matches (one round trip when rows exist)."""
    dialect = conn.dialect.name
    sql, params = build_sql(dialect, q)
    rows = list(conn.exec_driver_sql(driver_sql(sql, dialect), params))
    if rows:
        return rows, int(rows[0].total)
    if q.offset == 0:
        return [], 0
    sql, params = build_sql(dialect, q, count_only=True)
    return [], int(conn.exec_driver_sql(driver_sql(sql, dialect), params).scalar() or 0)
