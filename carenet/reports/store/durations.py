"""Time-to-close summaries: a released month's durations per cell, as histograms (0020).

When a month is released (``release.release_due``), each view of the referral
counts and each cell of it whose referral count is shown gets, per duration
(first response, acceptance, completion), a histogram on a geometric grid: a
duration of ``s`` seconds falls in bucket ``floor(STEPS * ln(max(s, 1)) + 0.5)``
and stands for ``exp(bucket / STEPS)`` seconds — within 2.53 % of the duration
(``STEPS`` = 20: each bucket 5.1 % wider than the one before). The rows are
written by one ``INSERT … SELECT … GROUP BY`` per view and measure, in the
release's transaction, so they are frozen with the counts.

Time-to-close adds a window's months' histograms and reads the median and 90th
percentile off the sums with ``percentile_cont``'s interpolation between the
ranks around ``p × (n − 1)`` — exact over the bucketed durations, whatever the
number of months, so nothing is ranked at request time. For a whole window
(``cell_percentiles``) the database does it all in one statement: the months'
rows summed per cell and bucket (streamed in index order; a range seek when
filtered), running sums per cell, and per cell only the buckets at the four
ranks — cells × measures rows come back, not the histograms. A window's shorter
periods (the trend's quarters) merge per-month histograms in Python (``load``,
``percentiles``), with the same integer ranks. Hidden cells (small or
complementary) have no histogram: their durations are never shown.
"""

# ruff: noqa: S608  (SQL text is assembled from this package's own fragments; values are bound)

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from datetime import date, datetime

from sqlalchemy import Date, bindparam, func, select, text
from sqlalchemy.orm import Session

from carenet.db.types import as_utc
from carenet.reports.store import sql
from carenet.reports.store.models import ReportDuration

STEPS = 20  # buckets per factor e of duration: each 5.1 % wider than the one before
MEASURES = {"response": "response_s", "acceptance": "acceptance_s", "completion": "completion_s"}
RANKS = ((1, 2), (9, 10))  # the median and the 90th percentile, as fractions a / b
COLUMN = {"domain": "f.domain", "zip": "f.zip5", "county": "f.county",
          "care_org": "f.care_org_id", "cbo": "f.cbo_id"}  # fmt: skip
Histogram = dict[int, int]  # bucket -> referrals


def bucket_of(seconds: float) -> int:
    """The bucket of a duration (as the database computes it)."""
    return math.floor(STEPS * math.log(max(seconds, 1.0)) + 0.5)


def seconds_of(bucket: int) -> float:
    """The duration a bucket stands for."""
    return math.exp(bucket / STEPS)


def ranks(total: int) -> list[tuple[int, int, float]]:
    """Per percentile of ``total`` values: the 0-based ranks below and above its position
    ``p × (total − 1)`` and the fraction between them, in integers (as the SQL computes it)."""
    found = []
    for a, b in RANKS:
        low, rest = divmod(a * (total - 1), b)
        found.append((low, min(low + 1, total - 1), rest / b))
    return found


def interpolated(low: int, high: int, fraction: float) -> float:
    """``percentile_cont``'s value between the buckets at the ranks below and above."""
    below = seconds_of(low)
    return below + fraction * (seconds_of(high) - below)


def percentiles(histogram: Mapping[int, int]) -> tuple[float | None, float | None]:
    """Median and 90th percentile (seconds) of the durations a histogram holds: linear
    interpolation between the values at ranks ``⌊p × (n − 1)⌋`` and the next, as
    ``percentile_cont``; (None, None) when it is empty."""
    ordered = sorted((b, n) for b, n in histogram.items() if n > 0)
    total = sum(n for _, n in ordered)
    if not total:
        return (None, None)
    found = [interpolated(_at(ordered, lo), _at(ordered, hi), f) for lo, hi, f in ranks(total)]
    return (found[0], found[1])


def _at(ordered: list[tuple[int, int]], rank: int) -> int:
    """The bucket at 0-based ``rank`` of the ordered histogram."""
    seen = 0
    for bucket, n in ordered:
        seen += n
        if rank < seen:
            return bucket
    return ordered[-1][0]


def save(session: Session, month: date, start: datetime, end: datetime,
         views: Iterable[tuple[str, ...]]) -> None:  # fmt: skip
    """Write the month's histograms for every cell of ``views`` whose referral count was
    stored shown (``report_count``, saved just before in the same transaction)."""
    dialect = sql.dialect(session)
    for view in views:
        columns = [COLUMN[d] for d in view]
        d1, d2 = ([*columns, "''", "''"])[:2]
        shown = (
            "EXISTS (SELECT 1 FROM report_count c WHERE c.family = 'referral'"
            " AND c.view = :in_view AND c.period_start = :in_month"
            f" AND c.d1 = {d1} AND c.d2 = {d2} AND c.measure = 'all' AND c.value IS NOT NULL)"
        )
        for measure, column in MEASURES.items():
            bucket = sql.duration_bucket(dialect, f"f.{column}", STEPS)
            statement = text(f"""
                INSERT INTO report_duration (view, period_start, d1, d2, measure, bucket, n)
                SELECT :view, :month, {d1}, {d2}, :measure, {bucket}, COUNT(*)
                FROM report_referral f
                WHERE f.created_at >= :start AND f.created_at < :end
                  AND f.{column} IS NOT NULL AND {shown}
                GROUP BY {", ".join([*columns, bucket])}
            """).bindparams(bindparam("month", type_=Date()), bindparam("in_month", type_=Date()))
            name = ",".join(view)  # bound twice: PostgreSQL types each use apart
            session.execute(statement, {"view": name, "in_view": name, "month": month,
                                        "in_month": month, "measure": measure,
                                        "start": as_utc(start), "end": as_utc(end)})  # fmt: skip


def summarized(session: Session, months: Iterable[date]) -> set[date]:
    """Which of ``months`` have histograms (a month with no shown referral cell has none)."""
    wanted = list(months)
    if not wanted:
        return set()
    d = ReportDuration
    found = session.scalars(
        select(d.period_start).where(d.view == "", d.period_start.in_(wanted)).distinct()
    )
    return set(found)


Loaded = dict[tuple[tuple[str, ...], date | None], dict[str, Histogram]]


def load(session: Session, months: list[date], view: tuple[str, ...],
         where: tuple[str, str] | None = None, per_month: bool = False) -> Loaded:  # fmt: skip
    """The histograms of one view summed over ``months`` (or per month): (values, month or
    None) → measure → bucket → referrals; only cells whose dimension ``where[0]`` has the
    value ``where[1]`` when given."""
    d = ReportDuration
    month_column = [d.period_start] if per_month else []
    statement = select(d.d1, d.d2, d.measure, d.bucket, *month_column, func.sum(d.n)).where(
        d.view == ",".join(view), d.period_start.in_(months)
    )
    if where is not None and where[0] in view:
        column = d.d1 if view.index(where[0]) == 0 else d.d2
        statement = statement.where(column == where[1])
    if where is not None and where[0] in view and view.index(where[0]) == 1:
        # the second value's index: (view, d2, d1, measure, bucket, month, n), read in order
        statement = statement.group_by(d.d2, d.d1, d.measure, d.bucket, *month_column)
    else:  # (view, d1, d2, measure, bucket, month, n)
        statement = statement.group_by(d.d1, d.d2, d.measure, d.bucket, *month_column)
    width = len(view)
    found: Loaded = {}
    for row in session.connection().execute(statement).all():  # Core rows: no ORM loading
        month = row[4] if per_month else None
        measure, bucket, n = row[2], row[3], row[-1]
        cell = found.setdefault(((row[0], row[1])[:width], month), {})
        cell.setdefault(measure, {})[int(bucket)] = int(n)
    return found


Percentiles = dict[tuple[str, ...], dict[str, tuple[float | None, float | None]]]


def cell_percentiles(session: Session, months: list[date], view: tuple[str, ...],
                     where: tuple[str, str] | None = None) -> Percentiles:  # fmt: skip
    """Per cell of ``view`` (its values) and measure: (median, 90th percentile) in seconds of
    the histograms summed over ``months``, ranked in the database; only cells whose
    dimension ``where[0]`` has the value ``where[1]`` when given. Equal to ``percentiles``
    of the summed histogram (the same integer ranks)."""
    if not months:
        return {}
    fixed = where[1] if where is not None and where[0] in view else None  # the filtered value
    filtered = fixed is not None
    second_filtered = where is not None and filtered and view.index(where[0]) == 1
    first, second = ("d2", "d1") if second_filtered else ("d1", "d2")  # the index read in order
    # a filtered value is one constant: left out of the cell so the sums stay in index order
    cell = f"{second}, measure" if filtered else f"{first}, {second}, measure"
    condition = f" AND {first} = :value" if filtered else ""
    picks = []
    for a, b in RANKS:
        low = f"(({a} * (total - 1)) / {b})"
        high = f"(CASE WHEN {low} + 1 < total THEN {low} + 1 ELSE total - 1 END)"
        picks += [f"MIN(CASE WHEN upto > {low} THEN bucket END)",
                  f"MIN(CASE WHEN upto > {high} THEN bucket END)"]  # fmt: skip
    statement = text(f"""
        WITH summed AS (
            SELECT {cell}, bucket, CAST(SUM(n) AS BIGINT) AS n FROM report_duration
            WHERE view = :view AND period_start IN :months{condition}
            GROUP BY {cell}, bucket
        ), ranked AS (
            SELECT {cell}, bucket,
                   CAST(SUM(n) OVER (PARTITION BY {cell} ORDER BY bucket
                                     ROWS UNBOUNDED PRECEDING) AS BIGINT) AS upto,
                   CAST(SUM(n) OVER (PARTITION BY {cell}) AS BIGINT) AS total
            FROM summed
        )
        SELECT {cell}, MAX(total), {", ".join(picks)} FROM ranked GROUP BY {cell}
    """).bindparams(bindparam("months", expanding=True, type_=Date()))
    values = {"view": ",".join(view), "months": months, "value": fixed}
    width = len(view)
    found: Percentiles = {}
    for row in session.connection().execute(statement, values).all():
        head = (fixed, *row[:-6]) if filtered else tuple(row[:-6])  # (first, second)
        pair = (head[1], head[0]) if second_filtered else (head[0], head[1])
        total, buckets, measure = int(row[-5]), [int(b) for b in row[-4:]], row[-6]
        figures = [interpolated(buckets[2 * i], buckets[2 * i + 1], fraction)
                   for i, (_, _, fraction) in enumerate(ranks(total))]  # fmt: skip
        found.setdefault(pair[:width], {})[measure] = (figures[0], figures[1])
    return found
