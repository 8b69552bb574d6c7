"""Marshmallow schemas: report parameters in, report tables out."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from marshmallow import Schema, ValidationError, fields, post_load, validate, validates_schema

from carenet.reports.query import GROUPS, PAIRS, RELEASE_PERIODS, ReportQuery
from carenet.reports.suppression import DISPLAY, MARKS
from carenet.validation import Date

DEFAULT_DAYS = 365
MAX_DAYS = 3 * 366


class ReportArgs(Schema):
    """``from`` and ``to`` are dates (``to`` included); both default to the last 365 days."""

    from_ = Date(data_key="from", load_default=None)
    to = Date(load_default=None)
    group_by = fields.String(load_default="domain", validate=validate.OneOf([*GROUPS, *PAIRS]))
    period = fields.String(load_default="month", validate=validate.OneOf(RELEASE_PERIODS))
    domain = fields.String(load_default=None, validate=validate.Length(min=1, max=64))
    county = fields.String(load_default=None, validate=validate.Length(min=1, max=140))
    zip = fields.String(
        load_default=None, validate=validate.Regexp(r"^\d{5}$", error="A 5-digit ZIP code.")
    )
    cbo = fields.String(load_default=None, validate=validate.Length(min=1, max=64))
    care_org = fields.String(load_default=None, validate=validate.Length(min=1, max=64))

    @validates_schema
    def _range(self, data: dict[str, Any], **_: Any) -> None:
        start, end = data.get("from_"), data.get("to")
        if start and end and start > end:
            raise ValidationError("Must not be after 'to'.", "from")
        if start and end and (end - start).days > MAX_DAYS:
            raise ValidationError(f"At most {MAX_DAYS} days.", "from")

    @post_load
    def _query(self, data: dict[str, Any], **_: Any) -> ReportQuery:
        today = datetime.now(UTC).date()
        last: date = data.pop("to") or today
        first: date = data.pop("from_") or last - timedelta(days=DEFAULT_DAYS - 1)
        return ReportQuery(
            start=datetime.combine(first, time(), tzinfo=UTC),
            end=datetime.combine(last + timedelta(days=1), time(), tzinfo=UTC),
            **data,
        )


def args_from(query: Any) -> dict[str, str]:
    """Single-valued query arguments (the last value wins), empty ones dropped."""
    return {k: v for k, v in query.items() if v != ""}


def _cell(text: str) -> dict[str, Any]:
    """One display string as JSON: its number (or text), or null and why it is hidden."""
    if text in MARKS:
        return {"value": None, "suppressed": MARKS[text]}
    try:
        number: Any = int(text)
    except ValueError:
        try:
            number = float(text)
        except ValueError:
            number = None if text in ("—", "") else text
    return {"value": number, "suppressed": None}


class ReportTableOut(Schema):
    """A report as JSON: the same display strings the page and the CSV show, and each cell
    as ``{"value", "suppressed"}`` (``"small"``: 1 to 10; ``"complementary"``: hidden so that
    another hidden count cannot be worked out, any value)."""

    report = fields.String(attribute="name")
    title = fields.String()
    from_ = fields.Date(attribute="first", data_key="from")
    to = fields.Date(attribute="last")
    headers = fields.List(fields.String())
    rows = fields.List(fields.List(fields.String()))
    totals = fields.List(fields.String(), allow_none=True)
    keys = fields.List(fields.String())  # each row's group key (a code, a ZIP, an id, a date)
    cells = fields.Method("_cells")
    total_cells = fields.Method("_total_cells")
    note = fields.String()
    suppressed = fields.Constant(DISPLAY)

    def _cells(self, table: Any) -> list[list[dict[str, Any]]]:
        return [[_cell(c) for c in row] for row in table.rows]

    def _total_cells(self, table: Any) -> list[dict[str, Any]] | None:
        return [_cell(c) for c in table.totals] if table.totals else None
