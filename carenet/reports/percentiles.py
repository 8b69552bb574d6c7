"""Closed-loop counts and exact duration percentiles on SQLite, read from ordered indexes.

SQLite has no ``percentile_cont`` and no hash aggregation: ranking ~800,000
durations per measure with ``ROW_NUMBER()`` sorts them all (about 1 s each, three
measures). The covering indexes of migration 0007 (``indexes``) keep each
grouping's durations in order, so here:

1. one statement counts, per group, the referrals, the closed ones and the
   known durations of each measure — each part walks one index in group order,
   no sort;
2. from those counts come the ranks the median and the 90th percentile fall
   between (``p * (n - 1)``, as ``percentile_cont``); one statement per 200
   ranks seeks each group in the measure's index and steps to the rank
   (``LIMIT … OFFSET``, from the nearer end), then interpolates linearly in SQL.

Only counts and the interpolated values come back to Python; the same
arithmetic as ``sql.percentiles_sql`` (IEEE doubles), so results are identical.
Used without filters other than the date range; filtered reports rank the
(fewer) filtered rows with ``sql.percentiles_sql``.
"""

# ruff: noqa: S608  (SQL text is assembled from this package's own fragments; values are bound)

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from carenet.reports.indexes import MEASURES, index_name

FINAL = "('completed', 'rejected', 'failed', 'cancelled')"
RANGE = "created_at >= :start AND created_at < :end"
PERCENTILES = (0.5, 0.9)
CHUNK = 200  # ranks per statement (SQLite allows 500 terms in a compound SELECT)

Run = Callable[[Session, str, dict], list]


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


def index_timings(session: Session, start, end, keys: tuple[str, ...], run: Run) -> list:  # type: ignore[no-untyped-def]
    """(key, label, referrals, closed, [6 percentiles]) per group, sorted by key."""
    column = keys[0] if keys else None
    values = {"start": start, "end": end}
    counts = _counts(session, column, values, run)
    ranks = [
        rank_of(group, m, w, n[m])
        for group, (_, _, n) in counts.items()
        for m in range(len(MEASURES))
        for w in range(len(PERCENTILES))
        if n[m]
    ]
    found: dict[tuple[str, int, int], float] = {}
    for i in range(0, len(ranks), CHUNK):
        found.update(_values(session, column, ranks[i : i + CHUNK], values, run))
    rows = []
    for group in sorted(counts):
        referrals, closed, _ = counts[group]
        pcts = [found.get((group, m, w)) for m in range(len(MEASURES)) for w in range(2)]
        rows.append((group, group if column else "All", referrals, closed, pcts))
    return rows


def _counts(session: Session, column: str | None, values: dict, run: Run) -> dict:
    key = column or "'all'"
    group = f" GROUP BY {column}" if column else ""  # none: one row, maybe of zeros
    parts = [
        f"SELECT 0 AS part, {key} AS grp, COUNT(*), SUM(CASE WHEN status IN {FINAL} THEN 1"
        f" ELSE 0 END), COUNT(response_s)"
        f" FROM report_referral INDEXED BY {_index(column, 'response')} WHERE {RANGE}{group}"
    ]
    for i, measure in enumerate(MEASURES[1:], start=1):
        parts.append(
            f"SELECT {i}, {key}, COUNT(*), 0, 0 FROM report_referral"
            f" INDEXED BY {_index(column, measure)}"
            f" WHERE {measure}_s IS NOT NULL AND {RANGE}{group}"
        )
    counts: dict[str, list] = {}
    for part, grp, n, closed, n_response in run(session, " UNION ALL ".join(parts), values):
        if not n:
            continue
        entry = counts.setdefault(str(grp), [0, 0, [0, 0, 0]])
        if part == 0:
            entry[0], entry[1], entry[2][0] = int(n), int(closed or 0), int(n_response)
        else:
            entry[2][part] = int(n)
    return counts


def _values(session: Session, column: str | None, ranks: list[Rank], values: dict,
            run: Run) -> dict:  # fmt: skip
    terms = []
    bound = dict(values)
    for i, r in enumerate(ranks):
        measure = f"{MEASURES[r.measure]}_s"
        nearer_top = r.lo >= r.n / 2  # walk from the end that is closer
        offset = r.n - r.lo - r.count if nearer_top else r.lo
        where = f"{column} = :g{i} AND " if column else ""
        terms.append(
            f"SELECT {i} AS t, MIN(v) + (MAX(v) - MIN(v)) * :f{i} FROM ("
            f"SELECT {measure} AS v FROM report_referral INDEXED BY {_index(column, measure[:-2])}"
            f" WHERE {where}{measure} IS NOT NULL AND {RANGE}"
            f" ORDER BY {measure}{' DESC' if nearer_top else ''}"
            f" LIMIT {int(r.count)} OFFSET {int(offset)})"
        )
        bound[f"f{i}"] = r.fraction
        if column:
            bound[f"g{i}"] = r.group
    rows = run(session, " UNION ALL ".join(terms), bound)
    return {(ranks[t].group, ranks[t].measure, ranks[t].which): v for t, v in rows}


def _index(column: str | None, measure: str) -> str:
    return index_name("report_referral", (column,) if column else (), measure)
