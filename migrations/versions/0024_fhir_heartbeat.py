"""FHIR Subscriptions: handshake, heartbeat and $status

Revision ID: 0024_fhir_heartbeat
Revises: 0023_import_bulk
Create Date: 2026-12-02

Reserved in the chain; no schema change yet.
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "0024_fhir_heartbeat"
down_revision = "0023_import_bulk"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
