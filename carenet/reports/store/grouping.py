"""A ``ReportQuery`` over the report tables: the SQL of its group key and of its filters.

Both report tables are read under the alias ``f``; ``Source`` names the columns
one of them groups and filters on (a need has no CBO of its own).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from carenet.reports.query import PAIRS, PERIODS, ReportQuery


@dataclass(frozen=True)
class Source:
    """The aliases of one report's base row: its table, its time column, its organizations."""

    alias: str  # "f": report_need or report_referral
    time_column: str
    domain_column: str
    care_org_column: str
    cbo_column: str | None


NEEDS = Source("f", "f.created_at", "f.domain", "f.care_org_id", None)
REFERRALS = Source("f", "f.created_at", "f.domain", "f.care_org_id", "f.cbo_id")
COUNTY_LABEL = "COALESCE(pa.county || ', ' || pa.state, 'Unknown')"  # search_gap's county


def group_sql(q: ReportQuery, source: Source) -> tuple[str, str, str]:
    """(key expression, label expression, extra joins) for the query's grouping."""
    zip_expr = "f.zip5"
    if q.group_by in PAIRS:  # two groupings at once (charts, gaps): "first|second"
        first, second = PAIRS[q.group_by]
        one = group_sql(replace(q, group_by=first), source)
        two = group_sql(replace(q, group_by=second), source)
        return (
            f"({one[0]} || '|' || {two[0]})",
            f"({one[1]} || '|' || {two[1]})",
            _pair_join(one, two),
        )
    if q.group_by == "none":
        return "'all'", "'All'", ""
    if q.group_by == "domain":
        return source.domain_column, source.domain_column, ""
    if q.group_by == "period":  # precomputed in the report tables (facts.py)
        if q.period not in PERIODS:
            raise ValueError(q.period)
        return f"f.{q.period}_start", f"f.{q.period}_start", ""
    if q.group_by == "zip":
        return zip_expr, zip_expr, ""
    if q.group_by == "county":
        return "f.county", "f.county", ""
    column = source.cbo_column if q.group_by == "cbo" else source.care_org_column
    if column is None:  # needs have no CBO: their reports refuse that grouping first
        raise ValueError(q.group_by)
    return column, column, ""  # the organization's id; names are looked up per group after


def _pair_join(one: tuple[str, str, str], two: tuple[str, str, str]) -> str:
    return one[2] if one[2] == two[2] else f"{one[2]} {two[2]}"


def filter_sql(q: ReportQuery, source: Source) -> tuple[list[str], dict, str]:
    """(WHERE conditions, bound values, extra joins) for the range and the filters."""
    where = [f"{source.time_column} >= :start", f"{source.time_column} < :end"]
    values: dict = {"start": q.start, "end": q.end}
    joins = ""
    if q.domain:
        where.append(f"{source.domain_column} = :domain")
        values["domain"] = q.domain
    if q.zip:
        where.append("f.zip5 = :zip")
        values["zip"] = q.zip
    if q.county:
        where.append("f.county = :county")
        values["county"] = q.county
    if q.care_org:
        where.append(f"{source.care_org_column} = :care_org")
        values["care_org"] = q.care_org
    if q.cbo and source.cbo_column:
        where.append(f"{source.cbo_column} = :cbo")
        values["cbo"] = q.cbo
    elif q.cbo:
        # a need has no CBO of its own: it counts when one of its referrals went to that CBO
        # (the CBO's few referrals, from report_referral, looked up once — not a probe per need)
        where.append("f.need_id IN (SELECT rc.need_id FROM report_referral rc"
                     " WHERE rc.cbo_id = :cbo AND rc.need_id IS NOT NULL)")  # fmt: skip
        values["cbo"] = q.cbo
    return where, values, joins
