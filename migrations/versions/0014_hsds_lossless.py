"""HSDS 3.0 without loss: tables and columns for every HSDS object (issue 15)

Revision ID: 0014_hsds_lossless
Revises: 0013_credentials_audit
Create Date: 2026-12-02

Reserved in the chain; no schema change yet.
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "0014_hsds_lossless"
down_revision = "0013_credentials_audit"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
