"""``carenet bench``: benchmark commands (see docs/performance.md)."""

from __future__ import annotations

import json
import os

import click


@click.group("bench")
def bench_group() -> None:
    """Benchmarks on synthetic data."""


@bench_group.command("search")
@click.option(
    "--services",
    "services",
    type=click.IntRange(1),
    default=10_000,
    show_default=True,
    help="Synthetic services to generate.",
)
@click.option(
    "--backend",
    type=click.Choice(["spatialite", "postgis"]),
    default="spatialite",
    show_default=True,
)
@click.option("--queries", type=click.IntRange(1), default=1000, show_default=True)
@click.option("--seed", type=int, default=1, show_default=True)
@click.option(
    "--workers",
    type=click.IntRange(1),
    default=None,
    help="gunicorn workers for the HTTP measurement [default: one per core on SpatiaLite,"
    " two per core on PostGIS, as docs/operations.md recommends].",
)
@click.option(
    "--clients",
    type=click.IntRange(1),
    default=8,
    show_default=True,
    help="Concurrent HTTP clients for the throughput measurement.",
)
@click.option("--json", "as_json", is_flag=True, help="Also print the figures as JSON.")
@click.option(
    "--existing-url",
    default=None,
    help="Measure a database this command generated earlier: skip generating.",
)
@click.option("--no-rebuild", is_flag=True, help="With --existing-url: keep its search index.")
@click.option("--keep", is_flag=True, help="Keep the generated database; prints its URL.")
def bench_search(services: int, backend: str, queries: int, seed: int, workers: int | None,
                 clients: int, as_json: bool, existing_url: str | None,
                 no_rebuild: bool, keep: bool) -> None:  # fmt: skip
    """Generate N services in a throwaway database and time raw SQL, search(), and HTTP."""
    from carenet.bench.search_bench import report, run

    if workers is None:
        workers = (os.cpu_count() or 2) * (1 if backend == "spatialite" else 2)

    figures = run(services, backend, queries, seed, workers, clients, echo=click.echo,
                  existing_url=existing_url, rebuild=not no_rebuild, keep=keep)  # fmt: skip
    click.echo(report(figures))
    if as_json:
        click.echo(json.dumps(figures))


from carenet.bench.reports_bench import register as _register_reports  # noqa: E402

_register_reports(bench_group)  # carenet bench reports (docs/performance.md, "Reports")

from carenet.bench.load import register as _register_load  # noqa: E402

_register_load(bench_group)  # carenet bench load (docs/performance.md, "Load")


@bench_group.command("import")
@click.option(
    "--services",
    "services",
    type=click.IntRange(1),
    default=10_000,
    show_default=True,
    help="Synthetic HSDS services to generate and import.",
)
@click.option(
    "--backend",
    type=click.Choice(["spatialite", "postgis"]),
    default="spatialite",
    show_default=True,
)
@click.option("--seed", type=int, default=1, show_default=True)
@click.option(
    "--batch-size",
    type=click.IntRange(1),
    default=None,
    help="Records per transaction [default: CARENET_IMPORT_BATCH_SIZE].",
)
@click.option("--profile", is_flag=True, help="Print where the import spends its time.")
@click.option("--json", "as_json", is_flag=True, help="Also print the figures as JSON.")
def bench_import(services: int, backend: str, seed: int, batch_size: int | None,
                 profile: bool, as_json: bool) -> None:  # fmt: skip
    """Generate N HSDS services and time import-hsds on them in a throwaway database."""
    from carenet.bench.import_bench import report_lines, run

    figures = run(services, backend, seed, batch_size, echo=click.echo, profile=profile)
    for line in report_lines(figures):
        click.echo(line)
    if as_json:
        click.echo(json.dumps(figures))
