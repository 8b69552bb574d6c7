"""reports: zero-result search log, ZIP → county reference table, indexes for the measures

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

INDEXES = [
    ("ix_report_need_created", "need", ["created_at", "category", "patient_id"]),
    ("ix_report_referral_need", "referral", ["need_id", "status", "created_at"]),
    ("ix_report_referral_created", "referral", ["created_at", "category", "status"]),
    ("ix_report_event_referral", "referral_event", ["referral_id", "to_status", "occurred_at"]),
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


def _postcode_areas():
    import zipcodes

    rows = {}
    for row in zipcodes.list_all():
        code, county, state = row["zip_code"], row.get("county") or "", row.get("state") or ""
        if len(code) == 5 and county and len(state) == 2:
            rows[code] = {"postcode": code, "county": county, "state": state}
    return list(rows.values())


def downgrade():
    for name, table, _ in reversed(INDEXES):
        op.drop_index(name, table_name=table)
    op.drop_table("postcode_area")
    op.drop_index("ix_search_gap_searched_at", table_name="search_gap")
    op.drop_table("search_gap")
