"""``carenet worker``: announce overdue referrals and drain the e-mail outbox."""

from __future__ import annotations

import time

import click
from flask.cli import with_appcontext

from carenet.extensions import db
from carenet.referrals import notifications, overdue


def run_once() -> dict[str, int]:
    """One pass: queue the overdue notices, then send every due message."""
    announced = overdue.notify_overdue()
    counts = notifications.drain_outbox()
    return {"overdue": announced, **counts, "pending": notifications.pending_count()}


@click.command("worker")
@click.option("--once", is_flag=True, help="Drain the outbox once and exit.")
@click.option("--interval", default=15.0, show_default=True, help="Seconds between passes.")
@with_appcontext
def worker_command(once: bool, interval: float) -> None:
    """Send queued e-mail (SMTP at CARENET_SMTP_URL) with retries; flag overdue referrals."""
    while True:
        try:
            counts = run_once()
        except Exception as exc:  # the database went away: say so and keep going
            db.session.rollback()
            click.echo(f"worker pass failed: {type(exc).__name__}: {exc}", err=True)
            if once:
                raise SystemExit(1) from exc
        else:
            click.echo(
                f"overdue announced: {counts['overdue']}, sent: {counts['sent']}, "
                f"failed: {counts['failed']}, still pending: {counts['pending']}"
            )
        if once:
            return
        db.session.remove()
        time.sleep(interval)
