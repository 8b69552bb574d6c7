"""search: every service area in search_area, with its match's entry and office point

Revision ID: 0008_search_area_rows
Revises: 0007_report_speed
Create Date: 2026-11-26

``search_area`` gets the id of the ``search_entry`` row an area match shows,
that row's office point and whether the service has other areas, so the search
counts the services serving a patient without a look-up per area into
``search_entry``; ZIP-list and county areas (no shape) get rows too, and the new
``search_zip`` lists their ZIP codes by category (one index range per search).
Existing rows are filled in SQL; a later ``refresh_services`` or
``rebuild_all`` writes the same values.
"""

# ruff: noqa: S608  (SQL text from this file's own constants)

import sqlalchemy as sa
from alembic import op

revision = "0008_search_area_rows"
down_revision = "0007_report_speed"
branch_labels = None
depends_on = None

PRIMARY = (
    "SELECT e.{col} FROM search_entry e WHERE e.service_id = search_area.service_id"
    " AND e.category_code = search_area.category_code AND e.area_primary = {true}"
)


def upgrade():
    # Plain ADD COLUMN (no batch copy on SQLite, which would lose the R*Tree triggers).
    op.add_column("search_area", sa.Column("entry_id", sa.Integer()))
    op.add_column("search_area", sa.Column("office_latitude", sa.Float()))
    op.add_column("search_area", sa.Column("office_longitude", sa.Float()))
    op.add_column(
        "search_area", sa.Column("shared", sa.Boolean(), nullable=False, server_default=sa.false())
    )
    op.create_index(
        "ix_search_area_service_area", "search_area", ["service_area_id", "category_code"]
    )
    # A search probes a service's areas of one category.
    op.drop_index("ix_search_area_service", table_name="search_area")
    op.create_index("ix_search_area_service", "search_area", ["service_id", "category_code"])
    true = "true" if op.get_bind().dialect.name == "postgresql" else "1"
    # Areas without a shape, one row per category code of their service's entries.
    op.execute(
        "INSERT INTO search_area (id, service_id, service_area_id, category_code, shared)"
        " SELECT (SELECT COALESCE(MAX(id), 0) FROM search_area)"
        " + ROW_NUMBER() OVER (ORDER BY sa.id, e.category_code), sa.service_id, sa.id,"
        " e.category_code, "
        + ("false" if true == "true" else "0")
        + " FROM service_area sa JOIN search_entry e ON e.service_id = sa.service_id"
        f" AND e.area_primary = {true} WHERE sa.geom IS NULL"
    )
    op.create_table(
        "search_zip",
        sa.Column("postcode", sa.String(10), primary_key=True),
        sa.Column("category_code", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("service_id", sa.String(64), primary_key=True),
        sa.Column("area_id", sa.Integer(), primary_key=True, autoincrement=False),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_search_zip_service", "search_zip", ["service_id"])
    op.execute(
        "INSERT INTO search_zip (postcode, category_code, service_id, area_id)"
        " SELECT pc.postcode, a.category_code, a.service_id, a.id FROM search_area a"
        " JOIN service_area_postcode pc ON pc.service_area_id = a.service_area_id"
        " WHERE a.category_code <> 0"
    )
    op.execute(
        "UPDATE search_area SET"
        f" entry_id = ({PRIMARY.format(col='id', true=true)}),"
        f" office_latitude = ({PRIMARY.format(col='latitude', true=true)}),"
        f" office_longitude = ({PRIMARY.format(col='longitude', true=true)}),"
        " shared = ((SELECT count(*) FROM service_area sa"
        " WHERE sa.service_id = search_area.service_id) > 1)"
    )


def downgrade():
    op.drop_table("search_zip")
    op.execute(
        "DELETE FROM search_area WHERE service_area_id IN"
        " (SELECT id FROM service_area WHERE geom IS NULL)"
    )
    op.drop_index("ix_search_area_service_area", table_name="search_area")
    op.drop_index("ix_search_area_service", table_name="search_area")
    op.create_index("ix_search_area_service", "search_area", ["service_id"])
    for name in ("shared", "office_longitude", "office_latitude", "entry_id"):
        op.execute(f"ALTER TABLE search_area DROP COLUMN {name}")
