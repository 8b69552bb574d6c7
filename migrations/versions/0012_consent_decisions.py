"""consent: a decision history per patient and scope (permit / deny), historical consents

Revision ID: 0012_consent_decisions
Revises: 0011_report_releases
Create Date: 2026-12-01

Each ``consent`` row becomes one decision of the patient for a scope, effective from
``starts_at``; the latest decision wins (``carenet/referrals/consent.py``):

- ``decision``: ``permit`` (every existing row) or ``deny`` (a revocation);
- ``revokes_id``: the permit a ``deny`` withdrew;
- ``historical``: recorded after the fact from a paper form dated ``starts_at``
  (existing rows: false).

Every existing revoked consent gets its ``deny`` row (from ``revoked_at``, by
``revoked_by_id``, with the same method and the revocation note), so the history reads
as before: revoked consents stay withdrawn. The revoked permit keeps its ``revoked_at``.

SQLite cannot add a CHECK constraint or a foreign key to a table, so the table is
copied there (batch mode; nothing refers to ``consent`` and it has no triggers or
geometry); PostgreSQL alters in place. Downgrade deletes the ``deny`` rows.
"""

import uuid

import sqlalchemy as sa
from alembic import op

revision = "0012_consent_decisions"
down_revision = "0011_report_releases"
branch_labels = None
depends_on = None

TABLE = "consent"
CHECK = "ck_consent_decision"
FOREIGN_KEY = "fk_consent_revokes_id"
INDEX = "ix_consent_patient_scope"


def upgrade():
    with op.batch_alter_table(TABLE) as batch:
        batch.add_column(
            sa.Column("decision", sa.String(length=8), nullable=False, server_default="permit")
        )
        batch.add_column(sa.Column("revokes_id", sa.String(length=64), nullable=True))
        batch.add_column(
            sa.Column("historical", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.create_check_constraint(CHECK, "decision IN ('permit', 'deny')")
        batch.create_foreign_key(FOREIGN_KEY, TABLE, ["revokes_id"], ["id"], ondelete="CASCADE")
    op.create_index(INDEX, TABLE, ["patient_id", "scope", "starts_at"])
    _add_deny_rows()


def _add_deny_rows():
    consent = sa.table(
        TABLE,
        *(sa.column(name) for name in ("id", "patient_id", "method", "scope", "recorded_by_id")),
        sa.column("starts_at", sa.DateTime(timezone=True)),
        sa.column("recorded_at", sa.DateTime(timezone=True)),
        sa.column("revoked_at", sa.DateTime(timezone=True)),
        sa.column("revoked_by_id"),
        sa.column("revocation_note"),
        sa.column("decision"),
        sa.column("revokes_id"),
        sa.column("historical", sa.Boolean()),
    )
    bind = op.get_bind()
    revoked = bind.execute(
        sa.select(
            consent.c.id,
            consent.c.patient_id,
            consent.c.method,
            consent.c.scope,
            consent.c.revoked_at,
            consent.c.revoked_by_id,
            consent.c.revocation_note,
        ).where(consent.c.revoked_at.is_not(None), consent.c.decision == "permit")
    ).all()
    rows = [
        {
            "id": str(uuid.uuid4()),
            "patient_id": row.patient_id,
            "method": row.method,
            "scope": row.scope,
            "starts_at": row.revoked_at,
            "recorded_at": row.revoked_at,
            "recorded_by_id": row.revoked_by_id,
            "revocation_note": row.revocation_note,
            "decision": "deny",
            "revokes_id": row.id,
            "historical": False,
        }
        for row in revoked
    ]
    if rows:
        op.bulk_insert(consent, rows)


def downgrade():
    op.execute(f"DELETE FROM {TABLE} WHERE decision = 'deny'")  # noqa: S608
    op.drop_index(INDEX, table_name=TABLE)
    with op.batch_alter_table(TABLE) as batch:
        batch.drop_constraint(FOREIGN_KEY, type_="foreignkey")
        batch.drop_constraint(CHECK, type_="check")
        batch.drop_column("historical")
        batch.drop_column("revokes_id")
        batch.drop_column("decision")
