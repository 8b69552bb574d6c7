"""reports: zero-result search log, ZIP → county table, report fact tables and their indexes

``postcode_area`` is filled here from the ``zipcodes`` package (US ZIP codes with
county and state), so reports group and filter by county in SQL.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

INDEXES = [  # on the referral domain's tables: what the incremental refresh reads
    ("ix_need_updated_at", "need", ["updated_at"]),
    ("ix_referral_updated_at", "referral", ["updated_at"]),
    ("ix_referral_need_status", "referral", ["need_id", "status", "recipient_organization_id"]),
    ("ix_referral_event_moves", "referral_event", ["referral_id", "to_status", "occurred_at"]),
]


def upgrade():
    op.create_table(
        "search_gap",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("category", sa.String(length=64), nullable=True),
        sa.Column("domain", sa.String(length=64), nullable=True),
        sa.Column("postcode", sa.String(length=5), nullable=True),
        sa.Column("radius_mi", sa.Float(), nullable=True),
        sa.Column("searched_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_search_gap_searched_at", "search_gap", ["searched_at", "domain", "postcode"]
    )
    area = op.create_table(
        "postcode_area",
        sa.Column("postcode", sa.String(length=5), nullable=False),
        sa.Column("county", sa.String(length=128), nullable=False),
        sa.Column("state", sa.String(length=2), nullable=False),
        sa.PrimaryKeyConstraint("postcode"),
    )
    op.bulk_insert(area, _postcode_areas())
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)
    op.create_table(
        "report_need",
        sa.Column("need_id", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("domain", sa.String(length=64), nullable=False),
        sa.Column("care_org_id", sa.String(length=64), nullable=False),
        sa.Column("zip5", sa.String(length=5), nullable=False),
        sa.Column("county", sa.String(length=140), nullable=False),
        sa.Column("referrals", sa.Integer(), nullable=False),
        sa.Column("completed", sa.Integer(), nullable=False),
        sa.Column("still_open", sa.Integer(), nullable=False),
        *_period_columns(),
        sa.ForeignKeyConstraint(["need_id"], ["need.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("need_id"),
    )
    op.create_index("ix_report_need_created", "report_need", ["created_at", "domain"])
    op.create_table(
        "report_referral",
        sa.Column("referral_id", sa.String(length=64), nullable=False),
        sa.Column("need_id", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("domain", sa.String(length=64), nullable=False),
        sa.Column("care_org_id", sa.String(length=64), nullable=False),
        sa.Column("cbo_id", sa.String(length=64), nullable=False),
        sa.Column("zip5", sa.String(length=5), nullable=False),
        sa.Column("county", sa.String(length=140), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("closed", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=True),
        sa.Column("response_s", sa.Float(), nullable=True),
        sa.Column("acceptance_s", sa.Float(), nullable=True),
        sa.Column("completion_s", sa.Float(), nullable=True),
        *_period_columns(),
        sa.ForeignKeyConstraint(["referral_id"], ["referral.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("referral_id"),
    )
    op.create_index("ix_report_referral_created", "report_referral", ["created_at", "domain"])
    op.create_table(
        "report_refresh",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("refreshed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )


def _period_columns():
    return [
        sa.Column(f"{p}_start", sa.Date(), nullable=False) for p in ("week", "month", "quarter")
    ]


def _postcode_areas():
    import zipcodes

    rows = {}
    for row in zipcodes.list_all():
        code, county, state = row["zip_code"], row.get("county") or "", row.get("state") or ""
        if len(code) == 5 and county and len(state) == 2:
            rows[code] = {"postcode": code, "county": county, "state": state}
    return list(rows.values())


def downgrade():
    op.drop_table("report_refresh")
    op.drop_index("ix_report_referral_created", table_name="report_referral")
    op.drop_table("report_referral")
    op.drop_index("ix_report_need_created", table_name="report_need")
    op.drop_table("report_need")
    for name, table, _ in reversed(INDEXES):
        op.drop_index(name, table_name=table)
    op.drop_table("postcode_area")
    op.drop_index("ix_search_gap_searched_at", table_name="search_gap")
    op.drop_table("search_gap")
