"""Released months: the finest counts of a month, and the frozen releases (report_release).

``finest_rows`` reads one calendar month of a family at its finest detail (one
row per combination of dimensions and status) from the report tables;
``save`` stores a release once (a concurrent release of the same month keeps
the first), ``load`` reads the views a report needs for a list of months.
"""

# ruff: noqa: S608  (SQL text is assembled from this package's own fragments; values are bound)

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from carenet.reports.query import FINAL, NOT_DELIVERED, ReportQuery
from carenet.reports.store import facts, gaps, sql
from carenet.reports.store.measures import NEED_STATE, need_windows, run
from carenet.reports.store.models import ReportRelease

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
        select(ReportRelease.period_start).where(ReportRelease.period_start.in_(wanted)).distinct()
    )
    return set(found)


def save(session: Session, month: date, views: dict[tuple[str, str], list]) -> None:
    """Store one month's release ((family, view) → entries); an existing release is kept."""
    rows = [
        {"period_start": month, "family": family, "view": view, "body": json.dumps(entries),
         "released_at": datetime.now().astimezone()}
        for (family, view), entries in views.items()
    ]  # fmt: skip
    if not rows:
        return
    insert = pg_insert if sql.dialect(session) == sql.POSTGRESQL else sqlite_insert
    statement = insert(ReportRelease).values(rows).on_conflict_do_nothing()
    session.execute(statement)


def load(session: Session, months: list[date], family: str, view: str) -> dict[date, list]:
    """The stored entries of one view of one family, per month (months not released: absent)."""
    found = session.execute(
        select(ReportRelease.period_start, ReportRelease.body).where(
            ReportRelease.period_start.in_(months),
            ReportRelease.family == family,
            ReportRelease.view == view,
        )
    )
    return {month: json.loads(body) for month, body in found}
