"""``carenet worker``: announce overdue referrals and drain the e-mail outbox.

Any number of workers may run at once (docs/operations.md "The worker"): each
pass claims its own batch under a lease.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import click
from flask.cli import with_appcontext

from carenet.extensions import db
from carenet.referrals import notifications, overdue

# What else a pass queues before sending, registered at start-up by other modules (e.g.
# ``carenet.fhir.subscriptions``: "heartbeats"): name -> a function returning how many.
PASS_HOOKS: dict[str, Callable[[], int]] = {}


def run_once(batch_size: int | None = None) -> dict[str, int]:
    """One pass: queue the overdue notices (and the hooks' messages), then claim one batch
    of due messages and send it."""
    announced = overdue.notify_overdue()
    hooked = {name: hook() for name, hook in PASS_HOOKS.items()}
    counts = notifications.drain_outbox(limit=batch_size)
    return {"overdue": announced, **hooked, **counts, "pending": notifications.pending_count()}


def _report(counts: dict[str, int]) -> None:
    hooked = "".join(f"{name} queued: {counts[name]}, " for name in PASS_HOOKS)
    click.echo(
        f"overdue announced: {counts['overdue']}, {hooked}sent: {counts['sent']}, "
        f"failed: {counts['failed']}, dead: {counts['dead']}, still pending: {counts['pending']}"
    )


def _one_pass(batch_size: int) -> bool:
    """Run a pass; whether the batch was full (more may be due: go again without sleeping)."""
    try:
        counts = run_once(batch_size)
    except Exception as exc:  # the database went away: say so and keep going
        db.session.rollback()
        click.echo(f"worker pass failed: {type(exc).__name__}: {exc}", err=True)
        raise
    _report(counts)
    return counts["sent"] + counts["failed"] + counts["dead"] >= batch_size


@click.command("worker")
@click.option("--once", is_flag=True, help="Run one pass (one batch) and exit.")
@click.option("--interval", default=15.0, show_default=True, help="Seconds between passes.")
@click.option(
    "--batch-size",
    type=int,
    default=None,
    help="Messages claimed per pass (default CARENET_OUTBOX_BATCH_SIZE).",
)
@with_appcontext
def worker_command(once: bool, interval: float, batch_size: int | None) -> None:
    """Send queued e-mail (SMTP at CARENET_SMTP_URL) with retries; flag overdue referrals."""
    size = batch_size or notifications.outbox_settings().batch_size
    while True:
        try:
            full = _one_pass(size)
        except Exception as exc:
            if once:
                raise SystemExit(1) from exc
            full = False
        if once:
            return
        db.session.remove()
        if not full:
            time.sleep(interval)
