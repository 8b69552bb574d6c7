"""reports: one row per released count (report_period, report_count); audit_denial_window

Revision ID: 0019_report_periods
Revises: 0018_cbo_inbox
Create Date: 2026-12-02

Released months move from one JSON document per (month, family, view)
(``report_release``, 0011) to one row per published count (``report_count``:
family, view, month, the view's dimension values ``d1``/``d2``, measure, value or
marker) plus one row per released month (``report_period``). A report reads only
the counts its table shows: the primary key leads with (family, view, month,
first value), ``ix_report_count_d2`` with (family, view, month, second value), so
a filter on either dimension of a view is a range seek. Months already released
are carried over unchanged (frozen cells stay what they were); the downgrade
carries them back.

``audit_denial_window`` (issue 13's last audit edge) counts anonymous refused
requests to PHI routes per address, route and minute: only the first of a minute
writes a ``denied`` audit row (``carenet/audit/denials.py``).
"""

import json
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0019_report_periods"
down_revision = "0018_cbo_inbox"
branch_labels = None
depends_on = None


def upgrade() -> None:
    period = op.create_table(
        "report_period",
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("released_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("period_start"),
    )
    count = op.create_table(
        "report_count",
        sa.Column("family", sa.String(16), nullable=False),
        sa.Column("view", sa.String(32), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("d1", sa.String(128), nullable=False),
        sa.Column("d2", sa.String(128), nullable=False),
        sa.Column("measure", sa.String(40), nullable=False),
        sa.Column("value", sa.Integer(), nullable=True),
        sa.Column("mark", sa.String(16), nullable=True),
        sa.PrimaryKeyConstraint("family", "view", "period_start", "d1", "d2", "measure"),
    )
    op.create_index("ix_report_count_d2", "report_count", ["family", "view", "period_start", "d2"])
    old = sa.table(
        "report_release",
        sa.column("period_start", sa.Date()),
        sa.column("family", sa.String()),
        sa.column("view", sa.String()),
        sa.column("body", sa.Text()),
        sa.column("released_at", sa.DateTime(timezone=True)),
    )
    conn = op.get_bind()
    months: dict = {}
    for month, family, view, body, at in conn.execute(sa.select(old)):
        months.setdefault(month, at or datetime.now(UTC))
        rows = []
        for values, measure, value, mark in json.loads(body):
            d1, d2 = ([*values, "", ""])[:2]
            rows.append(dict(family=family, view=view, period_start=month, d1=d1, d2=d2,
                             measure=measure, value=value, mark=mark))  # fmt: skip
        if rows:
            op.bulk_insert(count, rows)
    if months:
        op.bulk_insert(period, [{"period_start": m, "released_at": a} for m, a in months.items()])
    op.drop_table("report_release")
    op.create_table(
        "audit_denial_window",
        sa.Column("remote_addr", sa.String(64), nullable=False),
        sa.Column("route", sa.String(128), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("remote_addr", "route", "window_start"),
    )


def downgrade() -> None:
    op.drop_table("audit_denial_window")
    old = op.create_table(
        "report_release",
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("family", sa.String(16), nullable=False),
        sa.Column("view", sa.String(32), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("released_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("period_start", "family", "view"),
    )
    conn = op.get_bind()
    counts = sa.table(
        "report_count",
        sa.column("family", sa.String()),
        sa.column("view", sa.String()),
        sa.column("period_start", sa.Date()),
        *(sa.column(c, sa.String()) for c in ("d1", "d2", "measure")),
        sa.column("value", sa.Integer()),
        sa.column("mark", sa.String()),
    )
    periods = sa.table(
        "report_period",
        sa.column("period_start", sa.Date()),
        sa.column("released_at", sa.DateTime(timezone=True)),
    )
    at = dict(conn.execute(sa.select(periods.c.period_start, periods.c.released_at)).all())
    docs: dict = {}
    for family, view, month, d1, d2, measure, value, mark in conn.execute(sa.select(counts)):
        width = len(view.split(",")) if view else 0
        docs.setdefault((month, family, view), []).append([[d1, d2][:width], measure, value, mark])
    if docs:
        op.bulk_insert(old, [
            {"period_start": m, "family": f, "view": v, "body": json.dumps(e),
             "released_at": at.get(m) or datetime.now(UTC)}
            for (m, f, v), e in docs.items()
        ])  # fmt: skip
    op.drop_index("ix_report_count_d2", table_name="report_count")
    op.drop_table("report_count")
    op.drop_table("report_period")
