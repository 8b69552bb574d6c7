"""``carenet bench``: benchmark commands (see docs/performance.md)."""

from __future__ import annotations

import click

from carenet.bench import options


@click.group("bench")
def bench_group() -> None:
    """Benchmarks on synthetic data."""


@bench_group.command("search")
@options.count("--services", 10_000, "Synthetic services to generate.")
@options.backend
@options.count("--queries", 1000, "Searches to time.")
@options.seed(1)
@options.workers
@options.count("--clients", 8, "Concurrent HTTP clients for the throughput measurement.")
@options.as_json
@click.option(
    "--existing-url",
    default=None,
    help="Measure a database this command generated earlier: skip generating.",
)
@click.option("--no-rebuild", is_flag=True, help="With --existing-url: keep its search index.")
@options.keep
def bench_search(services: int, backend: str, queries: int, seed: int, workers: int | None,
                 clients: int, as_json: bool, existing_url: str | None,
                 no_rebuild: bool, keep: bool) -> None:  # fmt: skip
    """Generate N services in a throwaway database and time raw SQL, search(), and HTTP."""
    from carenet.bench.search_bench import report, run

    figures = run(services, backend, queries, seed, workers or options.default_workers(backend),
                  clients, echo=click.echo, existing_url=existing_url, rebuild=not no_rebuild,
                  keep=keep)  # fmt: skip
    click.echo(report(figures))
    options.echo_json(figures, as_json)


from carenet.bench.reports_bench import register as _register_reports  # noqa: E402

_register_reports(bench_group)  # carenet bench reports (docs/performance.md, "Reports")

from carenet.bench.load import register as _register_load  # noqa: E402

_register_load(bench_group)  # carenet bench load (docs/performance.md, "Load")


@bench_group.command("import")
@options.count("--services", 10_000, "Synthetic HSDS services to generate and import.")
@options.backend
@options.seed(1)
@click.option(
    "--batch-size",
    type=click.IntRange(1),
    default=None,
    help="Records per transaction [default: CARENET_IMPORT_BATCH_SIZE].",
)
@click.option("--profile", is_flag=True, help="Print where the import spends its time.")
@click.option(
    "--floor",
    is_flag=True,
    help="Then time the database alone: the same rows inserted again into an empty database.",
)
@options.as_json
def bench_import(services: int, backend: str, seed: int, batch_size: int | None,
                 profile: bool, floor: bool, as_json: bool) -> None:  # fmt: skip
    """Generate N HSDS services and time import-hsds on them in a throwaway database."""
    from carenet.bench.import_bench import report_lines, run

    figures = run(services, backend, seed, batch_size, echo=click.echo, profile=profile,
                  floor=floor)  # fmt: skip
    for line in report_lines(figures):
        click.echo(line)
    options.echo_json(figures, as_json)
