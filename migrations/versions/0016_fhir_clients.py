"""FHIR system clients (SMART backend services) and subscriptions (issue 16)

Revision ID: 0016_fhir_clients
Revises: 0015_fhir_resources
Create Date: 2026-12-02

- ``fhir_client``: a registered system client (client_id, name, the organization it acts
  for, its service account ``user_id``, public keys ``jwks``, the scopes it may be granted).
- ``fhir_client_token``: the scopes granted with one access token (an ``api_token`` row
  of the service account, living five minutes).
- ``fhir_client_jti``: assertion ids already used, kept until the assertion expires.
- ``fhir_subscription``: R4 Subscriptions (backport IG): topic, rest-hook endpoint, its
  headers, payload content, status and the count of events sent so far.
Plain CREATE TABLEs on both backends.
"""

import sqlalchemy as sa
from alembic import op

revision = "0016_fhir_clients"
down_revision = "0015_fhir_resources"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "fhir_client",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("organization_id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("jwks", sa.JSON(), nullable=False),
        sa.Column("scopes", sa.Text(), nullable=False),
        sa.Column("active", sa.Boolean(), server_default="1", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["organization_id"], ["organization.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["user_account.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_fhir_client_organization_id", "fhir_client", ["organization_id"])
    op.create_table(
        "fhir_client_token",
        sa.Column("api_token_id", sa.String(length=64), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("scopes", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["api_token_id"], ["api_token.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["client_id"], ["fhir_client.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("api_token_id"),
    )
    op.create_index("ix_fhir_client_token_client_id", "fhir_client_token", ["client_id"])
    op.create_table(
        "fhir_client_jti",
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("jti", sa.String(length=255), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["client_id"], ["fhir_client.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("client_id", "jti"),
    )
    op.create_index("ix_fhir_client_jti_expires_at", "fhir_client_jti", ["expires_at"])
    op.create_table(
        "fhir_subscription",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("owner_id", sa.String(length=64), nullable=False),
        sa.Column("organization_id", sa.String(length=64), nullable=False),
        sa.Column("topic", sa.String(length=255), nullable=False),
        sa.Column("endpoint", sa.String(length=255), nullable=False),
        sa.Column("headers", sa.JSON(), nullable=True),
        sa.Column("content", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("end_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("events_since_start", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["owner_id"], ["user_account.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["organization_id"], ["organization.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_fhir_subscription_topic_status", "fhir_subscription", ["topic", "status"])
    op.create_index("ix_fhir_subscription_organization", "fhir_subscription", ["organization_id"])


def downgrade() -> None:
    op.drop_index("ix_fhir_subscription_organization", table_name="fhir_subscription")
    op.drop_index("ix_fhir_subscription_topic_status", table_name="fhir_subscription")
    op.drop_table("fhir_subscription")
    op.drop_index("ix_fhir_client_jti_expires_at", table_name="fhir_client_jti")
    op.drop_table("fhir_client_jti")
    op.drop_index("ix_fhir_client_token_client_id", table_name="fhir_client_token")
    op.drop_table("fhir_client_token")
    op.drop_index("ix_fhir_client_organization_id", table_name="fhir_client")
    op.drop_table("fhir_client")
