"""FHIR system clients (SMART backend services) and subscriptions (issue 16)

Revision ID: 0016_fhir_clients
Revises: 0015_fhir_resources
Create Date: 2026-12-02

Reserved in the chain; no schema change yet.
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "0016_fhir_clients"
down_revision = "0015_fhir_resources"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
