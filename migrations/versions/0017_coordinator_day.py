"""the coordinator's day: when each user last opened their worklist (issue 14)

Revision ID: 0017_coordinator_day
Revises: 0016_fhir_clients
Create Date: 2026-12-02

- ``worklist_visit``: one row per user, the moment they last opened ``/worklist``; the
  worklist shows what changed on their organization's referrals since then. A plain
  CREATE TABLE on both backends (no batch copy, no triggers).
- Follow-up dates need no column: ``referral.follow_up_on`` exists since 0004.
"""

import sqlalchemy as sa
from alembic import op

revision = "0017_coordinator_day"
down_revision = "0016_fhir_clients"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "worklist_visit",
        sa.Column(
            "user_id",
            sa.String(length=64),
            sa.ForeignKey("user_account.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("visited_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("worklist_visit")
