"""How search results are ranked, and when a page read near the patient is already the page
of the full order.

The order (docs/search.md "Order and paging"): when the caller asks for a delivered
category (``serving_first``), services whose area serves the patient come first; then
the distance the order uses (``Fragments.sort_distance``: SQLite's flat-earth distance,
PostgreSQL's spheroid distance), results without a location last; then the service
name and the row id, so that the order is total and pages do not overlap.

``plan`` reads a page from a ring around the patient or from the KNN index order;
``settled_by_ring`` and ``settled_by_knn`` say when no row left unread can come
before the page's last row.
"""

from __future__ import annotations

import time

from sqlalchemy import select

from carenet.directory.models import TaxonomyTerm
from carenet.directory.search.fragments import EDGE_BAND, Fragments
from carenet.errors import InvalidInput
from carenet.extensions import db

# The order of a ring's or a KNN read's rows (all have a location); ``{p}`` is the alias.
NEAREST_ORDER = "{p}approx_m, {p}service_name, {p}id"

# The spheroid distance the order uses is at least this share of the sphere distance that
# PostgreSQL's KNN index order (``<->``) follows: the WGS84 radii of curvature lie within
# 0.9944 and 1.0045 times the mean radius of PostGIS's sphere (a margin kept).
SPHERE_TO_SPHEROID_MIN = 0.992

_TAXONOMY_CACHE: dict[tuple[str, str], tuple[float, bool]] = {}
TAXONOMY_CACHE_SECONDS = 300.0


def serving_first(slugs: tuple[str, ...]) -> bool:
    """Whether services serving the patient's area come first: any asked category is a
    delivered one. Raises InvalidInput naming ``category`` for a slug not in the taxonomy.
    Known slugs are cached for a few minutes (taxonomies change rarely); an unknown one is
    always looked up again."""
    url = str(db.engine.url)
    clock = time.monotonic()
    cached = {s: _TAXONOMY_CACHE.get((url, s)) for s in slugs}
    missing = [s for s, hit in cached.items() if hit is None or hit[0] < clock]
    if missing:
        rows = db.session.execute(
            select(TaxonomyTerm.code, TaxonomyTerm.delivered).where(TaxonomyTerm.code.in_(missing))
        ).all()
        for code, delivered in rows:
            entry = (clock + TAXONOMY_CACHE_SECONDS, bool(delivered))
            cached[code] = _TAXONOMY_CACHE[(url, code)] = entry
        unknown = [s for s in missing if s not in {row.code for row in rows}]
        if unknown:
            message = f"Unknown category: {', '.join(unknown)}."
            raise InvalidInput(message, {"category": [message]})
    return any(hit[1] for hit in cached.values() if hit)


def full_order(sql: Fragments, serving_first: bool) -> str:
    """The ORDER BY of the full statement, every match (``{p}`` is the row alias)."""
    order = sql.distance_nulls_last + ", {p}service_name, {p}id"
    return "{p}serves DESC, " + order if serving_first else order


def settled_by_ring(last_sort_m: float, ring_m: float) -> bool:
    """Whether a page read from a ring of ``ring_m`` meters, whose last row is
    ``last_sort_m`` away, is the full order's: a match outside the ring is more than
    ring * (1 - EDGE_BAND) - 1 m away by the distance the order uses."""
    return last_sort_m < ring_m * (1 - 2 * EDGE_BAND) - 2.0


def settled_by_knn(last_sort_m: float, edge_m: float) -> bool:
    """Whether a page read in KNN order is the full order's: a row not read is at least
    ``edge_m`` away by sphere distance (the farthest row read), so at least
    ``edge_m * SPHERE_TO_SPHEROID_MIN`` by the order's (spheroid) distance."""
    return last_sort_m < edge_m * SPHERE_TO_SPHEROID_MIN - 1.0
