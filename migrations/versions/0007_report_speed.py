"""report speed: covering indexes on the report tables, one per grouping and measure

SQLite has no hash aggregation and no percentile function: grouping or ranking
a million rows means sorting them (about 1 s each). These indexes hold the rows
already in (group key, value) order with the date and the counted columns, so
every report reads one index in order instead of sorting the table:

- ``report_referral``, per grouping key (none, domain, week, month, quarter,
  ZIP, county, CBO, care organization): (key, response_s, created_at, status,
  reason) for the outcome, reason and closed-loop counts and the response
  percentiles, and
  (key, acceptance_s, created_at) / (key, completion_s, created_at), partial on
  the duration being known, for the other two percentiles;
- ``report_need``, per grouping key and for the two pairs the trend and the gaps
  reports use: (keys, created_at, referrals, completed, still_open).

Revision ID: 0007_report_speed
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_report_speed"
down_revision = "0006"
branch_labels = None
depends_on = None

PERIODS = ("week_start", "month_start", "quarter_start")
REFERRAL_KEYS = [(), ("domain",), *((p,) for p in PERIODS), ("zip5",), ("county",),
                 ("cbo_id",), ("care_org_id",)]  # fmt: skip
NEED_KEYS = [(), ("domain",), *((p,) for p in PERIODS), ("zip5",), ("county",),
             ("care_org_id",), *((p, "domain") for p in PERIODS), ("domain", "zip5")]  # fmt: skip
MEASURES = ("response", "acceptance", "completion")


def _name(table: str, keys: tuple[str, ...], what: str) -> str:
    short = "_".join(k.removesuffix("_start").removesuffix("_id") for k in keys) or "all"
    return f"ix_{table}_{short}_{what}"


def _indexes():
    for keys in REFERRAL_KEYS:
        for measure in MEASURES:
            name = _name("report_referral", keys, measure)
            columns = [*keys, f"{measure}_s", "created_at"]
            if measure == "response":
                yield name, "report_referral", [*columns, "status", "reason"], None
            else:
                yield name, "report_referral", columns, f"{measure}_s IS NOT NULL"
    for keys in NEED_KEYS:
        columns = [*keys, "created_at", "referrals", "completed", "still_open"]
        yield _name("report_need", keys, "state"), "report_need", columns, None


def upgrade():
    for name, table, columns, where in _indexes():
        partial = {} if where is None else {
            "sqlite_where": sa.text(where), "postgresql_where": sa.text(where)
        }  # fmt: skip
        op.create_index(name, table, columns, **partial)


def downgrade():
    for name, table, _, _ in reversed(list(_indexes())):
        op.drop_index(name, table_name=table)
