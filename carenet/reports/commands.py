"""CLI: ``carenet reports release`` — the scheduled release of ended months."""

from __future__ import annotations

from datetime import UTC, datetime

import click
from flask.cli import with_appcontext

from carenet.extensions import db


@click.group("reports")
def reports_group() -> None:
    """Program leads' reports."""


@reports_group.command("release")
@click.option(
    "--as-of",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Release as if today were YYYY-MM-DD (default: now).",
)
@with_appcontext
def release_command(as_of: datetime | None) -> None:
    """Release every ended, unreleased month (idempotent; run it daily from cron or a timer)."""
    from carenet.reports import service

    moment = as_of.replace(tzinfo=UTC) if as_of else None
    done = service.release_months(db.session(), moment, echo=click.echo)
    click.echo(f"{len(done)} month(s) released" if done else "nothing to release")
