"""SQL fragments of the search statements, written for each backend's indexes — the one
place where search's SQL differs between SQLite and PostgreSQL.

``for_dialect(name)`` gives the fragments of a SQLAlchemy dialect: an object with
the same methods on both backends (``PostgresFragments``, ``SqliteFragments``);
``statements`` assembles them into statements and never asks which backend it is.

- Near the patient: PostGIS ``ST_DWithin`` on geography over the GiST
  ``(category_code, geog)`` index; SQLite an R*Tree box (category as third
  dimension), then the FCC flat-earth distance, with SpatiaLite's ellipsoidal
  ``ST_Distance(a, b, 1)`` deciding only rows near the edge.
- Serving the patient's home: areas whose shape contains the point (GiST
  ``(category_code, geom)`` / R*Tree then ``ST_Intersects`` or the true circle)
  or whose ZIP list holds the patient's ZIP (``service_area_postcode`` index).
- Filters on a ``search_entry`` row aliased ``e``.

Every fragment binds its values (``:lat``, ``:lon``, ``:zip``, ...); the text is
assembled from this module's own pieces only.
"""

# ruff: noqa: S608  (SQL text is assembled from this module's fragments; values are bound)

from __future__ import annotations

import math
import re
from typing import Any

from carenet.directory.search.query import SearchQuery

METERS_PER_DEGREE_LAT = 110_574.0  # the shortest degree of latitude: a safe upper bound
METERS_PER_DEGREE_LON_EQUATOR = 111_320.0
EDGE_BAND = 5e-4  # relative: the flat-earth distance is within 2e-4 of the geodesic
RTREE_ROUNDING_M = 5.0  # an R*Tree keeps float32 boxes: a point is off by ~1.5 m at most

# PostgreSQL's english stop words that people type; FTS5 has no stop-word list of its own.
STOP_WORDS = frozenset(
    "a an and are as at be but by for from if in into is it no not of on or such that the their"
    " then there these they this to was will with".split()
)

ZIP_AREAS = (
    "SELECT sa.service_id FROM service_area_postcode pc"
    " JOIN service_area sa ON sa.id = pc.service_area_id WHERE pc.postcode = :zip"
)


# --- the flat-earth distance and R*Tree boxes (SQLite) ------------------------------------


def bbox_params(lat: float, lon: float, radius_m: float, prefix: str = "") -> dict[str, float]:
    """A latitude/longitude box holding every point within ``radius_m`` of (lat, lon)."""
    dlat = radius_m / METERS_PER_DEGREE_LAT * 1.001 + 1e-6
    far_lat = min(89.9, abs(lat) + dlat)
    dlon = radius_m / (METERS_PER_DEGREE_LON_EQUATOR * math.cos(math.radians(far_lat)))
    dlon = dlon * 1.005 + 1e-6
    return {f"{prefix}min_lat": lat - dlat, f"{prefix}max_lat": lat + dlat,
            f"{prefix}min_lon": lon - dlon, f"{prefix}max_lon": lon + dlon}  # fmt: skip


def flat_earth_params(lat: float) -> dict[str, float]:
    """Coefficients of the FCC flat-earth formula (47 CFR 73.208) at the patient's latitude:
    km per degree of latitude, and of longitude as ``k2a * cos(mean latitude) + k2b``. Within
    100 miles it is within 0.02 % of the geodesic; exact distances decide near the edge."""
    p = math.radians(lat)
    return {
        "k1": 111.13209 - 0.56605 * math.cos(2 * p) + 0.00120 * math.cos(4 * p),
        "k2a": 111.41513,
        "k2b": -0.09455 * math.cos(3 * p) + 0.00012 * math.cos(5 * p),
    }


def approx_m(lat: str, lon: str) -> str:
    """SQL for the flat-earth distance in meters from the patient to (lat, lon) columns."""
    dy = f"(({lat}) - :lat) * :k1"
    dx = f"(({lon}) - :lon) * (:k2a * cos(radians((({lat}) + :lat) * 0.5)) + :k2b)"
    return f"(1000.0 * sqrt(({dy}) * ({dy}) + ({dx}) * ({dx})))"


def exact_m_sqlite(lat: str, lon: str) -> str:
    """SQL for SpatiaLite's ellipsoidal distance in meters from the patient to (lat, lon)."""
    return f"ST_Distance(MakePoint({lon}, {lat}, 4326), MakePoint(:lon, :lat, 4326), 1)"


def within_sqlite(lat: str, lon: str, radius: str) -> str:
    """SQL: (lat, lon) within ``radius`` meters; exact ellipsoidal distance only near the edge."""
    approx = approx_m(lat, lon)
    # CASE, not OR: SQLite evaluates both sides of OR outside a WHERE clause.
    return (
        f"(CASE WHEN {approx} <= {radius} * {1 - EDGE_BAND} - 1.0 THEN 1"
        f" WHEN {approx} > {radius} * {1 + EDGE_BAND} + 1.0 THEN 0"
        f" WHEN {exact_m_sqlite(lat, lon)} <= {radius} THEN 1 ELSE 0 END)"
    )


def within_rtree_sqlite(r: str, radius: str) -> str:
    """SQL: the point of ``search_entry_rtree`` row ``r`` within ``radius`` meters, from the
    R*Tree's own (float32) box; only rows near the edge read the exact point from
    ``search_entry`` — the answer is ``within_sqlite``'s for every row."""
    lat, lon = f"(({r}.min_y + {r}.max_y) * 0.5)", f"(({r}.min_x + {r}.max_x) * 0.5)"
    approx = approx_m(lat, lon)
    exact = within_sqlite("e.latitude", "e.longitude", radius)
    return (
        f"(CASE WHEN {approx} <= {radius} * {1 - EDGE_BAND} - {RTREE_ROUNDING_M + 1.0} THEN 1"
        f" WHEN {approx} > {radius} * {1 + EDGE_BAND} + {RTREE_ROUNDING_M + 1.0} THEN 0"
        f" ELSE (SELECT {exact} FROM search_entry e WHERE e.id = {r}.id) END)"
    )


def box_sqlite(rtree: str, code: str, prefix: str = "") -> str:
    """SQL: the R*Tree ``rtree``'s boxes that overlap the box ``bbox_params(prefix=...)``."""
    return (
        f"{rtree}.min_x <= :{prefix}max_lon AND {rtree}.max_x >= :{prefix}min_lon"
        f" AND {rtree}.min_y <= :{prefix}max_lat AND {rtree}.max_y >= :{prefix}min_lat"
        f" AND {rtree}.min_c <= {code} AND {rtree}.max_c >= {code}"
    )


def point_in_box_sqlite(rtree: str) -> str:
    """SQL: the R*Tree row ``rtree``'s box holds the patient's point."""
    return (
        f"{rtree}.min_x <= :lon AND {rtree}.max_x >= :lon"
        f" AND {rtree}.min_y <= :lat AND {rtree}.max_y >= :lat"
    )


def _area_box_sqlite(a: str) -> str:
    """SQL: the ``search_area`` row ``a`` has an R*Tree box (a shape) holding the point."""
    return (
        f"EXISTS (SELECT 1 FROM search_area_rtree rb WHERE rb.id = {a}.id"
        f" AND {point_in_box_sqlite('rb')})"
    )


def _contains_sqlite(a: str) -> str:
    """SQL: the ``search_area`` row ``a`` contains the patient (true circle or shape)."""
    in_circle = within_sqlite(f"{a}.center_latitude", f"{a}.center_longitude", f"{a}.radius_m")
    return (
        f"CASE WHEN {a}.radius_m IS NOT NULL THEN {in_circle}"
        " ELSE (SELECT ST_Intersects(sa.geom, MakePoint(:lon, :lat, 4326))"
        f" FROM service_area sa WHERE sa.id = {a}.service_area_id) = 1 END"
    )


# --- PostGIS ------------------------------------------------------------------------------

POINT_PG = "ST_SetSRID(ST_MakePoint(CAST(:lon AS float8), CAST(:lat AS float8)), 4326)"
HERE_PG = f"{POINT_PG}::geography"


def _contains_pg(a: str) -> str:
    # center_geog / office_geog: the points stored as geography (migration 0009), so that
    # no row builds one to be measured.
    return (
        f"CASE WHEN {a}.radius_m IS NOT NULL THEN ST_DWithin({a}.center_geog, {HERE_PG},"
        f" {a}.radius_m) ELSE ST_Intersects({a}.geom, {POINT_PG}) END"
    )


# --- what both backends share -------------------------------------------------------------


def fts5_query(words: str) -> str | None:
    """Every word must appear, as ``plainto_tsquery`` does on PostgreSQL: each word quoted so
    input cannot inject FTS5 operators, stop words dropped."""
    tokens = [t for t in re.findall(r"\w+", words.lower()) if t not in STOP_WORDS]
    return " ".join(f'"{t}"' for t in tokens) or None


def local_times_cte(q: SearchQuery, params: dict[str, Any]) -> str:
    """``lt(tz, dow, m, mday, day)``: the local time in every zone, for the hours filter."""
    rows = []
    for i, lt in enumerate(q.local_times or ()):
        rows.append(f"(:tz{i}, :dow{i}, :m{i}, :mday{i}, :day{i})")
        params.update({f"tz{i}": lt.tz_code, f"dow{i}": lt.weekday, f"m{i}": lt.minute,
                       f"mday{i}": lt.monthday, f"day{i}": lt.day})  # fmt: skip
    if not rows:
        rows.append("(-1, -1, -1, -1, -1)")
    return "lt(tz, dow, m, mday, day) AS (VALUES " + ", ".join(rows) + "), "


def _zip_areas(code: str, any_category: bool) -> str:
    """SQL selecting the services (of category ``code``) with a ZIP list holding the
    patient's ZIP: from ``search_zip``'s key, not every category's ZIP-list areas."""
    if any_category:  # search_zip has no "any category" rows
        return ZIP_AREAS
    return (
        "SELECT z.service_id FROM search_zip z"
        f" WHERE z.postcode = :zip AND z.category_code = {code}"
    )


def _zip_serves(code: str, any_category: bool, fence: str) -> str:
    """SQL: a ZIP-list area of the row ``e``'s service holds the patient's ZIP."""
    if any_category:  # search_zip has no "any category" rows
        return (
            "EXISTS (SELECT 1 FROM service_area sa JOIN service_area_postcode pc"
            " ON pc.service_area_id = sa.id WHERE sa.service_id = e.service_id"
            f" AND pc.postcode = :zip{fence})"
        )
    return (
        f"EXISTS (SELECT 1 FROM search_zip z WHERE z.postcode = :zip AND z.category_code = {code}"
        f" AND z.service_id = e.service_id{fence})"
    )


def _zip_contains(b: str) -> str:
    return (
        "EXISTS (SELECT 1 FROM service_area_postcode pb"
        f" WHERE pb.service_area_id = {b}.service_area_id AND pb.postcode = :zip)"
    )


class Fragments:
    """The search's SQL on one backend. The methods common to both are written here from
    the backend's own pieces, which the two subclasses define."""

    name: str
    nearest_first: bool  # the spatial index reads matches nearest first (KNN)
    # Reads outside a request's transaction may run in autocommit (see service._read_connection).
    autocommit_reads: bool
    true: str  # a true literal
    code_param: str  # SQL for the category code when no slug names it
    # The distance in an ORDER BY, rows without a location last; ``{p}`` is the row alias.
    distance_nulls_last: str
    subquery_fence: str  # appended to a per-row EXISTS so that it stays per row

    def is_true(self, column: str) -> str:
        """SQL: the boolean ``column`` is true."""
        raise NotImplementedError

    def point_params(self, lat: float, lon: float, radius_m: float) -> dict[str, float]:
        """Parameters the fragments need besides the point and the radius."""
        raise NotImplementedError

    def ring_params(self, lat: float, lon: float, ring_m: float) -> dict[str, float]:
        """Parameters of a ring of ``ring_m`` meters (``near``'s ``box="ring_"``)."""
        raise NotImplementedError

    def text_match(self, text: str, params: dict[str, Any]) -> str:
        """Condition on ``e``: every word of ``text`` appears (stemmed, English)."""
        raise NotImplementedError

    def sort_distance(self, e: str = "e") -> str:
        """SQL for the distance the order uses, of the ``search_entry`` row ``e``."""
        raise NotImplementedError

    def exact_distance(self) -> str:
        """SQL for the distance a result reports (exact), in the page's outer SELECT where
        ``e`` is the row and ``p`` the candidate carrying ``approx_m``."""
        raise NotImplementedError

    def near(self, code: str, radius: str, box: str = "") -> tuple[str, str]:
        """(FROM, WHERE) of the category's rows within ``radius`` meters, from the spatial
        index; ``box`` names the ``bbox_params`` prefix of that radius (SQLite)."""
        raise NotImplementedError

    def near_unfiltered(self, code: str, radius: str) -> tuple[str, str] | None:
        """(FROM, WHERE) counting rows within ``radius`` when no filter applies, or None
        when ``near`` serves as well."""
        return None

    def full_candidates(
        self, lt: str, code: str, any_category: bool, where: str, cols: str
    ) -> tuple[str, str]:
        """(``WITH ... scored AS (...)``, the condition on ``scored`` that keeps matches):
        every candidate row, near or serving, with ``cols``, ``approx_m`` and ``serves``."""
        raise NotImplementedError

    def knn_distance(self, e: str = "e") -> str:
        """SQL for the distance the spatial index orders by (``nearest_first`` only)."""
        raise NotImplementedError(f"{self.name}: no nearest-first index order")

    def area_cte(self, code: str, any_category: bool = False) -> str:
        """``area(service_id)``: services of category ``code`` with an area containing the
        patient, found from the areas' spatial index and the ZIP-list index."""
        raise NotImplementedError

    def _area_contains(self, code: str) -> str:
        """SQL: the ``search_area`` row ``a`` (of category ``code``) contains the patient,
        tested from the row (not through the spatial index)."""
        raise NotImplementedError

    def shape_contains(self, b: str) -> str:
        """SQL: the ``search_area`` row ``b`` has a shape or circle containing the patient."""
        raise NotImplementedError

    def office_outside(self, a: str) -> str:
        """SQL: the office of the area row ``a``'s match is not within the radius (or has
        none)."""
        raise NotImplementedError

    def _far_shapes(self, code: str, join: str, keep: str) -> str:
        """SQL selecting the ids of the area rows ``a`` of category ``code`` whose shape or
        circle contains the patient and that pass ``keep``, from the spatial index."""
        raise NotImplementedError

    def to_driver(self, sql: str) -> str:
        """``sql`` with named ``:param`` placeholders in the DB-API's own style."""
        return sql

    def filters(self, q: SearchQuery, params: dict[str, Any]) -> list[str]:
        """Conditions on the ``search_entry`` row ``e`` for the query's filters."""
        where: list[str] = []
        if q.text:
            where.append(self.text_match(q.text, params))
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

    def serves(self, code: str, any_category: bool = False) -> str:
        """SQL: the service of the ``search_entry`` row ``e`` has an area (of category
        ``code``) containing the patient — probed from the row, through the areas' service
        index and ``search_zip``."""
        fence = self.subquery_fence
        return (
            f"({self.is_true('e.has_area')} AND (EXISTS (SELECT 1 FROM search_area a"
            f" WHERE a.service_id = e.service_id AND {self._area_contains(code)}{fence})"
            f" OR {_zip_serves(code, any_category, fence)}))"
        )

    def _first_area(self, a: str) -> str:
        """SQL: no area of the same service with a smaller id contains the patient — so that
        a service with several areas containing the patient is counted once."""
        contains = f"({self.shape_contains('b')} OR {_zip_contains('b')})"
        return (
            f"(NOT {self.is_true(f'{a}.shared')} OR NOT EXISTS (SELECT 1 FROM search_area b"
            f" WHERE b.service_id = {a}.service_id AND b.category_code = {a}.category_code"
            f" AND b.id < {a}.id AND {contains}))"
        )

    def far_areas(self, code: str, where: str, any_category: bool = False) -> str:
        """SQL selecting one row per service of category ``code`` whose area contains the
        patient and whose match's office is outside the radius (or absent): shapes and
        circles from the spatial index, then ZIP lists from ``service_area_postcode``. No
        look-up into ``search_entry`` unless there are filters (``where`` on ``e``)."""
        join = " JOIN search_entry e ON e.id = a.entry_id" if where != "1 = 1" else ""
        keep = f"{self.office_outside('a')} AND {where} AND {self._first_area('a')}"
        shapes = self._far_shapes(code, join, keep)
        if any_category:  # search_zip has no "any category" rows
            zip_areas = (
                "service_area_postcode pc JOIN search_area a"
                f" ON a.service_area_id = pc.service_area_id AND a.category_code = {code}"
            )
            zip_where = "pc.postcode = :zip"
        else:
            zip_areas = "search_zip z JOIN search_area a ON a.id = z.area_id"
            zip_where = f"z.postcode = :zip AND z.category_code = {code}"
        zips = (
            f"SELECT a.id FROM {zip_areas}{join}"
            f" WHERE {zip_where} AND NOT {self.shape_contains('a')} AND {keep}"
        )
        return f"{shapes} UNION ALL {zips}"


class PostgresFragments(Fragments):
    """PostgreSQL + PostGIS: geography distances on the spheroid, GiST indexes."""

    name = "postgresql"
    nearest_first = True
    autocommit_reads = True
    true = "true"
    # An int2 parameter would keep btree_gist's int4 opclass out of the index.
    code_param = "CAST(:code AS integer)"
    distance_nulls_last = "{p}approx_m NULLS LAST"
    # OFFSET 0 keeps PostgreSQL probing per row: without it the planner may turn the EXISTS
    # into a hashed subplan that first reads every area containing the patient (~1,500 in a
    # dense city at 1M services) — the very work the rings avoid.
    subquery_fence = " OFFSET 0"

    def is_true(self, column: str) -> str:
        return column

    def point_params(self, lat: float, lon: float, radius_m: float) -> dict[str, float]:
        return {}

    def ring_params(self, lat: float, lon: float, ring_m: float) -> dict[str, float]:
        return {}

    def text_match(self, text: str, params: dict[str, Any]) -> str:
        params["q"] = text
        return (
            "e.any_id IN (SELECT any_id FROM search_text"
            " WHERE tsv @@ plainto_tsquery('english', :q))"
        )

    def sort_distance(self, e: str = "e") -> str:
        return f"ST_Distance({e}.geog, {HERE_PG})"

    def exact_distance(self) -> str:
        return "p.approx_m"  # the order's distance is already the spheroid's

    def near(self, code: str, radius: str, box: str = "") -> tuple[str, str]:
        within = f"ST_DWithin(e.geog, {HERE_PG}, CAST({radius} AS float8))"
        return "search_entry e", f"e.category_code = {code} AND {within}"

    def full_candidates(
        self, lt: str, code: str, any_category: bool, where: str, cols: str
    ) -> tuple[str, str]:
        within = f"ST_DWithin(e.geog, {HERE_PG}, CAST(:radius_m AS float8))"
        distance = self.sort_distance()
        # Rows near the patient and rows reached only through an area are disjoint, so
        # UNION ALL needs no de-duplication and each row is read once, from its index.
        sql = (
            f"WITH {lt}{self.area_cte(code, any_category)}, "
            f"near AS (SELECT {cols}, {distance} AS approx_m FROM search_entry e"
            f" WHERE e.category_code = {code} AND {within} AND {where}), "
            f"far AS (SELECT {cols}, {distance} AS approx_m FROM area"
            " JOIN search_entry e ON e.service_id = area.service_id"
            f" WHERE e.category_code = {code} AND e.area_primary AND {where}"
            f" AND (e.geog IS NULL OR NOT {within})), "
            "scored AS (SELECT near.*, (near.has_area AND near.service_id IN"
            " (SELECT service_id FROM area)) AS serves FROM near"
            " UNION ALL SELECT far.*, true AS serves FROM far) "
        )
        return sql, "true"

    def knn_distance(self, e: str = "e") -> str:
        return f"{e}.geog <-> {HERE_PG}"

    def area_cte(self, code: str, any_category: bool = False) -> str:
        return (
            f"area AS (SELECT a.service_id FROM search_area a WHERE a.category_code = {code}"
            f" AND a.geom && {POINT_PG} AND {_contains_pg('a')}"
            f" UNION {_zip_areas(code, any_category)})"
        )

    def _area_contains(self, code: str) -> str:
        # "IS TRUE" makes the box and category tests non-indexable: the planner, which
        # expects one area per point, would otherwise probe the GiST index for every row
        # instead of the areas of the row's own service.
        return (
            f"(a.category_code = {code}) IS TRUE AND (a.geom && {POINT_PG}) IS TRUE"
            f" AND {_contains_pg('a')}"
        )

    def shape_contains(self, b: str) -> str:
        # geom IS NOT NULL first: NULL && point is NULL, and NOT NULL would drop ZIP-list rows
        return f"({b}.geom IS NOT NULL AND {b}.geom && {POINT_PG} AND {_contains_pg(b)})"

    def office_outside(self, a: str) -> str:
        within = f"ST_DWithin({a}.office_geog, {HERE_PG}, CAST(:radius_m AS float8))"
        return f"({a}.office_geog IS NULL OR NOT {within})"

    def _far_shapes(self, code: str, join: str, keep: str) -> str:
        return (
            f"SELECT a.id FROM search_area a{join} WHERE a.category_code = {code}"
            f" AND a.geom && {POINT_PG} AND {_contains_pg('a')} AND {keep}"
        )

    def to_driver(self, sql: str) -> str:
        return re.sub(r"(?<!:):(\w+)", r"%(\1)s", sql)  # psycopg wants %(param)s


class SqliteFragments(Fragments):
    """SQLite + SpatiaLite: R*Tree boxes, the flat-earth distance, exact near the edge."""

    name = "sqlite"
    nearest_first = False
    autocommit_reads = False  # the plan's statements share one read transaction
    true = "1"
    code_param = ":code"
    distance_nulls_last = "{p}approx_m IS NULL, {p}approx_m"
    subquery_fence = ""

    def is_true(self, column: str) -> str:
        return f"{column} = 1"

    def point_params(self, lat: float, lon: float, radius_m: float) -> dict[str, float]:
        return {**bbox_params(lat, lon, radius_m), **flat_earth_params(lat)}

    def ring_params(self, lat: float, lon: float, ring_m: float) -> dict[str, float]:
        return bbox_params(lat, lon, ring_m, prefix="ring_")

    def text_match(self, text: str, params: dict[str, Any]) -> str:
        params["q"] = fts5_query(text) or '""'
        return "e.any_id IN (SELECT rowid FROM search_fts WHERE search_fts MATCH :q)"

    def sort_distance(self, e: str = "e") -> str:
        return approx_m(f"{e}.latitude", f"{e}.longitude")

    def exact_distance(self) -> str:
        return exact_m_sqlite("e.latitude", "e.longitude")

    def near(self, code: str, radius: str, box: str = "") -> tuple[str, str]:
        within = within_sqlite("e.latitude", "e.longitude", radius)
        return (
            "search_entry_rtree r JOIN search_entry e ON e.id = r.id",
            f"{box_sqlite('r', code, box)} AND {within} = 1",
        )

    def near_unfiltered(self, code: str, radius: str) -> tuple[str, str] | None:
        # The R*Tree alone: only rows near the edge read their exact point.
        return (
            "search_entry_rtree r",
            f"{box_sqlite('r', code)} AND {within_rtree_sqlite('r', radius)} = 1",
        )

    def full_candidates(
        self, lt: str, code: str, any_category: bool, where: str, cols: str
    ) -> tuple[str, str]:
        within = within_sqlite("e.latitude", "e.longitude", ":radius_m")
        sql = (
            f"WITH {lt}{self.area_cte(code, any_category)}, "
            f"cand(id) AS (SELECT id FROM search_entry_rtree r WHERE {box_sqlite('r', code)}"
            " UNION SELECT e.id FROM area JOIN search_entry e ON e.service_id = area.service_id"
            f" AND e.category_code = {code} WHERE e.area_primary = 1), "
            f"scored AS (SELECT {cols}, {self.sort_distance()} AS approx_m, {within} AS near,"
            " (e.has_area = 1 AND e.service_id IN (SELECT service_id FROM area)) AS serves"
            f" FROM cand JOIN search_entry e ON e.id = cand.id WHERE {where}) "
        )
        return sql, "near = 1 OR (serves = 1 AND area_primary = 1)"

    def area_cte(self, code: str, any_category: bool = False) -> str:
        return (
            "area(service_id) AS (SELECT a.service_id FROM search_area_rtree r"
            f" JOIN search_area a ON a.id = r.id WHERE {point_in_box_sqlite('r')}"
            f" AND r.min_c <= {code} AND r.max_c >= {code} AND {_contains_sqlite('a')}"
            f" UNION {_zip_areas(code, any_category)})"
        )

    def _area_contains(self, code: str) -> str:
        # The same tests as ``area_cte``, cheapest first: a circle's distance, then the box
        # of the area's R*Tree row (by its id; ZIP-list rows have none), then a shape's
        # geometry.
        in_circle = within_sqlite("a.center_latitude", "a.center_longitude", "a.radius_m")
        box = _area_box_sqlite("a")
        shape = (
            "(SELECT ST_Intersects(sa.geom, MakePoint(:lon, :lat, 4326))"
            " FROM service_area sa WHERE sa.id = a.service_area_id) = 1"
        )
        return (
            f"a.category_code = {code} AND CASE WHEN a.radius_m IS NOT NULL"
            f" THEN {in_circle} = 1 AND {box} ELSE {box} AND {shape} END"
        )

    def shape_contains(self, b: str) -> str:
        return f"({_area_box_sqlite(b)} AND ({_contains_sqlite(b)}))"

    def office_outside(self, a: str) -> str:
        lat, lon = f"{a}.office_latitude", f"{a}.office_longitude"
        return f"{within_sqlite(lat, lon, ':radius_m')} = 0"

    def _far_shapes(self, code: str, join: str, keep: str) -> str:
        return (
            f"SELECT a.id FROM search_area_rtree r JOIN search_area a ON a.id = r.id{join}"
            f" WHERE {point_in_box_sqlite('r')} AND r.min_c <= {code} AND r.max_c >= {code}"
            f" AND ({_contains_sqlite('a')}) AND {keep}"
        )


POSTGRES, SQLITE = PostgresFragments(), SqliteFragments()


def for_dialect(name: str) -> Fragments:
    """The fragments of the SQLAlchemy dialect ``name``: PostgreSQL's for ``postgresql``,
    SQLite's (SpatiaLite) otherwise."""
    return POSTGRES if name == "postgresql" else SQLITE
