"""CLI commands of the directory: seed, import-hsds, export-hsds, reindex-search."""

from __future__ import annotations

import click
from flask.cli import with_appcontext


@click.command("seed")
@click.option(
    "--demo-history", is_flag=True, help="Also create a year of synthetic needs and referrals."
)
@with_appcontext
def seed_command(demo_history: bool) -> None:
    """Load seed_data/ into the directory, then the demo users (both idempotent)."""
    from carenet.accounts.seed import seed_demo_users
    from carenet.directory.seed import seed_directory

    report = seed_directory(echo=click.echo)
    seed_demo_users(echo=click.echo)
    if demo_history:
        from carenet.demo.history import seed_demo_history

        seed_demo_history(echo=click.echo)
    if report.rejected:
        raise click.exceptions.Exit(1)


def _path_or_url(ctx: click.Context, param: click.Parameter, value: str) -> str:
    """An existing path, or an http(s) URL of another HSDS API (docs/hsds.md)."""
    if value.lower().startswith(("http://", "https://")):
        return value
    return str(click.Path(exists=True).convert(value, param, ctx))


@click.command("import-hsds")
@click.argument("path", callback=_path_or_url)
@click.option("--dry-run", is_flag=True, help="Validate only; write nothing.")
@click.option(
    "--report",
    "report_file",
    type=click.Path(dir_okay=False, writable=True),
    help="Write every rejection and warning to this file as JSON lines.",
)
@click.option(
    "--progress/--no-progress",
    default=None,
    help="A progress bar on stderr, updated per batch (default: when stderr is a terminal).",
)
@with_appcontext
def import_hsds_command(
    path: str, dry_run: bool, report_file: str | None, progress: bool | None
) -> None:
    """Import HSDS 3.0 JSON, an HSDS API page, a folder, or a tabular data package."""
    from carenet.directory.hsds.importer import run_import_command

    run_import_command(path, dry_run=dry_run, report_file=report_file, progress=progress)


@click.command("export-hsds")
@click.argument("path", type=click.Path())
@with_appcontext
def export_hsds_command(path: str) -> None:
    """Write the directory as HSDS 3.0 JSON."""
    from carenet.directory.hsds.exporter import run_export_command

    run_export_command(path)


@click.command("reindex-search")
@with_appcontext
def reindex_search_command() -> None:
    """Rebuild the search tables from the directory, rows stored in map order."""
    import time

    from carenet.directory.search.index import rebuild_all
    from carenet.extensions import db

    started = time.perf_counter()
    count = rebuild_all(echo=click.echo)
    db.session.commit()
    click.echo(f"indexed {count} services in {time.perf_counter() - started:.1f} s")
