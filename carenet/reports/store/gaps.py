"""Service gaps: the log of searches that found nothing, and its counts per domain and ZIP.

``record`` writes de-identified rows only: category, the SDOH
domain it maps to, the 5-digit ZIP code, the radius and the time — no user, no
session, no address and no point finer than the ZIP code.
"""

# ruff: noqa: S608  (SQL text is assembled from this package's own fragments; values are bound)

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import UTC, datetime

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from carenet.directory.taxonomy import category_for
from carenet.reports.query import ReportQuery
from carenet.reports.store.grouping import COUNTY_LABEL
from carenet.reports.store.measures import run
from carenet.reports.store.models import SearchGap


def record(
    session: Session,
    category_slugs: Iterable[str],
    postcode: str | None,
    radius_mi: float | None,
    at: datetime | None = None,
) -> int:
    """Log one search that found nothing: one row per category searched (one row if none).

    Commits its own rows; returns how many rows were written (0, logged, when the write
    failed: a lost log line must never break the search that found nothing).
    """
    try:
        return _record(session, category_slugs, postcode, radius_mi, at)
    except SQLAlchemyError:  # a lost log line must never break the search that found nothing
        session.rollback()
        logging.getLogger(__name__).exception("could not record a zero-result search")
        return 0


def _record(
    session: Session,
    category_slugs: Iterable[str],
    postcode: str | None,
    radius_mi: float | None,
    at: datetime | None,
) -> int:
    when = (at or datetime.now(UTC)).astimezone(UTC)
    zip5 = (postcode or "").strip()[:5] or None
    if zip5 is not None and not zip5.isdigit():
        zip5 = None
    radius = round(float(radius_mi), 1) if radius_mi is not None else None
    slugs: list[str | None] = list(dict.fromkeys(category_slugs)) or [None]
    for slug in slugs:
        category = category_for(slug) if slug else None
        session.add(
            SearchGap(
                category=slug,
                domain=category.sdoh_code if category else None,
                postcode=zip5,
                radius_mi=radius,
                searched_at=when,
            )
        )
    session.commit()
    return len(slugs)


def gap_counts(session: Session, q: ReportQuery) -> list[tuple[str, str, str, int]]:
    """(domain, ZIP, county, zero-result searches) in the range, filtered like the other reports."""
    where = ["g.searched_at >= :start", "g.searched_at < :end"]
    values: dict = {"start": q.start, "end": q.end}
    for column, value in (("g.domain", q.domain), ("g.postcode", q.zip)):
        if value:
            name = column.split(".")[1]
            where.append(f"{column} = :{name}")
            values[name] = value
    if q.county:
        where.append(f"{COUNTY_LABEL} = :county")
        values["county"] = q.county
    statement = f"""
        SELECT COALESCE(g.domain, 'any'), COALESCE(g.postcode, 'Unknown'), {COUNTY_LABEL}, COUNT(*)
        FROM search_gap g LEFT JOIN postcode_area pa ON pa.postcode = g.postcode
        WHERE {" AND ".join(where)}
        GROUP BY COALESCE(g.domain, 'any'), COALESCE(g.postcode, 'Unknown'), {COUNTY_LABEL}
    """
    return [(str(a), str(b), str(c), int(d)) for a, b, c, d in run(session, statement, values)]


def counties(session: Session, postcodes: set[str]) -> dict[str, str]:
    """ZIP code → "County, ST" (from ``postcode_area``), for the ZIP codes given that it knows."""
    if not postcodes:
        return {}
    names = ", ".join(f":z{i}" for i in range(len(postcodes)))
    values = {f"z{i}": z for i, z in enumerate(sorted(postcodes))}
    rows = session.execute(
        text(
            "SELECT postcode, county || ', ' || state FROM postcode_area"
            f" WHERE postcode IN ({names})"
        ),
        values,
    )
    return {str(a): str(b) for a, b in rows}
