"""The ``carenet`` console script: a FlaskGroup over ``create_app``.

Every Flask command works (``carenet run``, ``carenet db upgrade``); carenet's
own commands are registered by ``register_commands`` from their domains.
``carenet run`` (the development server) and ``carenet bench`` default to
``CARENET_ENV=development``; every other command, like ``carenet:create_app()``
under gunicorn, defaults to production and needs ``CARENET_SECRET_KEY``.
"""

from __future__ import annotations

import os

import click
from flask import Flask
from flask.cli import FlaskGroup


def _create_app() -> Flask:
    from carenet import create_app

    return create_app()


@click.group(cls=FlaskGroup, create_app=_create_app)
@click.pass_context
def main(ctx: click.Context) -> None:
    """carenet: community resource directory and closed-loop referrals."""
    if ctx.invoked_subcommand in DEVELOPMENT_COMMANDS:
        # The development server asks for development settings explicitly (unless
        # CARENET_ENV says otherwise); everything else defaults to production (config.py).
        os.environ.setdefault("CARENET_ENV", "development")


# Commands that never serve the real site: the development server, and the benchmarks
# (their own throwaway databases; `carenet bench load` runs gunicorn with production
# settings itself). Looked up without loading the app, so the line above comes first.
DEVELOPMENT_COMMANDS = frozenset({"run", "bench"})


def _add_development_commands() -> None:
    from carenet.bench.commands import bench_group

    main.add_command(bench_group)


_add_development_commands()


def register_commands(app: Flask) -> None:
    """Attach every domain's commands to ``app.cli``."""
    from carenet.accounts.commands import tokens_group, users_group
    from carenet.audit.commands import audit_group
    from carenet.bench.commands import bench_group
    from carenet.directory.commands import (
        export_hsds_command,
        import_hsds_command,
        reindex_search_command,
        seed_command,
    )
    from carenet.directory.hsds.link_command import relink_command
    from carenet.fhir.clients import fhir_clients_group
    from carenet.referrals.commands import worker_command
    from carenet.reports.commands import reports_group

    for command in (
        seed_command,
        import_hsds_command,
        export_hsds_command,
        reindex_search_command,
        relink_command,
        users_group,
        tokens_group,
        audit_group,
        worker_command,
        fhir_clients_group,
        reports_group,
        bench_group,
    ):
        app.cli.add_command(command)
