"""Which statements answer a search, so that its cost follows the page, not the matches.

One statement that counts and sorts every match is exact and simple, but in a
dense city at a million services one category has ~2,000 places within 10
miles and ~2,000 services whose areas cover the patient: every search would
read them all to show 20. Instead:

1. count the places within the radius, stopping after ``max_results`` + 1;
2. when at least the rows the page needs are among them, read the nearest from a
   ring around the patient, widening it until it holds them (only rows serving
   the patient when those come first). Every match outside a ring is farther
   than every row inside it, so these are exactly the rows the full statement
   would return;
3. otherwise (few places nearby) run the full statement, which is cheap exactly
   there, and take its exact total;
4. the total: the places counted in 1 plus the services serving the patient's
   area from farther away, counted up to ``max_results`` + 1 together.

On PostgreSQL steps 1 and 2 are one statement: the GiST index gives the
nearest matches in KNN order (no rings), and the same statement counts.

A search therefore pages through at most the nearest ``max_results`` matches;
``Found.exact`` says whether ``total`` is every match or the cap (docs/search.md).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from carenet.directory.search import ranking, statements
from carenet.directory.search.fragments import for_dialect
from carenet.directory.search.query import SearchQuery

Execute = Callable[[str, dict[str, Any]], list[Any]]
RING_FILL = 2.0  # the first ring is sized to hold about this many times the rows needed


@dataclass(frozen=True)
class Found:
    rows: list[Any]  # the page: statements.OUTPUT_COLUMNS, serves, total, dist_m
    total: int  # matches, counted up to max_results
    exact: bool  # False: more than max_results match


def executor(conn: Any) -> Execute:
    """Run the plan's statements on a SQLAlchemy connection (driver SQL, named params)."""
    dialect = conn.dialect.name

    def execute(sql: str, params: dict[str, Any]) -> list[Any]:
        return list(conn.exec_driver_sql(statements.driver_sql(sql, dialect), params))

    return execute


def run(execute: Execute, dialect: str, q: SearchQuery, max_results: int) -> Found:
    """The page of ``q`` and how many match (up to ``max_results``)."""
    q = replace(q, limit=max(0, min(q.limit, max_results - q.offset)))
    if for_dialect(dialect).nearest_first and q.limit:
        return _nearest_first(execute, dialect, q, max_results)
    first = q.offset + q.limit
    near = _count(execute, statements.count_near_sql(dialect, q, max_results + 1))
    capped = near > max_results
    rows = _from_rings(execute, dialect, q, near, capped) if q.limit and near >= first else None
    return _found(execute, dialect, q, max_results, rows, near)


def _found(
    execute: Execute,
    dialect: str,
    q: SearchQuery,
    max_results: int,
    rows: list[Any] | None,
    near: int,
) -> Found:
    """The page read near the patient (``near`` places counted) with its total, or the
    full statement's page and total when ``rows`` is None."""
    if rows is None:
        rows, total = _full(execute, dialect, q)
    else:
        total = near
        if total <= max_results:
            far = statements.count_far_sql(dialect, q, max_results + 1 - total)
            total += _count(execute, far)
    return Found(rows, min(total, max_results), total <= max_results)


def _nearest_first(execute: Execute, dialect: str, q: SearchQuery, max_results: int) -> Found:
    """PostgreSQL: the first statement reads the page in KNN order and counts the places
    near (one round trip less than counting first)."""
    first = q.offset + q.limit
    fetch = first + max(5, first // 4)
    rows = execute(*statements.nearest_sql(dialect, q, first, fetch, at_most=max_results + 1))
    near = int(rows[0].near_n) if rows else 0
    page = _from_nearest(execute, dialect, q, rows, fetch, near, near > max_results)
    return _found(execute, dialect, q, max_results, page, near)


def _count(execute: Execute, statement: tuple[str, dict[str, Any]]) -> int:
    return int(execute(*statement)[0][0] or 0)


def _from_rings(
    execute: Execute, dialect: str, q: SearchQuery, near: int, capped: bool
) -> list[Any] | None:
    """The page from widening rings, or None when even the radius does not settle it."""
    first = q.offset + q.limit
    # Sized as if the places were spread evenly over the radius; a capped count only says
    # "at least", and places crowd towards a city's centre: start smaller then.
    ring = q.radius_m * min(1.0, math.sqrt(RING_FILL * first / near))
    if capped:
        ring /= 4
    while True:
        ring = min(ring, q.radius_m)
        rows = execute(*statements.ring_sql(dialect, q, ring, first))
        if len(rows) == first and ranking.settled_by_ring(rows[-1].sort_m, ring):
            return rows[q.offset :]
        if ring >= q.radius_m:
            return None
        # Grow by what the ring held: rows scale with the ring's area.
        ring *= min(4.0, max(1.5, math.sqrt(RING_FILL * first / max(len(rows), 1))))


def _from_nearest(
    execute: Execute,
    dialect: str,
    q: SearchQuery,
    rows: list[Any],
    fetch: int,
    near: int,
    capped: bool,
) -> list[Any] | None:
    """Where the index reads nearest first (PostgreSQL): the page from the matches nearest
    by the KNN index order (sphere distance) — ``rows``, a first read of ``fetch`` of them —
    reading four times more while it is not settled (``ranking.settled_by_knn``): settled
    when the page's last row is nearer by the order's distance than any row not read can be.
    None when fewer matches than the page lie within the radius; rings when reading more
    does not settle it (rare: rows crowding at one distance)."""
    first = q.offset + q.limit
    for attempt in range(3):
        if attempt:
            fetch *= 4
            rows = execute(*statements.nearest_sql(dialect, q, first, fetch))
        fetched = int(rows[0].fetched) if rows else 0
        if fetched < fetch:  # every match within the radius was read
            return rows[q.offset :] if len(rows) == first else None
        if ranking.settled_by_knn(rows[-1].sort_m, rows[0].edge_m):
            return rows[q.offset :]
    return _from_rings(execute, dialect, q, near, capped)


def _full(execute: Execute, dialect: str, q: SearchQuery) -> tuple[list[Any], int]:
    rows = execute(*statements.build_sql(dialect, q)) if q.limit else []
    if rows:
        return rows, int(rows[0].total)
    if q.offset == 0 and q.limit:
        return [], 0
    return [], _count(execute, statements.build_sql(dialect, q, count_only=True))
