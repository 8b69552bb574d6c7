"""`carenet bench load` runs end to end, tiny, and prints its figures (speed not asserted)."""

from __future__ import annotations

import json
import re

import pytest
from click.testing import CliRunner

from carenet.bench.commands import bench_group


def test_bench_load_runs_users_of_every_role_and_prints_the_route_table(
    backend: str, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    if backend == "postgis":  # a new database on the test server, dropped afterwards
        monkeypatch.setenv("CARENET_DATABASE_URL", request.getfixturevalue("postgres_server_url"))
    result = CliRunner().invoke(
        bench_group,
        ["load", "--backend", backend, "--users", "4", "--seconds", "3", "--workers", "1",
         "--json"],
    )  # fmt: skip
    lines = result.output.strip().splitlines()
    figures = json.loads(next(line for line in lines if line.startswith("{")))
    # exit 1 only when a request got a 5xx or no answer; the count is the last line
    assert lines[-1] == f"5xx: {sum(f['5xx'] for f in figures['routes'].values())}"
    failed = any(f["5xx"] or f["no_answer"] for f in figures["routes"].values())
    assert result.exit_code == (1 if failed else 0), result.output
    assert figures["requests"] > 0 and "requests/s" in result.output
    assert figures["roles"] == {"coordinator": 2, "cbo": 1, "program_lead": 1}
    assert figures["form_users"] == 1 and figures["form_sign_ins"] >= 1
    for route in ("GET /api/v1/services/search", "GET /api/v1/referrals?box=inbound&status=…",
                  "GET /api/v1/reports/{name}", "POST /login"):  # fmt: skip
        assert route in figures["routes"]
        assert re.search(rf"^{re.escape(route)} +\d+ +[\d.]+ +[\d.]+ +[\d.]+ ", result.output,
                         re.MULTILINE), route  # fmt: skip
    ids = re.compile(r"/[0-9a-f]{8}-?[0-9a-f]{4}|/\d{3,}")
    assert not [route for route in figures["routes"] if ids.search(route)]  # templates, not URLs
