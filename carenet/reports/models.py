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

from datetime import datetime

from sqlalchemy import Column, DateTime, Float, Index, Integer, MetaData, String, Table
from sqlalchemy.orm import Mapped, mapped_column

from carenet.db.types import utcnow
from carenet.extensions import db

reference_metadata = MetaData()

postcode_area = Table(
    "postcode_area",
    reference_metadata,
    Column("postcode", String(5), primary_key=True),
    Column("county", String(128), nullable=False),
    Column("state", String(2), nullable=False),
)


class SearchGap(db.Model):
    """A search (for one category) that found no service: what, where, how far, when."""

    __tablename__ = "search_gap"
    __table_args__ = (Index("ix_search_gap_searched_at", "searched_at", "domain", "postcode"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    category: Mapped[str | None] = mapped_column(String(64))  # carenet category slug
    domain: Mapped[str | None] = mapped_column(String(64))  # its SDOH category code
    postcode: Mapped[str | None] = mapped_column(String(5))
    radius_mi: Mapped[float | None] = mapped_column(Float)
    searched_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
