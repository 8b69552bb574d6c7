"""HSDS import speed (issue 15)

Revision ID: 0021_import_speed
Revises: 0020_report_summaries
Create Date: 2026-12-02

Reserved in the chain for the import speed work of this session; it needed no schema
change, so this revision changes nothing (kept so the chain stays as numbered).
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "0021_import_speed"
down_revision = "0020_report_summaries"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
