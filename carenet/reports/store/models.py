"""Tables of the reports domain.

``search_gap``: one de-identified row per category of a directory search that
found nothing — category, ZIP code, radius and time; never a user, a session, an
address or a point finer than the ZIP code.

``postcode_area``: US ZIP code → county and state, reference data loaded by
migration 0005 from the ``zipcodes`` package, so reports group by county in SQL.
It lives outside the models' metadata on purpose: it is reference data that
test clean-ups (which truncate every model table) must not empty.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Column,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
)
from sqlalchemy.orm import Mapped, mapped_column

from carenet.db.types import UTCDateTime, utcnow
from carenet.extensions import Model
from carenet.reports.store.indexes import need_indexes, referral_indexes

reference_metadata = MetaData()

postcode_area = Table(
    "postcode_area",
    reference_metadata,
    Column("postcode", String(5), primary_key=True),
    Column("county", String(128), nullable=False),
    Column("state", String(2), nullable=False),
)


class SearchGap(Model):
    """A search (for one category) that found no service: what, where, how far, when."""

    __tablename__ = "search_gap"
    __table_args__ = (Index("ix_search_gap_searched_at", "searched_at", "domain", "postcode"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    category: Mapped[str | None] = mapped_column(String(64))  # carenet category slug
    domain: Mapped[str | None] = mapped_column(String(64))  # its SDOH category code
    postcode: Mapped[str | None] = mapped_column(String(5))
    radius_mi: Mapped[float | None] = mapped_column(Float)
    searched_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ReportNeed(Model):
    """One row per need, shaped for the reports: domain, place, and how its referrals stand.

    Derived from need, patient and referral by ``facts.refresh`` (incremental on
    ``updated_at``), so reports read one narrow table instead of joining four.
    """

    __tablename__ = "report_need"
    __table_args__ = (Index("ix_report_need_created", "created_at", "domain"), *need_indexes())

    need_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("need.id", ondelete="CASCADE"), primary_key=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    domain: Mapped[str] = mapped_column(String(64))
    care_org_id: Mapped[str] = mapped_column(String(64))
    zip5: Mapped[str] = mapped_column(String(5))
    county: Mapped[str] = mapped_column(String(140))
    referrals: Mapped[int] = mapped_column(Integer)
    completed: Mapped[int] = mapped_column(Integer)
    still_open: Mapped[int] = mapped_column(Integer)
    week_start: Mapped[date] = mapped_column(Date)  # periods of created_at, precomputed
    month_start: Mapped[date] = mapped_column(Date)
    quarter_start: Mapped[date] = mapped_column(Date)


class ReportReferral(Model):
    """One row per referral for the reports: where it went, where it stands, how long it took."""

    __tablename__ = "report_referral"
    __table_args__ = (
        Index("ix_report_referral_created", "created_at", "domain"),
        *referral_indexes(),
    )

    referral_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("referral.id", ondelete="CASCADE"), primary_key=True
    )
    need_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    domain: Mapped[str] = mapped_column(String(64))
    care_org_id: Mapped[str] = mapped_column(String(64))
    cbo_id: Mapped[str] = mapped_column(String(64))
    zip5: Mapped[str] = mapped_column(String(5))
    county: Mapped[str] = mapped_column(String(140))
    status: Mapped[str] = mapped_column(String(16))
    closed: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str | None] = mapped_column(String(32))
    response_s: Mapped[float | None] = mapped_column(Float)
    acceptance_s: Mapped[float | None] = mapped_column(Float)
    completion_s: Mapped[float | None] = mapped_column(Float)
    week_start: Mapped[date] = mapped_column(Date)
    month_start: Mapped[date] = mapped_column(Date)
    quarter_start: Mapped[date] = mapped_column(Date)


class ReportRefresh(Model):
    """How far the report tables have been brought up to date (one row per table)."""

    __tablename__ = "report_refresh"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    refreshed_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ReportPeriod(Model):
    """A released calendar month: released once (``carenet reports release``), frozen."""

    __tablename__ = "report_period"

    period_start: Mapped[date] = mapped_column(Date, primary_key=True)
    released_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ReportCount(Model):
    """One released count of one calendar month, suppressed once over every view, frozen.

    ``family`` (need, referral, search), ``view`` (the dimensions the count is
    restricted to, joined by commas: "" for the whole month), ``d1``/``d2`` the
    values of those dimensions in the view's order ("" when absent), ``measure``;
    a hidden count has no ``value`` and its ``mark`` (small, complementary), so
    the table holds only what may be published. Zero counts are not stored. The
    primary key leads with (family, view, period, first value) and the second
    index with (family, view, period, second value): a report reads only the
    rows its table shows, filtered or not.
    """

    __tablename__ = "report_count"
    __table_args__ = (Index("ix_report_count_d2", "family", "view", "period_start", "d2"),)

    family: Mapped[str] = mapped_column(String(16), primary_key=True)
    view: Mapped[str] = mapped_column(String(32), primary_key=True)
    period_start: Mapped[date] = mapped_column(Date, primary_key=True)
    d1: Mapped[str] = mapped_column(String(128), primary_key=True)
    d2: Mapped[str] = mapped_column(String(128), primary_key=True)
    measure: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[int | None] = mapped_column(Integer)
    mark: Mapped[str | None] = mapped_column(String(16))


class ReportDuration(Model):
    """A released month's durations in one cell of one referral view, as a histogram.

    Per ``view`` (as in ``report_count``), month and cell (``d1``/``d2``) whose
    referral count is shown, and per ``measure`` (response, acceptance,
    completion): how many referrals (``n``) took a duration in ``bucket`` — the
    duration's natural logarithm in seconds times ``durations.STEPS``, rounded
    (a geometric grid; ``store/durations.py``). Time-to-close reads its medians and
    90th percentiles from these rows (migration 0020).
    """

    __tablename__ = "report_duration"
    __table_args__ = (
        Index("ix_report_duration_cell", "view", "d1", "d2", "measure", "bucket",
              "period_start", "n"),
        Index("ix_report_duration_d2", "view", "d2", "d1", "measure", "bucket",
              "period_start", "n"),
    )  # fmt: skip

    view: Mapped[str] = mapped_column(String(32), primary_key=True)
    period_start: Mapped[date] = mapped_column(Date, primary_key=True)
    d1: Mapped[str] = mapped_column(String(128), primary_key=True)
    d2: Mapped[str] = mapped_column(String(128), primary_key=True)
    measure: Mapped[str] = mapped_column(String(16), primary_key=True)
    bucket: Mapped[int] = mapped_column(Integer, primary_key=True)
    n: Mapped[int] = mapped_column(Integer)
