"""The ``carenet`` console script: a FlaskGroup over ``create_app``.

Every Flask command works (``carenet run``, ``carenet db upgrade``); carenet's
own commands are registered by ``register_commands`` from their domains.
"""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import FlaskGroup


def _create_app() -> Flask:
    from carenet import create_app

    return create_app()


@click.group(cls=FlaskGroup, create_app=_create_app)
def main() -> None:
    """carenet: community resource directory and closed-loop referrals."""


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
    from carenet.referrals.commands import worker_command

    for command in (
        seed_command,
        import_hsds_command,
        export_hsds_command,
        reindex_search_command,
        users_group,
        tokens_group,
        audit_group,
        worker_command,
        bench_group,
    ):
        app.cli.add_command(command)
