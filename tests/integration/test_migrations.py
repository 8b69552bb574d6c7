"""The Alembic migrations build the whole schema on both backends."""

from __future__ import annotations

from sqlalchemy import inspect

from carenet.extensions import db


def test_upgrade_from_empty_builds_every_model_table(app_ctx):
    existing = set(inspect(db.engine).get_table_names())
    assert {t.name for t in db.metadata.sorted_tables} <= existing


def test_geometry_columns_have_a_spatial_index(app_ctx):
    if db.engine.dialect.name == "sqlite":
        rows = db.session.execute(
            db.text("SELECT f_table_name, spatial_index_enabled FROM geometry_columns")
        ).all()
        assert {"location", "service_area"} <= {table for table, _ in rows}
        assert all(enabled == 1 for _, enabled in rows)
    else:
        names = {
            r[0]
            for r in db.session.execute(
                db.text("SELECT indexname FROM pg_indexes WHERE indexdef ILIKE '%USING gist%'")
            )
        }
        assert {"idx_location_geom", "idx_service_area_geom"} <= names


def test_health_check_reports_the_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": True}
