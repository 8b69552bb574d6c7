"""``carenet bench reports``: every report timed over a year of N synthetic referrals.

Builds a throwaway database (SpatiaLite file or PostGIS), loads N referrals with
their needs, patients, events and zero-result searches in bulk (COPY /
executemany; ``carenet.demo.generator``), ANALYZEs (and on PostgreSQL
VACUUMs the two report tables, as autovacuum does soon after they are first
built: index-only scans need the visibility map), then times each report
through the same service function the API and the page call (SQL, suppression,
shaping), for every grouping, over the whole year. Each timing is the median of
``repeat`` runs after one warm-up run.
"""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any

from sqlalchemy import text

if TYPE_CHECKING:
    from carenet.reports.query import ReportQuery

Echo = Callable[[str], None]
GROUPINGS = ("none", "domain", "period", "zip", "county", "cbo", "care_org")
NEED_REPORTS = ("unmet-needs", "unmet-needs-trend", "service-gaps")
SQLITE_CACHE_KIB = 1 << 20  # 1 GiB of page cache while generating (SQLite's default: 2 MiB)


def _world(conn: Any, seed: int, end: datetime) -> Any:
    import zipcodes

    from carenet.demo.generator import DOMAIN_WEIGHTS, Recipient, World, write_rows

    rng = random.Random(seed)
    florida = sorted(z["zip_code"] for z in zipcodes.filter_by(state="FL", active=True))
    postcodes = rng.sample(florida, 400)
    now = end
    care = [(f"bench-care-{i:03d}", f"Bench Care Organization {i:03d}") for i in range(20)]
    cbos = [(f"bench-cbo-{i:03d}", f"Bench Community Organization {i:03d}") for i in range(300)]
    write_rows(conn, "organization", ("id", "name", "kind", "created_at", "updated_at"),
               [(i, n, "care", now, now) for i, n in care]
               + [(i, n, "community", now, now) for i, n in cbos])  # fmt: skip
    domains = list(DOMAIN_WEIGHTS)
    recipients = [
        Recipient(i, None, f"Service of {n}", frozenset(rng.sample(domains, rng.randint(1, 3))))
        for i, n in cbos
    ]
    return World([i for i, _ in care], recipients, postcodes, end - timedelta(days=365), end,
                 "Bench Patient")  # fmt: skip


def _loading(conn: Any) -> Any:
    """The connection to generate with: on SQLite with a page cache that holds the indexes of
    a million rows (the bench's database is thrown away; nothing else reads it meanwhile)."""
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql(f"PRAGMA cache_size = -{SQLITE_CACHE_KIB}")
    return conn


def _release_year(release: Callable[..., list], session: Any, end: datetime,
                  echo: Echo) -> dict[str, Any]:  # fmt: skip
    """Run the scheduled release job over the year (each month once), timing each month."""
    started = time.perf_counter()
    clock = [started]

    def each(line: str) -> None:  # one line per month released, with its time
        now = time.perf_counter()
        echo(f"  {line} in {now - clock[0]:.1f} s")
        clock[0] = now

    months = release(session, end, each)
    seconds = time.perf_counter() - started
    echo(f"released the year's {len(months)} months in {seconds:.0f} s")
    return {"release_s": seconds, "months_released": len(months)}


def _time(function: Callable[[], Any], repeat: int) -> float:
    function()  # warm-up: caches and plans
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def run(referrals: int, backend: str, seed: int = 7, repeat: int = 3, echo: Echo = print,
        existing_url: str | None = None, keep: bool = False,
        rebuild: bool = False) -> dict[str, Any]:  # fmt: skip
    """Generate ``referrals`` referrals on ``backend`` and time every report; returns figures.

    ``existing_url``: a database this command generated before (``keep``): skip
    generating. ``rebuild``: build the report tables from scratch even then.
    """
    from contextlib import nullcontext

    from flask_migrate import upgrade

    from carenet import create_app
    from carenet.bench.search_bench import bench_database
    from carenet.demo.generator import generate_history
    from carenet.extensions import db
    from carenet.reports.query import NEED_GROUPS, ReportQuery
    from carenet.reports.service import (
        REPORTS,
        refresh_report_tables,
        release_months,
        vacuum_report_tables,
    )

    figures: dict[str, Any] = {"referrals": referrals, "backend": backend, "timings": {}}
    end = datetime(2026, 11, 1, tzinfo=UTC)
    database = nullcontext(existing_url) if existing_url else bench_database(backend, echo, keep)
    with database as url:
        app = create_app(
            {"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench-only", "ENV_NAME": "development"}
        )
        with app.app_context():
            upgrade(revision="heads")
            started = time.perf_counter()
            if existing_url:
                figures["rows"] = _counts(db.session)
            else:
                conn = _loading(db.session.connection())
                world = _world(conn, seed, end)
                figures["rows"] = vars(generate_history(conn, world, referrals, seed, echo))
                db.session.commit()
            figures["generate_s"] = time.perf_counter() - started
            echo(f"generated {figures['rows']} in {figures['generate_s']:.0f} s")
            if rebuild:
                for table in ("report_duration", "report_count", "report_period",
                              "report_refresh", "report_referral", "report_need"):  # fmt: skip
                    db.session.execute(text(f"DELETE FROM {table}"))  # noqa: S608
                db.session.commit()
            started = time.perf_counter()
            refresh_report_tables(db.session())
            figures["facts_s"] = time.perf_counter() - started
            echo(f"built the report tables in {figures['facts_s']:.0f} s")
            started = time.perf_counter()
            db.session.execute(text("ANALYZE"))
            db.session.commit()
            vacuum_report_tables(db.session())  # PostgreSQL: what autovacuum does soon after
            figures["analyze_s"] = time.perf_counter() - started
            year = ReportQuery(start=end - timedelta(days=365), end=end, as_of=end)
            figures.update(_release_year(release_months, db.session(), end, echo))
            vacuum_report_tables(db.session())  # and again after the releases (autovacuum's job)
            for name, report in REPORTS.items():
                groups: tuple[str, ...] = NEED_GROUPS if name in NEED_REPORTS else GROUPINGS
                if name in ("unmet-needs-trend", "service-gaps"):
                    groups = ("domain",)  # these two group on their own
                for group in groups:
                    q = ReportQuery(start=year.start, end=year.end, as_of=end, group_by=group)
                    seconds = _time(partial(report, db.session(), q), repeat)
                    figures["timings"][f"{name} by {group}"] = seconds
                    db.session.rollback()
                    echo(f"  {name} by {group}: {seconds * 1000:.0f} ms")
            month = ReportQuery(start=end - timedelta(days=30), end=end, as_of=end)
            figures["timings"]["unmet-needs by domain, last 30 days"] = _time(
                lambda: REPORTS["unmet-needs"](db.session(), month), repeat
            )
            for label, q in _filters(db.session, year):  # a program lead narrowing down
                for name, report in REPORTS.items():
                    if not _released(report, q):
                        continue
                    seconds = _time(partial(report, db.session(), q), repeat)
                    figures["timings"][f"{name} {label}"] = seconds
                    db.session.rollback()
                    echo(f"  {name} {label}: {seconds * 1000:.0f} ms")
            db.session.remove()
            db.engine.dispose()
    return figures


def _released(report: Callable[..., Any], q: ReportQuery) -> bool:
    """Whether the report is released for this filter (needs have no CBO, searches no
    organization: those are a 400 problem, not timed)."""
    from carenet.errors import InvalidInput
    from carenet.extensions import db

    try:
        report(db.session(), q)
    except InvalidInput:
        db.session.rollback()
        return False
    return True


def _filters(session: Any, year: ReportQuery) -> list[tuple[str, ReportQuery]]:
    """Three filtered views of ``year``: a domain by ZIP, the largest county by care org, a CBO
    by domain."""
    county = session.execute(
        text("SELECT county FROM report_referral GROUP BY county ORDER BY COUNT(*) DESC LIMIT 1")
    ).scalar()
    cbo = session.execute(text("SELECT MIN(cbo_id) FROM report_referral")).scalar()
    session.rollback()
    return [
        ("by zip, domain food-insecurity", replace(year, group_by="zip", domain="food-insecurity")),
        (f"by care_org, county {county}", replace(year, group_by="care_org", county=county)),
        (f"by domain, cbo {cbo}", replace(year, group_by="domain", cbo=cbo)),
    ]


def _counts(session: Any) -> dict[str, int]:
    tables = {"referrals": "referral", "events": "referral_event", "needs": "need",
              "patients": "patient", "searches": "search_gap"}  # fmt: skip
    return {
        k: int(session.execute(text(f"SELECT COUNT(*) FROM {t}")).scalar())  # noqa: S608
        for k, t in tables.items()
    }


def report(figures: dict[str, Any]) -> str:
    """The figures as a Markdown table (docs/performance.md)."""
    rows = figures["rows"]
    lines = [
        f"backend {figures['backend']}: {rows['referrals']:,} referrals, {rows['events']:,} "
        f"events, {rows['needs']:,} needs, {rows['patients']:,} patients, "
        f"{rows['searches']:,} zero-result searches; generated in {figures['generate_s']:.0f} s,"
        f" report tables built in {figures['facts_s']:.0f} s, the year's months released in"
        f" {figures.get('release_s', 0):.0f} s",
        "",
        "| report (one year) | median of runs |",
        "|---|---:|",
    ]
    for name, seconds in figures["timings"].items():
        lines.append(f"| {name} | {seconds * 1000:,.0f} ms |")
    worst = max(figures["timings"].values())
    lines.append(f"| **slowest** | **{worst * 1000:,.0f} ms** |")
    return "\n".join(lines)


def register(group: Any) -> None:
    """Add ``carenet bench reports`` to the ``bench`` click group."""
    import click

    from carenet.bench import options

    @group.command("reports")
    @options.count("--referrals", 100_000, "Synthetic referrals to generate.", minimum=100)
    @options.backend
    @options.seed(7)
    @options.count("--repeat", 3, "Timed runs of each report (the median is printed).")
    @options.as_json
    @options.keep
    @click.option("--existing-url", help="Time a database kept by --keep instead of generating.")
    @click.option("--rebuild", is_flag=True,
                  help="Rebuild the report tables and the releases from scratch.")  # fmt: skip
    def bench_reports(referrals: int, backend: str, seed: int, repeat: int, as_json: bool,
                      keep: bool, existing_url: str | None, rebuild: bool) -> None:  # fmt: skip
        """Generate N referrals with events in a throwaway database and time every report."""
        figures = run(referrals, backend, seed, repeat, click.echo, existing_url, keep, rebuild)
        click.echo(report(figures))
        options.echo_json(figures, as_json)
