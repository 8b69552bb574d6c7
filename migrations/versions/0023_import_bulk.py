"""HSDS import in bulk (issue 15)

Revision ID: 0023_import_bulk
Revises: 0022_hsds_taxonomy
Create Date: 2026-12-02

Reserved in the chain; no schema change yet.
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "0023_import_bulk"
down_revision = "0022_hsds_taxonomy"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
