"""search: denormalized search tables with composite spatial and full-text indexes

PostGIS: geography point with a GiST index over (category_code, geog) through
btree_gist; area copies with GiST over (category_code, geom); a generated
tsvector with GIN. SpatiaLite: SQLite R*Tree virtual tables with the category
code as a third dimension, kept in step by triggers; an FTS5 external-content
index over search_text.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

ID = sa.String(length=64)

SQLITE_OBJECTS = [
    "CREATE VIRTUAL TABLE search_entry_rtree USING rtree(id, min_x, max_x, min_y, max_y, min_c, max_c)",
    "CREATE VIRTUAL TABLE search_area_rtree USING rtree(id, min_x, max_x, min_y, max_y, min_c, max_c)",
    """CREATE TRIGGER search_entry_ai AFTER INSERT ON search_entry
       WHEN new.latitude IS NOT NULL AND new.longitude IS NOT NULL BEGIN
         INSERT INTO search_entry_rtree VALUES (new.id, new.longitude, new.longitude,
           new.latitude, new.latitude, new.category_code, new.category_code);
       END""",
    """CREATE TRIGGER search_entry_ad AFTER DELETE ON search_entry BEGIN
         DELETE FROM search_entry_rtree WHERE id = old.id;
       END""",
    """CREATE TRIGGER search_area_ai AFTER INSERT ON search_area BEGIN
         INSERT INTO search_area_rtree SELECT new.id, MbrMinX(geom), MbrMaxX(geom),
           MbrMinY(geom), MbrMaxY(geom), new.category_code, new.category_code
           FROM service_area WHERE id = new.service_area_id AND geom IS NOT NULL;
       END""",
    """CREATE TRIGGER search_area_ad AFTER DELETE ON search_area BEGIN
         DELETE FROM search_area_rtree WHERE id = old.id;
       END""",
    """CREATE VIRTUAL TABLE search_fts USING fts5(body, content='search_text',
       content_rowid='any_id', tokenize='porter unicode61')""",
    """CREATE TRIGGER search_text_ai AFTER INSERT ON search_text BEGIN
         INSERT INTO search_fts(rowid, body) VALUES (new.any_id, new.body);
       END""",
    """CREATE TRIGGER search_text_ad AFTER DELETE ON search_text BEGIN
         INSERT INTO search_fts(search_fts, rowid, body) VALUES ('delete', old.any_id, old.body);
       END""",
]

POSTGRES_OBJECTS = [
    "CREATE EXTENSION IF NOT EXISTS btree_gist",
    "ALTER TABLE search_entry ADD COLUMN geog geography(POINT, 4326)",
    "CREATE INDEX idx_search_entry_category_geog ON search_entry USING gist (category_code, geog)",
    "ALTER TABLE search_area ADD COLUMN geom geometry(MULTIPOLYGON, 4326)",
    "CREATE INDEX idx_search_area_category_geom ON search_area USING gist (category_code, geom)",
    "ALTER TABLE search_text ADD COLUMN tsv tsvector"
    " GENERATED ALWAYS AS (to_tsvector('english', body)) STORED",
    "CREATE INDEX idx_search_text_tsv ON search_text USING gin (tsv)",
]


def upgrade():
    op.create_table(
        "search_category",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("slug"),
    )
    op.create_table(
        "search_timezone",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "search_entry",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("any_id", sa.Integer(), nullable=False),
        sa.Column("category_code", sa.Integer(), nullable=False),
        sa.Column("service_id", ID, nullable=False),
        sa.Column("location_id", ID, nullable=True),
        sa.Column("service_at_location_id", ID, nullable=True),
        sa.Column("organization_id", ID, nullable=False),
        sa.Column("organization_name", sa.String(length=255), nullable=False),
        sa.Column("service_name", sa.String(length=255), nullable=False),
        sa.Column("service_description", sa.Text(), nullable=True),
        sa.Column("categories", sa.Text(), nullable=False),
        sa.Column("languages", sa.String(length=255), nullable=False),
        sa.Column("free", sa.Boolean(), nullable=False),
        sa.Column("minimum_age", sa.Integer(), nullable=True),
        sa.Column("maximum_age", sa.Integer(), nullable=True),
        sa.Column("capacity_status", sa.String(length=40), nullable=False),
        sa.Column("confidential", sa.Boolean(), nullable=False),
        sa.Column("has_area", sa.Boolean(), nullable=False),
        sa.Column("area_primary", sa.Boolean(), nullable=False),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("tz_code", sa.Integer(), nullable=False),
        sa.Column("location_name", sa.String(length=255), nullable=True),
        sa.Column("address", sa.Text(), nullable=True),
        sa.Column("phones", sa.Text(), nullable=False),
        sa.Column("schedules", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_search_entry_service", "search_entry", ["service_id", "category_code"])
    op.create_index("ix_search_entry_any", "search_entry", ["any_id"])
    op.create_table(
        "search_area",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("service_id", ID, nullable=False),
        sa.Column("service_area_id", ID, nullable=False),
        sa.Column("category_code", sa.Integer(), nullable=False),
        sa.Column("center_latitude", sa.Float(), nullable=True),
        sa.Column("center_longitude", sa.Float(), nullable=True),
        sa.Column("radius_m", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_search_area_service", "search_area", ["service_id"])
    op.create_table(
        "search_hours",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("any_id", sa.Integer(), nullable=False),
        sa.Column("dow", sa.Integer(), nullable=True),
        sa.Column("monthday", sa.Integer(), nullable=True),
        sa.Column("open_min", sa.Integer(), nullable=False),
        sa.Column("close_min", sa.Integer(), nullable=False),
        sa.Column("valid_from", sa.Integer(), nullable=True),
        sa.Column("valid_to", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_search_hours_any_id", "search_hours", ["any_id"])
    op.create_table(
        "search_text",
        sa.Column("any_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("any_id"),
    )
    bind = op.get_bind()
    for statement in SQLITE_OBJECTS if bind.dialect.name == "sqlite" else POSTGRES_OBJECTS:
        bind.exec_driver_sql(statement)


def downgrade():
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        for name in ("search_fts", "search_area_rtree", "search_entry_rtree"):
            bind.exec_driver_sql(f"DROP TABLE IF EXISTS {name}")
    for name in (
        "search_text",
        "search_hours",
        "search_area",
        "search_entry",
        "search_timezone",
        "search_category",
    ):
        op.drop_table(name)
