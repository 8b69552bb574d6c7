"""outbox: a stable Message-ID, a claim lease, dead letters

Revision ID: 0010_outbox_lease
Revises: 0009_search_area_points
Create Date: 2026-11-27

``outbox_message`` gets
- ``message_id``: the ``Message-ID`` header, fixed when the message is queued and
  sent on every attempt (existing rows get ``<outbox-{id}@carenet>``, the header
  the worker used to build from the id, so a row queued before this revision keeps
  the identity its earlier attempts carried); unique;
- ``claimed_by`` / ``lease_until``: the worker holding the message and until when
  (a worker claims a batch; another may take it over only after the lease);
- ``last_attempt_at``: when the last send was tried;
- status ``dead``: given up after the last allowed attempt, shown to admins.

SQLite cannot alter a CHECK constraint, so the table is copied there (batch mode:
the table has no triggers, geometry or foreign keys); PostgreSQL alters in place.
Downgrade turns dead letters back into pending messages.
"""

import sqlalchemy as sa
from alembic import op

revision = "0010_outbox_lease"
down_revision = "0009_search_area_points"
branch_labels = None
depends_on = None

TABLE = "outbox_message"
CHECK = "ck_outbox_status"
NEW_STATUSES = "status IN ('pending', 'sent', 'dead')"
OLD_STATUSES = "status IN ('pending', 'sent')"


def upgrade():
    with op.batch_alter_table(TABLE) as batch:
        batch.add_column(sa.Column("message_id", sa.String(length=255), nullable=True))
        batch.add_column(sa.Column("claimed_by", sa.String(length=128), nullable=True))
        batch.add_column(sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("last_attempt_at", sa.DateTime(timezone=True), nullable=True))
        batch.drop_constraint(CHECK, type_="check")
        batch.create_check_constraint(CHECK, NEW_STATUSES)
    op.execute(f"UPDATE {TABLE} SET message_id = '<outbox-' || id || '@carenet>'")  # noqa: S608
    with op.batch_alter_table(TABLE) as batch:
        batch.alter_column("message_id", existing_type=sa.String(length=255), nullable=False)
    op.create_index("ix_outbox_message_id", TABLE, ["message_id"], unique=True)


def downgrade():
    op.execute(f"UPDATE {TABLE} SET status = 'pending' WHERE status = 'dead'")  # noqa: S608
    op.drop_index("ix_outbox_message_id", table_name=TABLE)
    with op.batch_alter_table(TABLE) as batch:
        batch.drop_constraint(CHECK, type_="check")
        batch.create_check_constraint(CHECK, OLD_STATUSES)
        batch.drop_column("last_attempt_at")
        batch.drop_column("lease_until")
        batch.drop_column("claimed_by")
        batch.drop_column("message_id")
