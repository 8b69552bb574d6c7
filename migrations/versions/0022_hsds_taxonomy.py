"""HSDS taxonomy: attributes of any vocabulary searchable (issue 15)

Revision ID: 0022_hsds_taxonomy
Revises: 0021_import_speed
Create Date: 2026-12-02

Reserved in the chain; no schema change yet.
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "0022_hsds_taxonomy"
down_revision = "0021_import_speed"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
