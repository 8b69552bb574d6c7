"""credentials and the accounting of disclosures: token expiry, audit credential columns

Revision ID: 0013_credentials_audit
Revises: 0012_consent_decisions
Create Date: 2026-12-02

- ``api_token.expires_at``: every token expires. Existing tokens get ``created_at`` +
  ``CARENET_TOKEN_DEFAULT_DAYS`` (90 unless set when the migration runs): the lifetime a
  token would have had under the new rule, so a token older than that is expired at
  once (its owner makes a new one). Then NOT NULL (SQLite: a batch copy of
  ``api_token``, which has no triggers).
- ``audit_event``: ``session_id`` / ``token_id`` (the credential's row id, never the
  secret), ``user_agent`` (truncated to 255), ``patient_id`` (the patient a row
  discloses) and an index on (``patient_id``, ``occurred_at``) for the accounting.
  Plain ADD COLUMN on both backends: a SQLite batch copy would drop the append-only
  triggers of 0003, and PostgreSQL row triggers stay as they are.
- Sessions need no column: the absolute lifetime counts from ``user_session.created_at``.
"""

import os
from datetime import timedelta

import sqlalchemy as sa
from alembic import op

revision = "0013_credentials_audit"
down_revision = "0012_consent_decisions"
branch_labels = None
depends_on = None

AUDIT_COLUMNS = ("session_id", "token_id", "user_agent", "patient_id")


def _default_days() -> int:
    try:
        return max(1, int(os.environ.get("CARENET_TOKEN_DEFAULT_DAYS") or 90))
    except ValueError:
        return 90


def upgrade():
    op.add_column("audit_event", sa.Column("session_id", sa.String(length=64), nullable=True))
    op.add_column("audit_event", sa.Column("token_id", sa.String(length=64), nullable=True))
    op.add_column("audit_event", sa.Column("user_agent", sa.String(length=255), nullable=True))
    op.add_column("audit_event", sa.Column("patient_id", sa.String(length=64), nullable=True))
    op.create_index("ix_audit_event_patient", "audit_event", ["patient_id", "occurred_at"])

    op.add_column("api_token", sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True))
    tokens = sa.table(
        "api_token",
        sa.column("id", sa.String),
        sa.column("created_at", sa.DateTime(timezone=True)),
        sa.column("expires_at", sa.DateTime(timezone=True)),
    )
    bind = op.get_bind()
    lifetime = timedelta(days=_default_days())
    for token_id, created_at in bind.execute(sa.select(tokens.c.id, tokens.c.created_at)).all():
        bind.execute(
            tokens.update()
            .where(tokens.c.id == token_id)
            .values(expires_at=created_at + lifetime)
        )
    with op.batch_alter_table("api_token") as batch:
        batch.alter_column(
            "expires_at", existing_type=sa.DateTime(timezone=True), nullable=False
        )


def downgrade():
    with op.batch_alter_table("api_token") as batch:
        batch.drop_column("expires_at")
    op.drop_index("ix_audit_event_patient", table_name="audit_event")
    # DROP COLUMN without a table copy: SQLite >= 3.35 and PostgreSQL both keep the triggers.
    for column in reversed(AUDIT_COLUMNS):
        op.drop_column("audit_event", column)
