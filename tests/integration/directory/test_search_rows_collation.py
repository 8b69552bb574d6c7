"""On a PostgreSQL database whose default collation is not code-point order (an ICU
``en-US`` one, as many production servers have), the search rows an import builds in
memory (ids ordered as Python orders strings) are still those a rebuild reads back from
the database: the rebuild orders children by id in code-point order too."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask_migrate import upgrade
from sqlalchemy.engine import make_url

from carenet import create_app
from carenet.directory.hsds import import_path
from carenet.extensions import db

NAME = f"carenet_icu_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"


@pytest.fixture
def icu_app(request: pytest.FixtureRequest) -> Iterator[Any]:
    from carenet.db.throwaway_pg import connect, drop_database

    server = request.getfixturevalue("postgres_server_url")
    drop_database(server, NAME)
    with connect(server) as conn:
        conn.execute(
            f'CREATE DATABASE "{NAME}" TEMPLATE template0 LOCALE_PROVIDER icu'
            " ICU_LOCALE 'en-US' LOCALE 'C.UTF-8'"
        )
    with connect(server, NAME) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
        conn.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
        # the premise: this database orders ids otherwise than Python does
        assert conn.execute("SELECT 'a-2' < 'Z-1'").fetchone()[0] is True
    url = make_url(server).set(drivername="postgresql+psycopg", database=NAME)
    uri = url.render_as_string(hide_password=False)
    app = create_app({"ENV_NAME": "test", "TESTING": True, "SECRET_KEY": "test-secret",
                      "SQLALCHEMY_DATABASE_URI": uri})  # fmt: skip
    try:
        with app.app_context():
            upgrade()
            yield app
            db.session.remove()
            db.engine.dispose()
    finally:
        drop_database(server, NAME)


def _service(number: int) -> dict[str, Any]:
    """A service whose children's ids sort one way by code point, another in en-US."""
    sid = f"svc-{number}"
    location = {
        "id": f"loc-{number}", "name": "Office", "latitude": 25.77, "longitude": -80.19,
        "addresses": [
            {"id": f"Z-addr-{number}", "address_1": "1 Main St", "city": "Miami",
             "state_province": "FL", "postal_code": "33130", "country": "US"},
            {"id": f"a-addr-{number}", "address_1": "2 Side St", "city": "Miami",
             "state_province": "FL", "postal_code": "33125", "country": "US"},
        ],
        "phones": [{"id": f"Z-lp-{number}", "number": "305-555-0001"},
                   {"id": f"a-lp-{number}", "number": "305-555-0002"}],
    }  # fmt: skip
    return {
        "id": sid, "name": f"Rides {number}", "status": "active",
        "organization": {"id": f"org-{number}", "name": "Org",
                         "phones": [{"id": f"Z-op-{number}", "number": "305-555-0003"},
                                    {"id": f"a-op-{number}", "number": "305-555-0004"}]},
        "attributes": [{"id": f"attr-{number}", "taxonomy_term": {
            "id": "carenet-categories:transportation", "code": "transportation",
            "taxonomy": "carenet-categories"}}],
        "phones": [{"id": f"Z-sp-{number}", "number": "305-555-0005"},
                   {"id": f"a-sp-{number}", "number": "305-555-0006"}],
        "schedules": [{"id": f"Z-h-{number}", "freq": "WEEKLY", "byday": "MO",
                       "opens_at": "09:00", "closes_at": "12:00", "description": "Z"},
                      {"id": f"a-h-{number}", "freq": "WEEKLY", "byday": "MO",
                       "opens_at": "13:00", "closes_at": "17:00", "description": "a"}],
        "service_at_locations": [{"id": f"Z-sal-{number}", "location": location},
                                 {"id": f"a-sal-{number}", "location": dict(
                                     location, id=f"loc2-{number}", addresses=[],
                                     phones=[])}],
        "service_areas": [
            {"id": f"Z-area-{number}", "extent_type": "text", "extent": "postcodes:33130"},
            {"id": f"a-area-{number}", "extent_type": "text", "extent": "postcodes:33125"},
        ],
    }  # fmt: skip


def test_imported_search_rows_equal_a_rebuild_under_an_icu_collation(
    icu_app: Any, tmp_path: Path
) -> None:
    from test_hsds_import_search_rows import _same_as_rebuilt

    path = tmp_path / "services.ndjson"
    path.write_text("".join(json.dumps(_service(n)) + "\n" for n in range(6)))
    report = import_path(path, batch_size=4)
    assert report.rejected == [] and report.counts["service_created"] == 6
    snapshot = _same_as_rebuilt()
    assert snapshot["entry"] and snapshot["hours"]
