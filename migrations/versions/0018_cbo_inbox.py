"""the CBO inbox: assignment and read markers (issue 14)

Revision ID: 0018_cbo_inbox
Revises: 0017_coordinator_day
Create Date: 2026-12-02

Two new tables (``carenet/referrals/inbox_models.py``), plain CREATE TABLEs on both
backends (no batch copy, no triggers; ``referral`` itself is not altered):

- ``referral_assignment``: the one staff member of the receiving organization a referral
  is assigned to ("assigned to me" in the inbox), who assigned it and when;
- ``referral_read``: one row per user and referral they opened (the inbox's unread marker
  is per user; ``referral.viewed_at`` stays the organization's first opening).
"""

import sqlalchemy as sa
from alembic import op

revision = "0018_cbo_inbox"
down_revision = "0017_coordinator_day"
branch_labels = None
depends_on = None


def _referral():
    return sa.Column(
        "referral_id",
        sa.String(length=64),
        sa.ForeignKey("referral.id", ondelete="CASCADE"),
        primary_key=True,
    )


def upgrade() -> None:
    op.create_table(
        "referral_assignment",
        _referral(),
        sa.Column(
            "user_id",
            sa.String(length=64),
            sa.ForeignKey("user_account.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "assigned_by_id",
            sa.String(length=64),
            sa.ForeignKey("user_account.id", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.Column("assigned_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_referral_assignment_user", "referral_assignment", ["user_id"])
    op.create_table(
        "referral_read",
        _referral(),
        sa.Column(
            "user_id",
            sa.String(length=64),
            sa.ForeignKey("user_account.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("referral_read")
    op.drop_index("ix_referral_assignment_user", table_name="referral_assignment")
    op.drop_table("referral_assignment")
