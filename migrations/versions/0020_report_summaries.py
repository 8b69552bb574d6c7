"""reports: per-release duration summaries (issue 13)

Revision ID: 0020_report_summaries
Revises: 0019_report_periods
Create Date: 2026-12-02

Reserved in the chain; no schema change yet.
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "0020_report_summaries"
down_revision = "0019_report_periods"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
