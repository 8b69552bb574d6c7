"""the CBO inbox: assignment and read markers (issue 14)

Revision ID: 0018_cbo_inbox
Revises: 0017_coordinator_day
Create Date: 2026-12-02

Reserved in the chain; no schema change yet.
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "0018_cbo_inbox"
down_revision = "0017_coordinator_day"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
