"""HSDS import in bulk (issue 15)

Revision ID: 0023_import_bulk
Revises: 0022_hsds_taxonomy
Create Date: 2026-12-02

Reserved in the chain for the import speed work of session 7; it needed no schema
change, so this revision changes nothing (kept so the chain stays as numbered).
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
