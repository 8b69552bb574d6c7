"""`carenet bench import` runs end to end, tiny: the import, then the database floor replays
every row the import wrote into an empty database (speed not asserted)."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from carenet.bench.commands import bench_group


def test_bench_import_with_floor_replays_every_row_the_import_wrote(
    backend: str, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    if backend == "postgis":  # new databases on the test server, dropped afterwards
        monkeypatch.setenv("CARENET_DATABASE_URL", request.getfixturevalue("postgres_server_url"))
    result = CliRunner().invoke(
        bench_group,
        ["import", "--backend", backend, "--services", "40", "--floor", "--json"],
    )
    assert result.exit_code == 0, result.output
    figures = json.loads(next(x for x in result.output.splitlines() if x.startswith("{")))
    assert figures["services_imported"] == 40 and figures["rejected"] == 0
    tables = figures["floor_tables"]
    # each service's own rows, and the search index's, were inserted again
    for table in ("organization", "service", "location", "service_at_location", "address",
                  "phone", "schedule", "language", "service_category", "search_entry",
                  "search_text", "search_hours"):  # fmt: skip
        assert tables[table]["rows"] > 0, table
    assert tables["service"]["rows"] == 40 and tables["organization"]["rows"] == 8
    assert figures["floor_rows"] == sum(t["rows"] for t in tables.values())
    assert "taxonomy_term" not in tables  # carenet's own terms: there before the import
    assert "database alone" in result.output and "services/s on this machine" in result.output
