"""reports: released months (report_release)

Revision ID: 0011_report_releases
Revises: 0010_outbox_lease
Create Date: 2026-12-01

``report_release`` holds, per calendar month, family (need, referral, search) and
view (the dimensions a count is restricted to), the counts released for that
month after small-cell suppression over every view at once — frozen, so every
later report of that month shows the same cells (docs/reports.md, "Privacy").
"""

import sqlalchemy as sa
from alembic import op

revision = "0011_report_releases"
down_revision = "0010_outbox_lease"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "report_release",
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("family", sa.String(16), nullable=False),
        sa.Column("view", sa.String(32), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("released_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("period_start", "family", "view"),
    )


def downgrade() -> None:
    op.drop_table("report_release")
