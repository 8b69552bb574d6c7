"""The measures: SQL statements that aggregate in the database.

Every function takes a connection-bearing session and a ``ReportQuery`` and
returns small lists of aggregate rows (one per group): nothing here loads
needs, referrals or events into Python to count or rank them. Count reports are
one statement; duration percentiles read ordered indexes (``percentiles``).
"""

# ruff: noqa: S608  (SQL text is assembled from this package's own fragments; values are bound)

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import SupportsFloat, SupportsInt

from sqlalchemy import DateTime, bindparam, text
from sqlalchemy.orm import Session

from carenet.db.types import as_utc
from carenet.referrals.models import REFERRAL_STATUSES
from carenet.reports.query import PAIRS, ReportQuery
from carenet.reports.store import facts, indexes, percentiles, sql
from carenet.reports.store.grouping import NEEDS, REFERRALS, filter_sql, group_sql

UNMET_AFTER_NO_REFERRAL = timedelta(days=14)
UNMET_AFTER_STILL_OPEN = timedelta(days=30)
STATUSES = REFERRAL_STATUSES  # what the referral's CHECK constraint allows
TIMESTAMPS = ("start", "end", "as_of", "d14", "d30")


def run(session: Session, statement: str, values: dict) -> list:
    """Execute ``statement`` with ``values`` (the named timestamps bound as UTC); all rows."""
    clause = text(statement)
    typed = [bindparam(k, type_=DateTime(timezone=True)) for k in TIMESTAMPS if k in values]
    if typed:
        clause = clause.bindparams(*typed)
    values = {k: as_utc(v) if isinstance(v, datetime) else v for k, v in values.items()}
    return list(session.execute(clause, values).all())


def _joins(*parts: str) -> str:
    seen: list[str] = []
    for part in parts:
        if part and part not in seen:
            seen.append(part)
    return " ".join(seen)


@dataclass(frozen=True)
class NeedCounts:
    key: str
    label: str
    met: int
    unmet: int
    open: int

    @property
    def identified(self) -> int:
        return self.met + self.unmet + self.open


# a need's state as of :as_of: 1 met, 2 unmet, 0 still open (within the 14 / 30 days)
NEED_STATE = (
    "CASE WHEN f.completed > 0 THEN 1"
    " WHEN f.referrals > 0 AND f.still_open = 0 THEN 2"
    " WHEN f.referrals = 0 AND f.created_at < :d14 THEN 2"
    " WHEN f.still_open > 0 AND f.created_at < :d30 THEN 2"
    " ELSE 0 END"
)


def need_windows(as_of: datetime) -> dict[str, datetime]:
    """The bound values NEED_STATE reads: now, and the 14- and 30-day marks before it."""
    moment = as_utc(as_of)
    return {
        "as_of": moment,
        "d14": moment - UNMET_AFTER_NO_REFERRAL,
        "d30": moment - UNMET_AFTER_STILL_OPEN,
    }


def need_counts(session: Session, q: ReportQuery) -> list[NeedCounts]:
    """Needs identified in the range, split into met, unmet and still open, per group.

    Met: a referral for the need was completed. Unmet: not met, and every referral
    ended rejected/failed/cancelled, or no referral at all 14 days after the need
    was identified, or a referral still open 30 days after. Open: the rest.
    """
    facts.refresh(session)
    if q.group_by in PAIRS:  # group on both columns; join them on the few result rows
        first = group_sql(replace(q, group_by=PAIRS[q.group_by][0]), NEEDS)
        second = group_sql(replace(q, group_by=PAIRS[q.group_by][1]), NEEDS)
        keys, group_join = [first[0], second[0]], _joins(first[2], second[2])
    else:
        key, _, group_join = group_sql(q, NEEDS)
        keys = [key]
    where, values, filter_join = filter_sql(q, NEEDS)
    values.update(need_windows(q.as_of or datetime.now(UTC)))
    names = [f"k{i}" for i in range(len(keys))]
    joined = " || '|' || ".join(names)
    if q.group_by == "none":
        joined = f"MAX({joined})"  # one row without GROUP BY
    statement = f"""
        SELECT {joined}, {joined}, SUM(CASE WHEN state = 1 THEN 1 ELSE 0 END),
               SUM(CASE WHEN state = 2 THEN 1 ELSE 0 END),
               SUM(CASE WHEN state = 0 THEN 1 ELSE 0 END)
        FROM (
          SELECT {", ".join(f"{k} AS {n}" for k, n in zip(keys, names, strict=True))},
            {NEED_STATE} AS state
          FROM report_need f {_joins(group_join, filter_join)}
          WHERE {" AND ".join(where)} AND f.created_at <= :as_of
        ) needs
        {_group_by(q, names)}
    """
    rows = [r for r in run(session, statement, values) if r[2] is not None]  # none: no rows
    return [NeedCounts(str(r[0]), str(r[1]), int(r[2]), int(r[3]), int(r[4])) for r in rows]


def _group_by(q: ReportQuery, columns: list[str]) -> str:
    """GROUP BY the group key, nothing for ``none``: SQLite would sort every row on a constant."""
    if q.group_by == "none":
        return ""
    return f"GROUP BY {', '.join(columns)} ORDER BY {', '.join(columns)}"


def _referral_from(q: ReportQuery) -> tuple[str, str, str, str, dict]:
    key, label, group_join = group_sql(q, REFERRALS)
    where, values, filter_join = filter_sql(q, REFERRALS)
    joins = _joins(group_join, filter_join)
    return (
        key,
        label,
        f"report_referral f {joins}",
        " AND ".join(where),
        values,
    )


def status_counts(session: Session, q: ReportQuery) -> list[tuple[str, str, str, int]]:
    """(key, label, status, referrals) for referrals sent in the range, per group."""
    facts.refresh(session)
    key, label, source, where, values = _referral_from(q)
    # one row per group with a count per status: SQLite reads (key, …, status) indexes in
    # key order instead of sorting every referral by (key, status)
    per_status = ", ".join(
        f"SUM(CASE WHEN f.status = '{s}' THEN 1 ELSE 0 END)" for s in STATUSES
    )  # fmt: skip
    statement = (
        f"SELECT MAX({key}), MAX({label}), {per_status} FROM {source} WHERE {where}"
        f" {_group_by(q, [key])}"
    )
    return [
        (str(row[0]), str(row[1]), status, int(n))
        for row in run(session, statement, values)
        for status, n in zip(STATUSES, row[2:], strict=True)
        if n
    ]


def reason_counts(session: Session, q: ReportQuery) -> list[tuple[str, str, str, int]]:
    """(key, label, reason code, referrals) of referrals ended rejected, failed or cancelled."""
    facts.refresh(session)
    key, label, source, where, values = _referral_from(q)
    statement = (
        f"SELECT MAX({key}), MAX({label}), f.reason, COUNT(*) FROM {source}"
        f" WHERE {where} AND f.reason IS NOT NULL"
        f" {'GROUP BY f.reason' if q.group_by == 'none' else f'GROUP BY {key}, f.reason'}"
    )
    return [(str(a), str(b), str(c), int(d)) for a, b, c, d in run(session, statement, values)]


@dataclass(frozen=True)
class Timing:
    """Per group: referrals, how many reached a final state, and duration percentiles (s)."""

    key: str
    label: str
    referrals: int
    closed: int
    response: tuple[float | None, float | None]  # (median, 90th percentile)
    acceptance: tuple[float | None, float | None]
    completion: tuple[float | None, float | None]


TIMED = ("response", "acceptance", "completion")


def timings(session: Session, q: ReportQuery) -> list[Timing]:
    """Closed-loop counts and median / p90 seconds to first response, acceptance, completion.

    First response: the first move of the CBO (accepted or rejected). Acceptance:
    the first ``accepted`` event. Completion: the ``completed`` event. Durations
    count from the referral's creation; percentiles interpolate linearly.
    """
    facts.refresh(session)
    dialect = sql.dialect(session)
    keys = indexes.key_columns(q.group_by, q.period)
    if keys is not None and not _filtered(q) and _walkable(session, dialect):
        # ordered indexes; see percentiles.py
        found = percentiles.index_timings(session, q.start, q.end, keys, run)
        return [_timing(*row[:4], row[4]) for row in found]
    key, label, source, where, values = _referral_from(q)

    if q.group_by != "period":
        key = sql.byte_order(dialect, key)
    per_referral = f"""
        SELECT {key} AS grp, {label} AS label, f.closed, f.response_s AS response,
          f.acceptance_s AS acceptance, f.completion_s AS completion
        FROM {source} WHERE {where}
    """
    if sql.has_percentile_cont(dialect):
        session.execute(text(sql.sort_memory(dialect)))  # sort the durations in memory
        pcts = ", ".join(
            f"percentile_cont(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY {m})" for m in TIMED
        )  # one sort per measure gives both percentiles
        statement = (
            f"WITH facts AS ({per_referral}) SELECT grp, MAX(label), COUNT(*), SUM(closed), {pcts}"
            " FROM facts GROUP BY grp ORDER BY grp"
        )
        rows = [
            (*r[:4], *[v for pair in r[4:7] for v in (pair or (None, None))])
            for r in run(session, statement, values)
        ]
        return [_timing(r[0], r[1], r[2], r[3], r[4:10]) for r in rows]
    counts = (  # the filtered rows read once, then counted and ranked per measure
        f"facts AS MATERIALIZED ({per_referral}),"
        " counts AS MATERIALIZED (SELECT grp, MAX(label) AS label, COUNT(*) AS n,"
        " SUM(closed) AS closed, COUNT(response) AS n1, COUNT(acceptance) AS n2,"
        " COUNT(completion) AS n3 FROM facts x GROUP BY grp)"
    )
    parts = ["SELECT grp, label, n, closed FROM counts"] + [
        sql.percentiles_sql(dialect, f"(SELECT grp, {m} AS val FROM facts y)", "counts", f"n{i}")
        for i, m in enumerate(TIMED, start=1)
    ]
    statement = f"WITH {counts} " + " UNION ALL ".join(
        f"SELECT {i} AS part, * FROM ({p})" for i, p in enumerate(parts)
    )
    by_group: dict[str, list] = {}
    for row in run(session, statement, values):
        part, grp = row[0], str(row[1])
        entry = by_group.setdefault(grp, ["", 0, 0, [None] * 6])
        if part == 0:
            entry[0], entry[1], entry[2] = row[2], row[3], row[4]
        else:
            entry[3][(part - 1) * 2], entry[3][(part - 1) * 2 + 1] = row[3], row[4]
    return [_timing(g, e[0], e[1], e[2], e[3]) for g, e in sorted(by_group.items())]


def _walkable(session: Session, dialect: str) -> bool:
    """Whether walking the indexes is the cheaper way to the percentiles.

    Always on SQLite. On PostgreSQL only once VACUUM (autovacuum, soon after the
    first build) has marked most pages all-visible: before that every index
    entry stepped over costs a visit to the table, and ``percentile_cont`` is
    faster (measured: 1.1-1.9 s against 0.6-1.0 s at a million referrals).
    """
    probe = sql.all_visible_probe(dialect)
    if probe is None:
        return True
    return bool(session.execute(text(probe)).scalar())


def _filtered(q: ReportQuery) -> bool:
    return any((q.domain, q.county, q.zip, q.cbo, q.care_org))


def _timing(
    key: object,
    label: object,
    referrals: SupportsInt,
    closed: SupportsInt | None,
    p: Sequence[SupportsFloat | None],
) -> Timing:
    """A ``Timing`` from one group's row: counts and the 6 percentiles as the driver gave them."""
    f = [None if v is None else float(v) for v in p]
    return Timing(
        str(key),
        str(label),
        int(referrals),
        int(closed or 0),
        (f[0], f[1]),
        (f[2], f[3]),
        (f[4], f[5]),
    )
