"""FHIR R4 resources: versions and stored FHIR-only facts (issue 16)

Revision ID: 0015_fhir_resources
Revises: 0014_hsds_lossless
Create Date: 2026-12-02

Reserved in the chain; no schema change yet.
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "0015_fhir_resources"
down_revision = "0014_hsds_lossless"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
