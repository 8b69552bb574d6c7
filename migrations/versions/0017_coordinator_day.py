"""the coordinator's day: follow-ups, worklist visits, patient edits (issue 14)

Revision ID: 0017_coordinator_day
Revises: 0016_fhir_clients
Create Date: 2026-12-02

Reserved in the chain; no schema change yet.
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "0017_coordinator_day"
down_revision = "0016_fhir_clients"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
