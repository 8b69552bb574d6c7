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
    """The first day of the week (Monday), month or quarter of ``column`` (a date, ISO text).

    PostgreSQL groups on a ``date`` (cheaper than formatting every row); its text
    form is the same ISO date SQLite gives.
    """
    if period not in PERIODS:
        raise ValueError(period)
    if name == "postgresql":
        return f"CAST(date_trunc('{period}', {column} AT TIME ZONE 'UTC') AS date)"
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


def percentiles_sql(name: str, source: str, counts: str, n_column: str) -> str:
    """Median and 90th percentile (linear interpolation) of ``val`` per ``grp`` on SQLite.

    ``source`` is a subquery with columns ``grp`` and ``val`` (NULL ``val`` is
    ignored); ``counts`` names a CTE with one row per ``grp`` holding, in
    ``n_column``, how many non-NULL values the group has. SQLite has no
    ``percentile_cont``: each value's rank inside its group comes from
    ``ROW_NUMBER()``, only the (at most four) neighbouring ranks are kept, and
    they are interpolated — all in SQL. Result columns: grp, n, p50, p90.
    PostgreSQL uses ``percentile_cont`` directly (``measures.timings``).
    """
    if name == "postgresql":
        raise ValueError("PostgreSQL uses percentile_cont")
    n = f"c.{n_column}"
    bounds = []
    parts = []
    for label, p in (("p50", 0.5), ("p90", 0.9)):
        pos = f"({p} * ({n} - 1))"
        lo = f"CAST({pos} AS INTEGER)"
        hi = f"({lo} + ({pos} > {lo}))"
        bounds += [lo, hi]
        at_lo = f"MAX(CASE WHEN r.rn = {lo} THEN r.val END)"
        at_hi = f"MAX(CASE WHEN r.rn = {hi} THEN r.val END)"
        parts.append(f"{at_lo} + ({at_hi} - {at_lo}) * ({pos} - {lo}) AS {label}")
    ranked = (
        "SELECT grp, val, ROW_NUMBER() OVER (PARTITION BY grp ORDER BY val) - 1 AS rn"
        f" FROM {source} s WHERE val IS NOT NULL"
    )
    return (
        f"SELECT r.grp, MAX({n}) AS n, {', '.join(parts)} FROM ({ranked}) r"
        f" JOIN {counts} c ON c.grp = r.grp WHERE r.rn IN ({', '.join(bounds)}) GROUP BY r.grp"
    )
