"""``carenet relink-hsds-terms``: refill ``service_attribute_term`` from what is stored.

Imports keep the table in step and migration 0022 filled it for the services stored before
it; this rebuilds it from every service's ``hsds_extra`` (after a restore of an older
dump, or a bulk load that went around the importer). One writing transaction.
"""

from __future__ import annotations

import time

import click

from carenet.db.retry import run_in_transaction
from carenet.directory.hsds.attribute_links import rebuild_all


@click.command("relink-hsds-terms")
def relink_command() -> None:
    """Rebuild the index of the taxonomy terms services carry (the HSDS API's term filters)."""
    started = time.perf_counter()
    count = run_in_transaction(rebuild_all)
    click.echo(f"linked {count} service taxonomy terms in {time.perf_counter() - started:.1f} s")
