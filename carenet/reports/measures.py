"""The measures, each one SQL statement that aggregates in the database.

Every function takes a connection-bearing session and a ``ReportQuery`` and
returns small lists of aggregate rows (one per group): nothing here loads
needs, referrals or events into Python to count them.
"""

# ruff: noqa: S608  (SQL text is assembled from this package's own fragments; values are bound)

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import DateTime, bindparam, text
from sqlalchemy.orm import Session

from carenet.reports import sql
from carenet.reports.query import (
    NEEDS,
    REFERRALS,
    UNMET_AFTER_NO_REFERRAL,
    UNMET_AFTER_STILL_OPEN,
    ReportQuery,
    filter_sql,
    group_sql,
)

FINAL = ("completed", "rejected", "failed", "cancelled")
OPEN = ("requested", "accepted", "in-progress", "on-hold")
NOT_DELIVERED = ("rejected", "failed", "cancelled")
REASONED = ("rejected", "failed", "cancelled")
TIMESTAMPS = ("start", "end", "as_of", "d14", "d30")


def _in(values: tuple[str, ...]) -> str:
    return "(" + ", ".join(f"'{v}'" for v in values) + ")"


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


def _run(session: Session, statement: str, values: dict) -> list:
    clause = text(statement)
    typed = [bindparam(k, type_=DateTime(timezone=True)) for k in TIMESTAMPS if k in values]
    if typed:
        clause = clause.bindparams(*typed)
    values = {k: _utc(v) if isinstance(v, datetime) else v for k, v in values.items()}
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


def need_counts(session: Session, q: ReportQuery) -> list[NeedCounts]:
    """Needs identified in the range, split into met, unmet and still open, per group.

    Met: a referral for the need was completed. Unmet: not met, and every referral
    ended rejected/failed/cancelled, or no referral at all 14 days after the need
    was identified, or a referral still open 30 days after. Open: the rest.
    """
    dialect = session.get_bind().dialect.name
    key, label, group_join = group_sql(dialect, q, NEEDS)
    where, values, filter_join = filter_sql(dialect, q, NEEDS)
    as_of = _utc(q.as_of or datetime.now(UTC))
    values.update(
        as_of=as_of, d14=as_of - UNMET_AFTER_NO_REFERRAL, d30=as_of - UNMET_AFTER_STILL_OPEN
    )
    statement = f"""
        SELECT key, label, SUM(CASE WHEN state = 'met' THEN 1 ELSE 0 END),
               SUM(CASE WHEN state = 'unmet' THEN 1 ELSE 0 END),
               SUM(CASE WHEN state = 'open' THEN 1 ELSE 0 END)
        FROM (
          SELECT {key} AS key, {label} AS label,
            CASE WHEN rs.completed > 0 THEN 'met'
                 WHEN rs.total > 0 AND rs.still_open = 0 THEN 'unmet'
                 WHEN rs.total IS NULL AND n.created_at < :d14 THEN 'unmet'
                 WHEN rs.still_open > 0 AND n.created_at < :d30 THEN 'unmet'
                 ELSE 'open' END AS state
          FROM need n JOIN patient p ON p.id = n.patient_id
          {_joins(group_join, filter_join)}
          LEFT JOIN (
            SELECT need_id, COUNT(*) AS total,
                   SUM(CASE WHEN status = 'completed' THEN 1 ELSE 0 END) AS completed,
                   SUM(CASE WHEN status IN {_in(OPEN)} THEN 1 ELSE 0 END) AS still_open
            FROM referral WHERE need_id IS NOT NULL AND created_at >= :start
            GROUP BY need_id
          ) rs ON rs.need_id = n.id
          WHERE {" AND ".join(where)} AND n.created_at <= :as_of
        ) needs
        GROUP BY key, label ORDER BY key
    """
    rows = _run(session, statement, values)
    return [NeedCounts(str(r[0]), str(r[1]), int(r[2]), int(r[3]), int(r[4])) for r in rows]


def _referral_from(dialect: str, q: ReportQuery) -> tuple[str, str, str, str, dict]:
    key, label, group_join = group_sql(dialect, q, REFERRALS)
    where, values, filter_join = filter_sql(dialect, q, REFERRALS)
    joins = _joins(group_join, filter_join)
    return (
        key,
        label,
        f"referral r JOIN patient p ON p.id = r.patient_id {joins}",
        " AND ".join(where),
        values,
    )


def status_counts(session: Session, q: ReportQuery) -> list[tuple[str, str, str, int]]:
    """(key, label, status, referrals) for referrals sent in the range, per group."""
    dialect = session.get_bind().dialect.name
    key, label, source, where, values = _referral_from(dialect, q)
    statement = (
        f"SELECT {key}, {label}, r.status, COUNT(*) FROM {source} WHERE {where}"
        " GROUP BY 1, 2, 3 ORDER BY 1"
    )
    return [(str(a), str(b), str(c), int(d)) for a, b, c, d in _run(session, statement, values)]


def reason_counts(session: Session, q: ReportQuery) -> list[tuple[str, str, str, int]]:
    """(key, label, reason code, referrals) of referrals ended rejected, failed or cancelled."""
    dialect = session.get_bind().dialect.name
    key, label, source, where, values = _referral_from(dialect, q)
    statement = (
        f"SELECT {key}, {label}, COALESCE(r.status_reason, 'unknown'), COUNT(*) FROM {source}"
        f" WHERE {where} AND r.status IN {_in(REASONED)}"
        " GROUP BY 1, 2, 3 ORDER BY 1"
    )
    return [(str(a), str(b), str(c), int(d)) for a, b, c, d in _run(session, statement, values)]


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
    dialect = session.get_bind().dialect.name
    key, label, source, where, values = _referral_from(dialect, q)

    def since(statuses: str) -> str:
        first = f"MIN(CASE WHEN e.to_status IN ({statuses}) THEN e.occurred_at END)"
        return sql.seconds_between(dialect, "r.created_at", first)

    facts = f"""
        SELECT {key} AS grp, MAX({label}) AS label, r.id,
          CASE WHEN r.status IN {_in(FINAL)} THEN 1 ELSE 0 END AS closed,
          {since("'accepted', 'rejected'")} AS response,
          {since("'accepted'")} AS acceptance,
          {since("'completed'")} AS completion
        FROM {source}
        LEFT JOIN referral_event e ON e.referral_id = r.id
          AND e.to_status IN ('accepted', 'rejected', 'completed') AND e.occurred_at >= :start
        WHERE {where}
        GROUP BY 1, r.id, r.status, r.created_at
    """
    counts = "SELECT grp, MAX(label), COUNT(*), SUM(closed) FROM facts GROUP BY grp"
    if dialect == "postgresql":
        pcts = ", ".join(
            f"percentile_cont({p}) WITHIN GROUP (ORDER BY {m})" for m in TIMED for p in (0.5, 0.9)
        )
        statement = (
            f"WITH facts AS ({facts}) SELECT grp, MAX(label), COUNT(*), SUM(closed), {pcts}"
            " FROM facts GROUP BY grp ORDER BY grp"
        )
        rows = _run(session, statement, values)
        return [_timing(r[0], r[1], r[2], r[3], r[4:10]) for r in rows]
    parts = [counts] + [
        sql.percentiles_sql(dialect, f"(SELECT grp, {m} AS val FROM facts)", "grp", "val")
        for m in TIMED
    ]
    statement = f"WITH facts AS MATERIALIZED ({facts}) " + " UNION ALL ".join(
        f"SELECT {i} AS part, * FROM ({p})" for i, p in enumerate(parts)
    )
    by_group: dict[str, list] = {}
    for row in _run(session, statement, values):
        part, grp = row[0], str(row[1])
        entry = by_group.setdefault(grp, ["", 0, 0, [None] * 6])
        if part == 0:
            entry[0], entry[1], entry[2] = row[2], row[3], row[4]
        else:
            entry[3][(part - 1) * 2], entry[3][(part - 1) * 2 + 1] = row[3], row[4]
    return [_timing(g, e[0], e[1], e[2], e[3]) for g, e in sorted(by_group.items())]


def _timing(key, label, referrals, closed, p) -> Timing:  # type: ignore[no-untyped-def]
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
