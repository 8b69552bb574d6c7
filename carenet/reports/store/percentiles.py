"""Closed-loop counts and exact duration percentiles read from ordered indexes.

SQLite has no ``percentile_cont`` and no hash aggregation: ranking ~800,000
durations per measure with ``ROW_NUMBER()`` sorts them all (about 1 s each, three
measures); PostgreSQL's ``percentile_cont`` sorts them too. The covering indexes
of migration 0007 (``indexes``) keep each grouping's durations in order, so:

1. one statement counts, per group, the referrals, the closed ones and the
   known durations of each measure (SQLite: each part walks one index in group
   order, no sort; PostgreSQL: one hash-aggregated pass);
2. from those counts come the ranks the median and the 90th percentile fall
   between (``p * (n - 1)``, as ``percentile_cont``); each is found by seeking
   the group in the measure's index and stepping to the rank (``LIMIT … OFFSET``,
   from the nearer end), and interpolated linearly in SQL. SQLite cannot name an
   outer column in LIMIT/OFFSET, so it gets one subquery per rank (200 per
   statement); PostgreSQL gets the ranks as a VALUES list walked by LATERAL
   subqueries, one statement.

Only counts and the interpolated values come back to Python; the arithmetic is
``percentile_cont``'s (IEEE doubles), so results are identical to the bit
(tested). Used without filters other than the date range; filtered reports
rank the (fewer) filtered rows with ``sql.percentiles_sql`` / ``percentile_cont``
(``measures.timings``). Which way each dialect goes is decided in ``sql``.
"""

# ruff: noqa: S608  (SQL text is assembled from this package's own fragments; values are bound)

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from carenet.reports.query import FINAL
from carenet.reports.store import sql
from carenet.reports.store.indexes import MEASURES, index_name

FINAL_IN = sql.in_list(FINAL)  # ('completed', 'rejected', 'failed', 'cancelled')
RANGE = "created_at >= :start AND created_at < :end"
X_RANGE = RANGE.replace("created_at", "x.created_at")
PERCENTILES = (0.5, 0.9)
CHUNK = 200  # ranks per statement (SQLite allows 500 terms in a compound SELECT)

Run = Callable[[Session, str, dict], list]
# (key, label, referrals, closed, the 6 percentiles: median and p90 of each measure)
IndexTiming = tuple[str, str, int, int, list[float | None]]


@dataclass(frozen=True)
class Rank:
    """Where one percentile of one group's durations lies: ranks lo..lo+count-1, weight."""

    group: str
    measure: int  # index in MEASURES
    which: int  # index in PERCENTILES
    lo: int
    count: int  # 1, or 2 when the percentile falls between two ranks
    fraction: float
    n: int


def rank_of(group: str, measure: int, which: int, n: int) -> Rank:
    """The rank(s) of percentile ``PERCENTILES[which]`` among ``n`` ordered values."""
    position = PERCENTILES[which] * (n - 1)
    lo = int(position)
    return Rank(group, measure, which, lo, 2 if position > lo else 1, position - lo, n)


def index_timings(
    session: Session, start: datetime, end: datetime, keys: tuple[str, ...], run: Run
) -> list[IndexTiming]:
    """(key, label, referrals, closed, [6 percentiles]) per group, sorted by key."""
    dialect = sql.dialect(session)
    column = keys[0] if keys else None
    values = {"start": start, "end": end}
    count = _pg_counts if sql.hash_aggregates(dialect) else _counts
    counts = count(session, column, values, run)
    ranks = [
        rank_of(group, m, w, n[m])
        for group, (_, _, n, _) in counts.items()
        for m in range(len(MEASURES))
        for w in range(len(PERCENTILES))
        if n[m]
    ]
    raw = {group: entry[3] for group, entry in counts.items()}  # keys as the driver gave them
    found: dict[tuple[str, int, int], float] = {}
    if sql.lateral_limits(dialect):
        found.update(_pg_values(session, column, ranks, raw, values, run))
    else:
        for i in range(0, len(ranks), CHUNK):
            found.update(_values(session, column, ranks[i : i + CHUNK], values, run))
    rows: list[IndexTiming] = []
    for group in sorted(counts):
        referrals, closed, _, _ = counts[group]
        pcts = [found.get((group, m, w)) for m in range(len(MEASURES)) for w in range(2)]
        rows.append((group, group if column else "All", referrals, closed, pcts))
    return rows


def _counts(session: Session, column: str | None, values: dict, run: Run) -> dict:
    key = column or "'all'"
    group = f" GROUP BY {column}" if column else ""  # none: one row, maybe of zeros
    parts = [
        f"SELECT 0 AS part, {key} AS grp, COUNT(*), SUM(CASE WHEN status IN {FINAL_IN} THEN 1"
        f" ELSE 0 END), COUNT(response_s)"
        f" FROM report_referral {_index(column, 'response')} WHERE {RANGE}{group}"
    ]
    for i, measure in enumerate(MEASURES[1:], start=1):
        parts.append(
            f"SELECT {i}, {key}, COUNT(*), 0, 0 FROM report_referral"
            f" {_index(column, measure)}"
            f" WHERE {measure}_s IS NOT NULL AND {RANGE}{group}"
        )
    counts: dict[str, list] = {}
    for part, grp, n, closed, n_response in run(session, " UNION ALL ".join(parts), values):
        if not n:
            continue
        entry = counts.setdefault(str(grp), [0, 0, [0, 0, 0], grp])
        if part == 0:
            entry[0], entry[1], entry[2][0] = int(n), int(closed or 0), int(n_response)
        else:
            entry[2][part] = int(n)
    return counts


def _pg_counts(session: Session, column: str | None, values: dict, run: Run) -> dict:
    """PostgreSQL: one pass (hash aggregation) counts everything at once."""
    key = column or "'all'"
    statement = (
        f"SELECT {key}, COUNT(*), SUM(CASE WHEN status IN {FINAL_IN} THEN 1 ELSE 0 END),"
        " COUNT(response_s), COUNT(acceptance_s), COUNT(completion_s)"
        f" FROM report_referral WHERE {RANGE}{f' GROUP BY {column}' if column else ''}"
    )
    return {
        str(grp): [int(n), int(closed or 0), [int(a), int(b), int(c)], grp]
        for grp, n, closed, a, b, c in run(session, statement, values)
        if n
    }


def _walk(rank: Rank) -> tuple[bool, int]:
    """(descending, offset): walk from the end of the ordered values that is nearer."""
    nearer_top = rank.lo >= rank.n / 2
    return nearer_top, (rank.n - rank.lo - rank.count if nearer_top else rank.lo)


def _values(session: Session, column: str | None, ranks: list[Rank], values: dict,
            run: Run) -> dict:  # fmt: skip
    """SQLite: LIMIT and OFFSET cannot name an outer column, so one subquery per rank."""
    terms = []
    bound = dict(values)
    for i, r in enumerate(ranks):
        measure = f"{MEASURES[r.measure]}_s"
        descending, offset = _walk(r)
        where = f"{column} = :g{i} AND " if column else ""
        terms.append(
            f"SELECT {i} AS t, MIN(v) + (MAX(v) - MIN(v)) * :f{i} FROM ("
            f"SELECT {measure} AS v FROM report_referral {_index(column, measure[:-2])}"
            f" WHERE {where}{measure} IS NOT NULL AND {RANGE}"
            f" ORDER BY {measure}{' DESC' if descending else ''}"
            f" LIMIT {int(r.count)} OFFSET {int(offset)}) AS ranked"
        )
        bound[f"f{i}"] = r.fraction
        if column:
            bound[f"g{i}"] = r.group
    rows = run(session, " UNION ALL ".join(terms), bound)
    return {(ranks[t].group, ranks[t].measure, ranks[t].which): v for t, v in rows}


def _pg_values(session: Session, column: str | None, ranks: list[Rank], raw: dict,
               values: dict, run: Run) -> dict:  # fmt: skip
    """PostgreSQL: the ranks as a VALUES list, each walked by a LATERAL subquery."""
    parts = []
    bound = dict(values)
    for m, measure in enumerate(MEASURES):
        for descending in (False, True):
            rows = []
            for i, r in enumerate(ranks):
                down, offset = _walk(r)
                if r.measure != m or down != descending:
                    continue
                rows.append(f"({i}, :g{i}, CAST(:f{i} AS DOUBLE PRECISION), {r.count}, {offset})")
                bound[f"f{i}"] = r.fraction
                bound[f"g{i}"] = raw[r.group] if column else ""
            if not rows:
                continue
            where = f"x.{column} = r.g AND " if column else ""
            parts.append(
                f"SELECT r.t, w.v FROM (VALUES {', '.join(rows)}) AS r(t, g, f, c, o)"
                f" CROSS JOIN LATERAL (SELECT MIN(v) + (MAX(v) - MIN(v)) * r.f AS v FROM ("
                f"SELECT x.{measure}_s AS v FROM report_referral x"
                f" WHERE {where}x.{measure}_s IS NOT NULL AND {X_RANGE}"
                f" ORDER BY x.{measure}_s{' DESC' if descending else ''}"
                f" LIMIT r.c OFFSET r.o) AS ranked) AS w"
            )
    if not parts:
        return {}
    walked = run(session, " UNION ALL ".join(parts), bound)
    return {(ranks[t].group, ranks[t].measure, ranks[t].which): v for t, v in walked}


def _index(column: str | None, measure: str) -> str:
    return "INDEXED BY " + index_name("report_referral", (column,) if column else (), measure)
