"""Released months: a month's finest counts; the frozen releases (report_period, report_count).

``finest_rows`` reads one calendar month of a family at its finest detail (one
row per combination of dimensions and status) from the report tables;
``save`` stores a release once (a concurrent release of the same month keeps
the first), ``load`` reads the views a report needs for a list of months.
"""

# ruff: noqa: S608  (SQL text is assembled from this package's own fragments; values are bound)

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from carenet.db import bulk
from carenet.db.types import as_utc
from carenet.reports.query import FINAL, NOT_DELIVERED, ReportQuery
from carenet.reports.store import facts, gaps, sql
from carenet.reports.store.measures import NEED_STATE, need_windows, run
from carenet.reports.store.models import (
    ReportCount,
    ReportNeed,
    ReportPeriod,
    ReportReferral,
    SearchGap,
)

Row = tuple[dict[str, str], dict[str, int]]
STATES = {0: "open", 1: "met", 2: "unmet"}


def finest_rows(session: Session, family: str, start: datetime, end: datetime,
                as_of: datetime) -> list[Row]:  # fmt: skip
    """The month's counts of ``family`` at their finest detail: (dimension values, counts)."""
    facts.refresh(session)
    values = {"start": start, "end": end}
    if family == "need":
        values.update(need_windows(as_of))
        statement = f"""
            SELECT f.domain, f.zip5, f.county, f.care_org_id, {NEED_STATE}, COUNT(*)
            FROM report_need f
            WHERE f.created_at >= :start AND f.created_at < :end AND f.created_at <= :as_of
            GROUP BY f.domain, f.zip5, f.county, f.care_org_id, {NEED_STATE}
        """
        return [
            (dict(domain=d, zip=z, county=c, care_org=o), {STATES[int(s)]: int(n), "all": int(n)})
            for d, z, c, o, s, n in run(session, statement, values)
        ]
    if family == "referral":
        statement = """
            SELECT f.domain, f.zip5, f.county, f.care_org_id, f.cbo_id, f.status, f.reason,
              COUNT(*)
            FROM report_referral f WHERE f.created_at >= :start AND f.created_at < :end
            GROUP BY f.domain, f.zip5, f.county, f.care_org_id, f.cbo_id, f.status, f.reason
        """
        return [
            (dict(domain=d, zip=z, county=c, care_org=o, cbo=b), _referral_counts(s, r, int(n)))
            for d, z, c, o, b, s, r, n in run(session, statement, values)
        ]
    q = ReportQuery(start=start, end=end)
    return [
        (dict(domain=d, zip=z, county=c), {"n": n}) for d, z, c, n in gaps.gap_counts(session, q)
    ]


COLUMN = {"domain": "f.domain", "zip": "f.zip5", "county": "f.county",
          "care_org": "f.care_org_id", "cbo": "f.cbo_id"}  # fmt: skip
ViewRow = tuple[tuple[str, ...], dict[str, int]]


def view_rows(session: Session, family: str, view: tuple[str, ...], start: datetime,
              end: datetime, as_of: datetime) -> list[ViewRow]:  # fmt: skip
    """The month's counts of ``family`` summed over one view in the database (one
    ``GROUP BY`` per view; no row per need or referral reaches Python): (the view's
    dimension values, measure counts). Zero-result searches are few: summed from
    ``finest_rows``."""
    width = len(view)
    if family == "search":
        summed: dict[tuple[str, ...], int] = {}
        for dims, counts in finest_rows(session, family, start, end, as_of):
            key = tuple(dims[d] for d in view)
            summed[key] = summed.get(key, 0) + counts["n"]
        return [(k, {"n": n}) for k, n in summed.items()]
    columns = [COLUMN[d] for d in view]
    values = {"start": start, "end": end}
    if family == "need":
        values.update(need_windows(as_of))
        group = ", ".join([*columns, NEED_STATE])
        statement = f"""
            SELECT {", ".join([*columns, NEED_STATE, "COUNT(*)"])} FROM report_need f
            WHERE f.created_at >= :start AND f.created_at < :end AND f.created_at <= :as_of
            GROUP BY {group}
        """
        return [
            (tuple(row[:width]), {STATES[int(row[width])]: int(row[-1]), "all": int(row[-1])})
            for row in run(session, statement, values)
        ]
    group = ", ".join([*columns, "f.status", "f.reason"])
    statement = f"""
        SELECT {group}, COUNT(*) FROM report_referral f
        WHERE f.created_at >= :start AND f.created_at < :end
        GROUP BY {group}
    """
    return [
        (tuple(row[:width]), _referral_counts(row[width], row[width + 1], int(row[-1])))
        for row in run(session, statement, values)
    ]


def zip_counties(session: Session, family: str, start: datetime, end: datetime) -> dict:
    """ZIP code → county as the month's rows of ``family`` carry them (for the cube's lines)."""
    if family == "search":
        q = ReportQuery(start=start, end=end)
        return {z: c for _, z, c, _ in gaps.gap_counts(session, q)}
    table = "report_need" if family == "need" else "report_referral"
    statement = f"""
        SELECT f.zip5, MAX(f.county) FROM {table} f
        WHERE f.created_at >= :start AND f.created_at < :end GROUP BY f.zip5
    """
    return {str(z): str(c) for z, c in run(session, statement, {"start": start, "end": end})}


def _referral_counts(status: str, reason: str | None, n: int) -> dict[str, int]:
    counts = {"all": n, f"s:{status}": n}
    if status in FINAL:
        counts["closed"] = n
    if status in NOT_DELIVERED:
        counts["nd"] = n
        counts[f"r:{reason or 'unknown'}"] = n
    return counts


def released(session: Session, months: Iterable[date]) -> set[date]:
    """Which of ``months`` have been released already."""
    wanted = list(months)
    if not wanted:
        return set()
    found = session.scalars(
        select(ReportPeriod.period_start).where(ReportPeriod.period_start.in_(wanted))
    )
    return set(found)


def first(session: Session) -> date | None:
    """The first released month, if any (months before it had no data when releases began)."""
    return session.scalar(select(func.min(ReportPeriod.period_start)))


def first_data(session: Session) -> datetime | None:
    """When the first need, referral or zero-result search of the report tables happened."""
    found = [
        session.scalar(select(func.min(column)))
        for column in (ReportNeed.created_at, ReportReferral.created_at, SearchGap.searched_at)
    ]
    moments = [as_utc(m) for m in found if m is not None]
    return min(moments) if moments else None


COLUMNS = ("family", "view", "period_start", "d1", "d2", "measure", "value", "mark")


def save(session: Session, month: date, views: dict[tuple[str, str], list]) -> bool:
    """Store one month's release ((family, view) → entries) as one row per count.

    The month's ``report_period`` row is inserted first: when it exists already
    (a concurrent release won), nothing is written and False is returned.
    """
    insert = pg_insert if sql.dialect(session) == sql.POSTGRESQL else sqlite_insert
    claimed = session.execute(
        insert(ReportPeriod)
        .values(period_start=month, released_at=datetime.now(UTC))
        .on_conflict_do_nothing()
    )
    if not getattr(claimed, "rowcount", 1):
        return False
    rows = [
        (family, view, month, *([*values, "", ""][:2]), measure, value, mark)
        for (family, view), entries in views.items()
        for values, measure, value, mark in entries
    ]
    conn = session.connection()
    if bulk.can_copy(conn):
        bulk.copy_rows(conn, "report_count", COLUMNS, rows)
        return True
    table = ReportCount.__table__
    for i in range(0, len(rows), 50_000):
        session.execute(
            table.insert(), [dict(zip(COLUMNS, row, strict=True)) for row in rows[i : i + 50_000]]
        )
    return True


Stored = tuple[date, tuple[str, ...], str, int | None, str | None]


def load(session: Session, months: list[date], family: str, view: tuple[str, ...],
         where: tuple[str, str] | None = None) -> list[Stored]:  # fmt: skip
    """The stored counts of one view of one family in ``months``, optionally only those whose
    dimension ``where[0]`` has the value ``where[1]``: (month, values, measure, value, mark)."""
    c = ReportCount
    statement = select(c.period_start, c.d1, c.d2, c.measure, c.value, c.mark).where(
        c.family == family, c.view == ",".join(view), c.period_start.in_(months)
    )
    if where is not None and where[0] in view:
        column = c.d1 if view.index(where[0]) == 0 else c.d2
        statement = statement.where(column == where[1])
    width = len(view)
    return [
        (month, (d1, d2)[:width], measure, value, mark)
        for month, d1, d2, measure, value, mark in session.connection().execute(statement).all()
    ]


Summed = tuple[tuple[str, ...], str, int, int, str | None, int]


def load_window(session: Session, months: list[date], family: str, view: tuple[str, ...],
                where: tuple[str, str] | None = None,
                measures: tuple[str, ...] | None = None) -> list[Summed]:  # fmt: skip
    """Each count of one view over ``months`` at once: (values, measure, the sum of its shown
    months, how many months hide it, a marker of those, how many months are stored); only
    ``measures`` when given."""
    c = ReportCount
    statement = select(
        c.d1, c.d2, c.measure, func.coalesce(func.sum(c.value), 0), func.count(c.mark),
        func.max(c.mark), func.count(),
    ).where(c.family == family, c.view == ",".join(view), c.period_start.in_(months))  # fmt: skip
    if where is not None and where[0] in view:
        column = c.d1 if view.index(where[0]) == 0 else c.d2
        statement = statement.where(column == where[1])
    if measures is not None:
        statement = statement.where(c.measure.in_(measures))
    statement = statement.group_by(c.d1, c.d2, c.measure)
    width = len(view)
    found = session.connection().execute(statement).all()  # Core rows: no ORM loading
    return [
        ((d1, d2)[:width], measure, int(total), int(hidden), mark, int(stored))
        for d1, d2, measure, total, hidden, mark, stored in found
    ]
