"""FHIR Subscriptions: handshake, heartbeat and $status

Revision ID: 0024_fhir_heartbeat
Revises: 0023_import_bulk
Create Date: 2026-12-02

``fhir_subscription`` gets
- ``heartbeat_period``: seconds between heartbeats (the Subscription's
  ``channel.extension`` ``backport-heartbeat-period``); NULL: no heartbeats;
- ``last_notified_at``: when the last notification (handshake, heartbeat or event) was
  queued; the worker queues a heartbeat once it is a period old. Existing rows get their
  ``created_at`` (they have no heartbeat period, so nothing follows from it).

Both are nullable columns without indexes: added in place on both backends, and dropped
in place too (SQLite >= 3.35 drops a plain column without copying the table).
"""

import sqlalchemy as sa
from alembic import op

revision = "0024_fhir_heartbeat"
down_revision = "0023_import_bulk"
branch_labels = None
depends_on = None

TABLE = "fhir_subscription"


def upgrade() -> None:
    op.add_column(TABLE, sa.Column("heartbeat_period", sa.Integer(), nullable=True))
    op.add_column(TABLE, sa.Column("last_notified_at", sa.DateTime(timezone=True), nullable=True))
    op.execute(f"UPDATE {TABLE} SET last_notified_at = created_at")  # noqa: S608


def downgrade() -> None:
    op.drop_column(TABLE, "last_notified_at")
    op.drop_column(TABLE, "heartbeat_period")
