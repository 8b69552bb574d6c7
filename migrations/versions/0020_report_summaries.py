"""reports: per-release duration summaries (issue 13)

Revision ID: 0020_report_summaries
Revises: 0019_report_periods
Create Date: 2026-12-02

``report_duration``: for each released month, each view of the referral counts
(the whole month, each dimension alone and the released pairs) and each cell of
it whose referral count is shown, a histogram of the three durations (first
response, acceptance, completion) on a geometric grid (``bucket``: the
duration's natural logarithm times 20, rounded; ``n``: how many referrals).
Time-to-close reads its medians and 90th percentiles from these rows for the
released months of a window instead of ranking the report tables
(docs/reports.md, "Time to close from the release"). Two covering indexes keep
each view's histograms in cell order across months —
``ix_report_duration_cell`` (view, first value, second value, measure, bucket,
month, n) and ``ix_report_duration_d2`` (view, second value, first value, …) —
so a window's sums stream in order (no sort) and a filter on either value is a
range seek. Months released before this revision get their histograms at the
next ``carenet reports release``.
"""

import sqlalchemy as sa
from alembic import op

revision = "0020_report_summaries"
down_revision = "0019_report_periods"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "report_duration",
        sa.Column("view", sa.String(32), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("d1", sa.String(128), nullable=False),
        sa.Column("d2", sa.String(128), nullable=False),
        sa.Column("measure", sa.String(16), nullable=False),
        sa.Column("bucket", sa.Integer(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("view", "period_start", "d1", "d2", "measure", "bucket"),
    )
    op.create_index(
        "ix_report_duration_cell",
        "report_duration",
        ["view", "d1", "d2", "measure", "bucket", "period_start", "n"],
    )
    op.create_index(
        "ix_report_duration_d2",
        "report_duration",
        ["view", "d2", "d1", "measure", "bucket", "period_start", "n"],
    )


def downgrade() -> None:
    op.drop_index("ix_report_duration_d2", table_name="report_duration")
    op.drop_index("ix_report_duration_cell", table_name="report_duration")
    op.drop_table("report_duration")
