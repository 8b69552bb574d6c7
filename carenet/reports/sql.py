"""The few SQL expressions that differ between PostgreSQL and SQLite, in one place.

Each function returns a SQL fragment (text) for the dialect named by ``name``
(``"postgresql"`` or ``"sqlite"``). Column names passed in are trusted
identifiers written in this package, never user input.
"""

# ruff: noqa: S608  (SQL text is assembled from this package's own fragments; values are bound)

from __future__ import annotations

PERIODS = ("week", "month", "quarter")


def seconds_between(name: str, start: str, end: str) -> str:
    """Seconds from ``start`` to ``end`` (both timestamps)."""
    if name == "postgresql":
        return f"EXTRACT(EPOCH FROM ({end} - {start}))"
    return f"((julianday({end}) - julianday({start})) * 86400.0)"


def period_start(name: str, period: str, column: str) -> str:
    """The first day (ISO date text) of the week (Monday), month or quarter of ``column``."""
    if period not in PERIODS:
        raise ValueError(period)
    if name == "postgresql":
        return f"to_char(date_trunc('{period}', {column} AT TIME ZONE 'UTC'), 'YYYY-MM-DD')"
    if period == "week":
        return f"date({column}, '-6 days', 'weekday 1')"
    if period == "month":
        return f"strftime('%Y-%m-01', {column})"
    return (
        f"(strftime('%Y-', {column}) || printf('%02d', "
        f"((CAST(strftime('%m', {column}) AS INTEGER) - 1) / 3) * 3 + 1) || '-01')"
    )


def zip5(name: str, column: str) -> str:
    """The 5-digit ZIP code of a postal code column (ZIP+4 cut)."""
    if name == "postgresql":
        return f"substr({column}, 1, 5)"
    return f"substr({column}, 1, 5)"


def percentiles_sql(name: str, source: str, group: str, value: str) -> str:
    """Median and 90th percentile (linear interpolation) of ``value`` per ``group``.

    ``source`` is a subquery (in parentheses) with columns ``grp`` and ``val``
    (rows with a NULL ``val`` are ignored). Result columns: grp, n, p50, p90.
    PostgreSQL has ``percentile_cont``; SQLite has none, so there the rank of
    each value inside its group comes from window functions and the two
    neighbouring ranks are interpolated, still in SQL.
    """
    if name == "postgresql":
        return (
            f"SELECT {group} AS grp, COUNT(*) AS n,"
            f" percentile_cont(0.5) WITHIN GROUP (ORDER BY {value}) AS p50,"
            f" percentile_cont(0.9) WITHIN GROUP (ORDER BY {value}) AS p90"
            f" FROM {source} s WHERE {value} IS NOT NULL GROUP BY {group}"
        )
    ranked = (
        f"SELECT {group} AS grp, {value} AS v,"
        f" ROW_NUMBER() OVER (PARTITION BY {group} ORDER BY {value}) - 1 AS rn,"
        f" COUNT(*) OVER (PARTITION BY {group}) AS n"
        f" FROM {source} s WHERE {value} IS NOT NULL"
    )
    parts = []
    for label, p in (("p50", 0.5), ("p90", 0.9)):
        pos = f"({p} * (n - 1))"
        lo = f"CAST({pos} AS INTEGER)"
        hi = f"({lo} + ({pos} > {lo}))"
        at_lo = f"MAX(CASE WHEN rn = {lo} THEN v END)"
        at_hi = f"MAX(CASE WHEN rn = {hi} THEN v END)"
        parts.append(f"{at_lo} + ({at_hi} - {at_lo}) * ({pos} - {lo}) AS {label}")
    return f"SELECT grp, MAX(n) AS n, {', '.join(parts)} FROM ({ranked}) r GROUP BY grp"
