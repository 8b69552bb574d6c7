"""`carenet bench search` runs end to end at a tiny size and prints figures (speed not asserted)."""

from __future__ import annotations

import json

from click.testing import CliRunner

from carenet.bench.commands import bench_group


def test_bench_search_runs_and_prints_figures_on_spatialite():
    result = CliRunner().invoke(
        bench_group,
        ["search", "--services", "200", "--queries", "20", "--backend", "spatialite",
         "--workers", "1", "--clients", "2", "--json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "(a) raw SQL, carenet's query" in result.output
    assert "(c) throughput" in result.output
    figures = json.loads(result.output.strip().splitlines()[-1])
    assert figures["services"] == 200
    assert figures["c_http"]["n"] == 20 and figures["b_function"]["n"] == 20
