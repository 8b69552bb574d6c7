"""merge the search branch (0002) with accounts → referrals → reports (0003–0005)

Revision ID: 0006
Revises: 0002, 0005
Create Date: 2026-11-26

Both branches grew from 0001 in parallel; this revision joins them so that
`carenet db upgrade` (single head) works as well as `carenet db upgrade heads`.
"""

revision = "0006"
down_revision = ("0002", "0005")
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
