"""The covering indexes of the report tables, one per grouping and measure (migration 0007).

SQLite has no hash aggregation and no percentile function, so grouping or
ranking a million rows costs a sort of a million rows (about 1 s each). Each
index here holds the rows already in (group key, value) order together with the
date and the counted columns, so a report reads one index in order and sorts
nothing: counts per group walk it once, and the value at a given rank inside a
group is a seek to the group plus a walk of that many entries
(``percentiles``). PostgreSQL gets the same schema and plans as it sees fit.
"""

from __future__ import annotations

from sqlalchemy import Index, text

from carenet.reports.query import PERIODS

MEASURES = ("response", "acceptance", "completion")
# the grouping's column(s) in the report tables; periods resolved by ``key_columns``
GROUP_COLUMNS: dict[str, tuple[str, ...]] = {
    "none": (),
    "domain": ("domain",),
    "zip": ("zip5",),
    "county": ("county",),
    "cbo": ("cbo_id",),
    "care_org": ("care_org_id",),
}
REFERRAL_KEYS: list[tuple[str, ...]] = [
    (),
    ("domain",),
    *((f"{p}_start",) for p in PERIODS),
    ("zip5",),
    ("county",),
    ("cbo_id",),
    ("care_org_id",),
]
NEED_KEYS: list[tuple[str, ...]] = [
    (),
    ("domain",),
    *((f"{p}_start",) for p in PERIODS),
    ("zip5",),
    ("county",),
    ("care_org_id",),
    *((f"{p}_start", "domain") for p in PERIODS),
    ("domain", "zip5"),
]


def key_columns(group_by: str, period: str) -> tuple[str, ...] | None:
    """The report-table column(s) a grouping reads, or None when no index is kept for it."""
    if group_by == "period":
        return (f"{period}_start",) if period in PERIODS else None
    return GROUP_COLUMNS.get(group_by)


def index_name(table: str, keys: tuple[str, ...], what: str) -> str:
    """The name migration 0007 gives the index on ``keys`` then ``what``."""
    short = "_".join(k.removesuffix("_start").removesuffix("_id") for k in keys) or "all"
    return f"ix_{table}_{short}_{what}"


def referral_indexes() -> list[Index]:
    """(key, duration, created_at[, status, reason]) per grouping key and measure."""
    found = []
    for keys in REFERRAL_KEYS:
        for measure in MEASURES:
            columns = [*keys, f"{measure}_s", "created_at"]
            name = index_name("report_referral", keys, measure)
            if measure == "response":  # also the outcome, reason and closed-loop counts
                found.append(Index(name, *columns, "status", "reason"))
            else:
                where = text(f"{measure}_s IS NOT NULL")
                found.append(Index(name, *columns, sqlite_where=where, postgresql_where=where))
    return found


def need_indexes() -> list[Index]:
    """(keys, created_at, referrals, completed, still_open) per grouping of the needs reports."""
    return [
        Index(
            index_name("report_need", keys, "state"),
            *keys,
            "created_at",
            "referrals",
            "completed",
            "still_open",
        )  # fmt: skip
        for keys in NEED_KEYS
    ]
