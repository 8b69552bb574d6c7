"""CLI: ``carenet audit disclosures --patient ID [--since DATE] [--json]``."""

from __future__ import annotations

import json
from datetime import datetime

import click
from flask.cli import with_appcontext

from carenet.errors import DomainError
from carenet.extensions import db


@click.group("audit")
def audit_group() -> None:
    """Read the audit log."""


@audit_group.command("disclosures")
@click.option("--patient", "patient_id", required=True, help="The patient's id.")
@click.option("--since", type=click.DateTime(formats=["%Y-%m-%d"]), default=None, help="YYYY-MM-DD")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@with_appcontext
def disclosures_command(patient_id: str, since: datetime | None, as_json: bool) -> None:
    """The accounting of disclosures of one patient (HIPAA §164.528): date, who (person and
    organization), what was disclosed, purpose."""
    from carenet.audit import disclosures, service

    try:
        result = disclosures.accounting(patient_id, since.date() if since else None)
    except DomainError as refused:
        db.session.rollback()
        raise click.ClickException(refused.detail) from None
    # The accounting given out is itself recorded (without patient_id: it is no disclosure
    # to be accounted for; the patient is its recipient).
    service.record_read(
        None,  # the operator at the console: no user
        "patient",
        patient_id,
        action="account_disclosures",
        detail={"since": result.since, "entries": len(result.entries)},
    )
    if as_json:
        click.echo(json.dumps(result.as_dict(), indent=2))
    else:
        click.echo(disclosures.table(result))
