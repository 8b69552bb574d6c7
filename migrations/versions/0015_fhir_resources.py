"""FHIR R4 resources: ServiceRequests an EHR created before their Task (issue 16)

Revision ID: 0015_fhir_resources
Revises: 0014_hsds_lossless
Create Date: 2026-12-02

- ``fhir_service_request``: a ServiceRequest created through /fhir (its id, patient, SDOH
  category, the coded ``code`` as sent, need, consent, performing service) until a Task
  sends it as a referral; then ``referral_id`` links it and the referral row is the source
  of everything else. A plain CREATE TABLE on both backends.
"""

import sqlalchemy as sa
from alembic import op

revision = "0015_fhir_resources"
down_revision = "0014_hsds_lossless"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "fhir_service_request",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("patient_id", sa.String(length=64), nullable=False),
        sa.Column("sender_organization_id", sa.String(length=64), nullable=False),
        sa.Column("category", sa.String(length=64), nullable=False),
        sa.Column("code", sa.JSON(), nullable=True),
        sa.Column("need_id", sa.String(length=64), nullable=True),
        sa.Column("consent_id", sa.String(length=64), nullable=True),
        sa.Column("service_id", sa.String(length=64), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("referral_id", sa.String(length=64), nullable=True),
        sa.Column("created_by_id", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["patient_id"], ["patient.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["sender_organization_id"], ["organization.id"], ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["need_id"], ["need.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["consent_id"], ["consent.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["service_id"], ["service.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["referral_id"], ["referral.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["created_by_id"], ["user_account.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_fhir_service_request_referral", "fhir_service_request", ["referral_id"], unique=True
    )
    op.create_index("ix_fhir_service_request_patient", "fhir_service_request", ["patient_id"])


def downgrade() -> None:
    op.drop_index("ix_fhir_service_request_patient", table_name="fhir_service_request")
    op.drop_index("ix_fhir_service_request_referral", table_name="fhir_service_request")
    op.drop_table("fhir_service_request")
