"""The options the ``carenet bench`` commands share, each defined once."""

from __future__ import annotations

import json
import os
from typing import Any

import click

BACKENDS = ("spatialite", "postgis")

backend = click.option(
    "--backend", type=click.Choice(BACKENDS), default="spatialite", show_default=True,
    help="The embedded database or the production one.",
)  # fmt: skip
as_json = click.option("--json", "as_json", is_flag=True, help="Also print the figures as JSON.")
keep = click.option("--keep", is_flag=True, help="Keep the generated database (prints its URL).")
workers = click.option(
    "--workers", type=click.IntRange(1), default=None,
    help="gunicorn workers [default: one per core on SpatiaLite, two per core on PostGIS, as"
    " docs/operations.md recommends].",
)  # fmt: skip


def seed(default: int) -> Any:
    return click.option("--seed", type=int, default=default, show_default=True)


def count(name: str, default: int, help: str, minimum: int = 1) -> Any:  # noqa: A002
    """An option for how many of something to generate or run (at least ``minimum``)."""
    return click.option(
        name, type=click.IntRange(minimum), default=default, show_default=True, help=help
    )


def default_workers(backend: str) -> int:
    """gunicorn workers when not given: one per core on SpatiaLite, two on PostGIS."""
    return (os.cpu_count() or 2) * (1 if backend == "spatialite" else 2)


def echo_json(figures: dict[str, Any], wanted: bool) -> None:
    """Print the figures as one JSON line when ``--json`` was given."""
    if wanted:
        click.echo(json.dumps(figures))
