"""The report tables, kept up to date from needs and referrals, incrementally.

``report_referral`` and ``report_need`` hold one narrow row per referral and per
need: domain, care organization, CBO, ZIP code, county, status, and the
durations from the referral's events. ``refresh`` upserts the rows of every
need and referral whose ``updated_at`` moved since the last refresh (every
workflow move stamps it), going back ``OVERLAP`` to catch transactions that
committed late; the first refresh builds everything. Reports call it first, so
they never show older data than the tables they are derived from; when nothing
changed it costs two index look-ups.

This is the one module of the reports that reads other domains' tables
(referral, referral_event, need, patient, organization): to build the report
tables, and for the few names and choices the pages show beside them.
"""

# ruff: noqa: S608  (SQL text is assembled from this package's own fragments; values are bound)

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import DateTime, bindparam, text
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import BindParameter

from carenet.db.retry import run_in_transaction
from carenet.reports.query import DELIVERED, FINAL, NOT_DELIVERED, OPEN, PERIODS, RESPONSES
from carenet.reports.store import sql
from carenet.reports.store.indexes import need_indexes, referral_indexes

OVERLAP = timedelta(minutes=10)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
FINAL_IN = sql.in_list(FINAL)  # the statuses as SQL lists: ('completed', 'rejected', …)
OPEN_IN = sql.in_list(OPEN)
NOT_DELIVERED_IN = sql.in_list(NOT_DELIVERED)
COUNTY = "COALESCE((SELECT pa.county || ', ' || pa.state FROM postcode_area pa" \
         " WHERE pa.postcode = substr(p.postal_code, 1, 5)), 'Unknown')"  # fmt: skip
ZIP = "COALESCE(substr(p.postal_code, 1, 5), 'Unknown')"


def _first(dialect: str, statuses: tuple[str, ...]) -> str:
    moment = (
        "(SELECT MIN(e.occurred_at) FROM referral_event e"
        f" WHERE e.referral_id = r.id AND e.to_status IN {sql.in_list(statuses)})"
    )
    return sql.seconds_between(dialect, "r.created_at", moment)


PERIOD_COLUMNS = "week_start, month_start, quarter_start"


def _periods(dialect: str, column: str) -> str:
    return ", ".join(sql.period_start(dialect, p, column) for p in PERIODS)


def _referral_upsert(dialect: str) -> str:
    return f"""
        INSERT INTO report_referral (referral_id, need_id, created_at, domain, care_org_id,
          cbo_id, zip5, county, status, closed, reason, response_s, acceptance_s, completion_s,
          {PERIOD_COLUMNS})
        SELECT r.id, r.need_id, r.created_at, r.category, r.sender_organization_id,
          r.recipient_organization_id, {ZIP}, {COUNTY}, r.status,
          CASE WHEN r.status IN {FINAL_IN} THEN 1 ELSE 0 END,
          CASE WHEN r.status IN {NOT_DELIVERED_IN} THEN COALESCE(r.status_reason, 'unknown') END,
          {_first(dialect, RESPONSES)},
          {_first(dialect, ("accepted",))},
          {_first(dialect, (DELIVERED,))},
          {_periods(dialect, "r.created_at")}
        FROM referral r JOIN patient p ON p.id = r.patient_id
        WHERE r.updated_at >= :since
        ON CONFLICT (referral_id) DO UPDATE SET
          need_id = excluded.need_id, domain = excluded.domain, zip5 = excluded.zip5,
          county = excluded.county, status = excluded.status, closed = excluded.closed,
          reason = excluded.reason, response_s = excluded.response_s,
          acceptance_s = excluded.acceptance_s, completion_s = excluded.completion_s
    """


CHANGED_NEEDS = (
    "SELECT id FROM need WHERE updated_at >= :since UNION"
    " SELECT need_id FROM referral WHERE updated_at >= :since AND need_id IS NOT NULL"
)


def _need_upsert(dialect: str, incremental: bool) -> str:
    only = f"need_id IN ({CHANGED_NEEDS})" if incremental else "need_id IS NOT NULL"
    return f"""
        INSERT INTO report_need (need_id, created_at, domain, care_org_id, zip5, county,
          referrals, completed, still_open, {PERIOD_COLUMNS})
        SELECT n.id, n.created_at, n.category, p.organization_id, {ZIP}, {COUNTY},
          COALESCE(rs.total, 0), COALESCE(rs.completed, 0), COALESCE(rs.still_open, 0),
          {_periods(dialect, "n.created_at")}
        FROM need n JOIN patient p ON p.id = n.patient_id
        LEFT JOIN (
          SELECT need_id, COUNT(*) AS total,
            SUM(CASE WHEN status = '{DELIVERED}' THEN 1 ELSE 0 END) AS completed,
            SUM(CASE WHEN status IN {OPEN_IN} THEN 1 ELSE 0 END) AS still_open
          FROM referral WHERE {only}
          GROUP BY need_id
        ) rs ON rs.need_id = n.id
        WHERE {f"n.id IN ({CHANGED_NEEDS})" if incremental else "1 = 1"}
        ON CONFLICT (need_id) DO UPDATE SET
          domain = excluded.domain, care_org_id = excluded.care_org_id, zip5 = excluded.zip5,
          county = excluded.county, referrals = excluded.referrals,
          completed = excluded.completed, still_open = excluded.still_open
    """


def refresh(session: Session) -> datetime:
    """Bring the report tables up to date; returns the mark. Commits when it wrote.

    The check reads; the upserts run in a writing transaction of their own
    (``run_in_transaction``: the write lock taken up front, retried when busy).
    """
    started = datetime.now(UTC)
    mark = _mark(session)
    stamp = bindparam("since", type_=DateTime(timezone=True))
    if mark is not None and not _changed(session, stamp, (mark - OVERLAP)):
        session.rollback()  # end the read; nothing to write
        return mark
    return run_in_transaction(
        lambda: _upsert(session, started),
        session=session,
        conflict="The report tables are being refreshed; try again in a moment.",
    )


def _mark(session: Session) -> datetime | None:
    mark = session.execute(
        text("SELECT refreshed_at FROM report_refresh WHERE name = 'facts'")
    ).scalar()
    if isinstance(mark, str):  # SQLite hands back text from raw SQL
        mark = datetime.fromisoformat(mark).replace(tzinfo=UTC)
    return mark


def _upsert(session: Session, started: datetime) -> datetime:
    dialect = sql.dialect(session)
    lock = sql.refresh_lock(dialect)  # one refresh at a time
    if lock:
        session.execute(text(lock))
    mark = _mark(session)  # again: another refresh may have run meanwhile
    since = (mark - OVERLAP) if mark else EPOCH
    stamp = bindparam("since", type_=DateTime(timezone=True))
    if mark is None:  # first build: fill the tables, then sort each index once
        dropped = _drop_report_indexes(session)
        session.execute(text(_referral_upsert(dialect)).bindparams(stamp), {"since": since})
        session.execute(text(_need_upsert(dialect, incremental=False)))
        for index in dropped:
            index.create(bind=session.connection())
    else:
        session.execute(text(_referral_upsert(dialect)).bindparams(stamp), {"since": since})
        session.execute(
            text(_need_upsert(dialect, incremental=True)).bindparams(stamp), {"since": since}
        )
    when = bindparam("at", type_=DateTime(timezone=True))
    session.execute(
        text(
            "INSERT INTO report_refresh (name, refreshed_at) VALUES ('facts', :at)"
            " ON CONFLICT (name) DO UPDATE SET refreshed_at = excluded.refreshed_at"
        ).bindparams(when),
        {"at": started},
    )
    return started  # run_in_transaction commits


def _drop_report_indexes(session: Session) -> list:
    """Drop the covering indexes of migration 0007 (kept up row by row they cost ~5x the build)."""
    from carenet.reports.store.models import ReportNeed, ReportReferral

    names = {i.name for i in referral_indexes() + need_indexes()}
    tables = (ReportReferral.__table__, ReportNeed.__table__)
    found = [
        i for t in tables for i in sorted(t.indexes, key=lambda i: str(i.name)) if i.name in names
    ]
    for index in found:
        index.drop(bind=session.connection())
    return found


def _changed(session: Session, stamp: BindParameter[datetime], since: datetime) -> bool:
    probe = text(
        "SELECT EXISTS (SELECT 1 FROM referral WHERE updated_at >= :since)"
        " OR EXISTS (SELECT 1 FROM need WHERE updated_at >= :since)"
    ).bindparams(stamp)
    return bool(session.execute(probe, {"since": since}).scalar())


# --- names and choices from other domains' tables, for the pages ------------------


def organization_names(session: Session, ids: list[str]) -> dict[str, str]:
    """Organization id → name, for the ids given (those found)."""
    if not ids:
        return {}
    names = ", ".join(f":o{i}" for i in range(len(ids)))
    rows = session.execute(
        text(f"SELECT id, name FROM organization WHERE id IN ({names})"),
        {f"o{i}": k for i, k in enumerate(ids)},
    )
    return {str(a): str(b) for a, b in rows}


def organizations(session: Session) -> list:
    """(id, name, kind) of every community and care organization, by name."""
    return list(
        session.execute(
            text(
                "SELECT id, name, kind FROM organization WHERE kind IN ('community', 'care')"
                " ORDER BY name"
            )  # fmt: skip
        ).all()
    )


def patient_counties(session: Session) -> list[str]:
    """The counties ("County, ST") where patients live, in order."""
    return list(
        session.execute(
            text(
                "SELECT DISTINCT pa.county || ', ' || pa.state FROM patient p"
                " JOIN postcode_area pa ON pa.postcode = substr(p.postal_code, 1, 5) ORDER BY 1"
            )
        ).scalars()
    )


def vacuum(session: Session) -> None:
    """What autovacuum does soon after the first build (PostgreSQL; nothing on SQLite)."""
    statement = sql.vacuum_statement(sql.dialect(session))
    if statement:
        engine = session.get_bind().engine  # the session's Engine, or its Connection's
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            c.execute(text(statement))
