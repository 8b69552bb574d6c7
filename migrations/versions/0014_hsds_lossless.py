"""HSDS 3.0 without loss: tables and columns for every HSDS object (issue 15)

Revision ID: 0014_hsds_lossless
Revises: 0013_credentials_audit
Create Date: 2026-12-02

- ``hsds_extra`` (JSON, nullable) on every directory table that holds an HSDS
  object: the fields of that object carenet has no typed column for, exactly as
  given (contacts, funding, programs, cost options, required documents,
  accessibility, metadata, organization identifiers, schedule RRULE fields,
  phone and location languages, foreign attributes, service areas carenet
  cannot match, ...), and under ``carenet:derived`` the values carenet derived
  for search rather than read (never exported). See docs/hsds.md.
- An index on ``service.updated_at`` (the HSDS API's ``modified_after``).

Plain ADD COLUMN / CREATE INDEX on both backends: no table copy, so SpatiaLite's
geometry columns and their triggers stay as they are.
"""

import sqlalchemy as sa
from alembic import op

revision = "0014_hsds_lossless"
down_revision = "0013_credentials_audit"
branch_labels = None
depends_on = None

TABLES = (
    "organization",
    "service",
    "location",
    "address",
    "phone",
    "schedule",
    "language",
    "service_area",
    "service_at_location",
    "taxonomy",
    "taxonomy_term",
)


def upgrade() -> None:
    for table in TABLES:
        op.add_column(table, sa.Column("hsds_extra", sa.JSON(), nullable=True))
    op.create_index("ix_service_updated_at", "service", ["updated_at"])


def downgrade() -> None:
    op.drop_index("ix_service_updated_at", table_name="service")
    for table in reversed(TABLES):
        op.drop_column(table, "hsds_extra")
