"""reports computed ahead per release period (issue 13)

Revision ID: 0019_report_periods
Revises: 0018_cbo_inbox
Create Date: 2026-12-02

Reserved in the chain; no schema change yet.
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "0019_report_periods"
down_revision = "0018_cbo_inbox"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
