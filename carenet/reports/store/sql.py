"""Every difference between PostgreSQL and SQLite in the reports, in one place.

Each function takes the dialect's name (``"postgresql"`` or ``"sqlite"``, from
``dialect(session)``) and returns a SQL fragment (text), a statement (or None
when the dialect needs none), or whether the dialect can do something the
statements of the store then rely on. No other module of the reports compares
dialect names. Column names passed in are trusted identifiers written in this
package, never user input.
"""

# ruff: noqa: S608  (SQL text is assembled from this package's own fragments; values are bound)

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.orm import Session

from carenet.reports.query import PERIODS

POSTGRESQL = "postgresql"


def dialect(session: Session) -> str:
    """The name of the dialect the session talks to."""
    return session.get_bind().dialect.name


def in_list(values: Iterable[str]) -> str:
    """``('a', 'b')``: a SQL list of this package's codes (statuses), in the order given."""
    return "(" + ", ".join(f"'{v}'" for v in values) + ")"


# --- fragments -----------------------------------------------------------------


def seconds_between(name: str, start: str, end: str) -> str:
    """Seconds from ``start`` to ``end`` (both timestamps)."""
    if name == POSTGRESQL:
        return f"EXTRACT(EPOCH FROM ({end} - {start}))"
    return f"((julianday({end}) - julianday({start})) * 86400.0)"


def period_start(name: str, period: str, column: str) -> str:
    """The first day of the week (Monday), month or quarter of ``column`` (a date, ISO text).

    PostgreSQL groups on a ``date`` (cheaper than formatting every row); its text
    form is the same ISO date SQLite gives.
    """
    if period not in PERIODS:
        raise ValueError(period)
    if name == POSTGRESQL:
        return f"CAST(date_trunc('{period}', {column} AT TIME ZONE 'UTC') AS date)"
    if period == "week":
        return f"date({column}, '-6 days', 'weekday 1')"
    if period == "month":
        return f"strftime('%Y-%m-01', {column})"
    return (
        f"(strftime('%Y-', {column}) || printf('%02d', "
        f"((CAST(strftime('%m', {column}) AS INTEGER) - 1) / 3) * 3 + 1) || '-01')"
    )


def duration_bucket(name: str, column: str, steps: int) -> str:
    """A duration's bucket on the geometric grid: ``floor(steps * ln(max(seconds, 1)) + 0.5)``
    (the same rounding on both dialects: no round-half-to-even)."""
    floor_of = "max" if name != POSTGRESQL else "GREATEST"
    return f"CAST(floor({steps} * ln({floor_of}({column}, 1.0)) + 0.5) AS INTEGER)"


def byte_order(name: str, key: str) -> str:
    """``key`` sorted by bytes: on PostgreSQL, sorting the groups needs no locale rules."""
    if name == POSTGRESQL:
        return f'({key}) COLLATE "C"'
    return key


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
    if has_percentile_cont(name):
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


# --- statements one dialect needs and the other does not ------------------------


def refresh_lock(name: str) -> str | None:
    """PostgreSQL: one refresh at a time (concurrent upserts could deadlock); SQLite has one
    writer anyway."""
    if name == POSTGRESQL:
        return "SELECT pg_advisory_xact_lock(hashtext('carenet.report_refresh'))"
    return None


def sort_memory(name: str) -> str:
    """PostgreSQL: sort the durations of ``percentile_cont`` in memory (only it sorts them so)."""
    if name != POSTGRESQL:
        raise ValueError("only PostgreSQL sorts for percentile_cont")
    return "SET LOCAL work_mem = '128MB'"


def all_visible_probe(name: str) -> str | None:
    """PostgreSQL: whether VACUUM has marked 90 % of ``report_referral``'s pages all-visible
    (index-only scans then skip the table). None on SQLite: an index holds every column it
    covers, always."""
    if name == POSTGRESQL:
        return (
            "SELECT relpages > 0 AND relallvisible >= 0.9 * relpages FROM pg_class"
            " WHERE oid = 'report_referral'::regclass"
        )
    return None


def vacuum_statement(name: str) -> str | None:
    """PostgreSQL: what autovacuum does soon after the report tables are first built or a month
    is released (index-only scans need the visibility map); run outside a transaction. Nothing
    on SQLite."""
    if name == POSTGRESQL:
        return "VACUUM report_referral, report_need, report_count, report_duration"
    return None


# --- what each dialect can do ---------------------------------------------------


def has_percentile_cont(name: str) -> bool:
    """PostgreSQL has ``percentile_cont``; SQLite ranks with ``ROW_NUMBER()``
    (``percentiles_sql``)."""
    return name == POSTGRESQL


def hash_aggregates(name: str) -> bool:
    """PostgreSQL counts every group in one hash-aggregated pass; SQLite sorts, so it walks one
    ordered index per part instead (``INDEXED BY``)."""
    return name == POSTGRESQL


def lateral_limits(name: str) -> bool:
    """PostgreSQL lets LIMIT/OFFSET name an outer column (VALUES walked by LATERAL subqueries);
    SQLite does not, so it gets one subquery per rank."""
    return name == POSTGRESQL
