"""Human labels for the keys reports group by (SDOH domains, periods, reason codes)."""

from __future__ import annotations

from datetime import date

from carenet.reports.query import ReportQuery

GROUP_TITLES = {
    "none": "All",
    "domain": "Domain",
    "zip": "ZIP code",
    "county": "County",
    "cbo": "Community organization",
    "care_org": "Care organization",
}


def group_title(q: ReportQuery) -> str:
    """The header of the grouping column."""
    if q.group_by == "period":
        return q.period.capitalize()
    return GROUP_TITLES.get(q.group_by, q.group_by)


def domain_label(code: str) -> str:
    """'food-insecurity' → 'Food insecurity'."""
    return code.replace("-", " ").capitalize() if code else "Unknown"


def period_label(period: str, key: str) -> str:
    """The start date of a period shown as 'week of 2026-01-05', '2026-01' or '2026 Q1'."""
    try:
        start = date.fromisoformat(key[:10])
    except ValueError:
        return key
    if period == "week":
        return f"Week of {start.isoformat()}"
    if period == "quarter":
        return f"{start.year} Q{(start.month - 1) // 3 + 1}"
    return start.strftime("%Y-%m")


def reason_label(code: str) -> str:
    """The workflow's label of a reason code ('no-capacity' → 'No capacity')."""
    from carenet.referrals.workflow import REASONS

    return REASONS.get(code, code.replace("-", " ").capitalize())
