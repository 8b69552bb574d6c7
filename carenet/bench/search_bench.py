"""``carenet bench search``: latency of raw SQL, the search function and the HTTP endpoint.

For each random query (a point near a random ZIP centroid, one of the four seed
categories, 10-mile radius, first page of 20) it times:

- (a0) the textbook raw query: nearest 20 places of one category within 10 miles;
- (a) carenet's own search SQL (places + service areas + paging count), run raw
  through the DB-API with no SQLAlchemy, geocoding or result shaping;
- (b) ``search_services`` (parameters, SQL, opening hours, redaction, shaping);
- (c) ``GET /api/v1/services/search`` under gunicorn: sequential latency, then
  throughput with concurrent clients.
"""

from __future__ import annotations

import os
import random
import shutil
import tempfile
import threading
import time
from collections import namedtuple
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

from carenet.bench import server
from carenet.bench.datagen import CATEGORIES, generate, zip_records

Echo = Callable[[str], None]

MINIMAL_SQL = {
    "postgresql": (
        "SELECT id, ST_Distance(geog, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)::geography)"
        " AS d FROM search_entry WHERE category_code = CAST(:code AS integer) AND ST_DWithin(geog,"
        " ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)::geography, :radius_m) ORDER BY d LIMIT 20"
    ),
    "sqlite": (
        "SELECT e.id, ST_Distance(MakePoint(e.longitude, e.latitude, 4326),"
        " MakePoint(:lon, :lat, 4326), 1) AS d FROM search_entry_rtree r"
        " JOIN search_entry e ON e.id = r.id WHERE r.min_x <= :max_lon AND r.max_x >= :min_lon"
        " AND r.min_y <= :max_lat AND r.max_y >= :min_lat AND r.min_c <= :code"
        " AND r.max_c >= :code AND d <= :radius_m ORDER BY d LIMIT 20"
    ),
}


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)

    def at(p: float) -> float:
        return ordered[min(len(ordered) - 1, int(round(p * (len(ordered) - 1))))] * 1000

    return {"p50": at(0.50), "p95": at(0.95), "p99": at(0.99), "n": len(ordered)}


@contextmanager
def bench_database(backend: str, echo: Echo, keep: bool = False) -> Iterator[str]:
    """A fresh, empty database URL for the run, removed afterwards unless ``keep``."""
    if backend == "spatialite":
        directory = Path(tempfile.mkdtemp(prefix="carenet-bench-"))
        try:
            yield f"sqlite:///{directory / 'bench.db'}"
        finally:
            if keep:
                echo(f"kept: --existing-url sqlite:///{directory / 'bench.db'}")
            else:
                shutil.rmtree(directory, ignore_errors=True)
        return
    from carenet.db.throwaway_pg import create_database, drop_database, start_cluster

    server = os.environ.get("CARENET_DATABASE_URL", "")
    cluster = None
    if not server.startswith("postgres"):
        echo("starting a throwaway PostgreSQL cluster")
        cluster = start_cluster()
        server = cluster.url
    name = f"carenet_bench_{os.getpid()}"
    if keep and cluster:
        echo("--keep needs CARENET_DATABASE_URL to name a PostgreSQL server that outlives the run")
        keep = False
    try:
        yield create_database(server, name)
    finally:
        if keep:
            echo(f"kept: --existing-url {server.rsplit('/', 1)[0]}/{name}")
        elif cluster:
            cluster.stop()
        else:
            drop_database(server, name)


def make_queries(count: int, seed: int) -> list[tuple[float, float, str]]:
    rng = random.Random(seed + 1000)
    records = sorted(zip_records(), key=lambda r: r.postcode)
    queries = []
    for _ in range(count):
        rec = rng.choice(records)
        queries.append((rec.latitude + rng.gauss(0, 0.01), rec.longitude + rng.gauss(0, 0.01),
                        rng.choice(CATEGORIES)))  # fmt: skip
    return queries


def time_raw(queries: list, codes: dict[str, int], minimal: bool) -> dict[str, float]:
    """(a0)/(a): SQL through the bare DB-API cursor; (a) runs ``search.plan``'s statements."""
    from carenet.bench.datagen import DELIVERED
    from carenet.directory.search import plan, statements
    from carenet.directory.search.fragments import bbox_params
    from carenet.directory.search.params import max_results
    from carenet.directory.search.query import SearchQuery
    from carenet.extensions import db
    from carenet.geo import METERS_PER_MILE, nearest_postcode

    raw = db.engine.raw_connection()
    dialect = db.engine.dialect.name
    cursor = raw.cursor()
    shapes: dict[tuple[str, ...], Any] = {}

    def execute(sql: str, params: dict[str, Any]) -> list[Any]:
        cursor.execute(statements.driver_sql(sql, dialect), params)
        names = tuple(d[0] for d in cursor.description)
        shape = shapes.get(names) or shapes.setdefault(names, namedtuple("Row", names, rename=True))
        return [shape(*row) for row in cursor.fetchall()]

    samples = []
    for lat, lon, category in queries:
        q = SearchQuery(
            latitude=lat, longitude=lon, postcode=nearest_postcode(lat, lon),
            radius_m=10 * METERS_PER_MILE, category_code=codes[category],
            serving_first=category in DELIVERED,
        )  # fmt: skip
        if minimal:
            params = {"lat": lat, "lon": lon, "code": codes[category], "radius_m": q.radius_m,
                      **bbox_params(lat, lon, q.radius_m)}  # fmt: skip
            started = time.perf_counter()
            execute(MINIMAL_SQL[dialect], params)
        else:
            started = time.perf_counter()
            plan.run(execute, dialect, q, max_results())
        samples.append(time.perf_counter() - started)
    raw.commit()
    raw.close()
    return percentiles(samples)


def time_function(queries: list) -> dict[str, float]:
    """(b): carenet's search function."""
    from carenet.directory.search import SearchParams, search_services
    from carenet.extensions import db

    samples = []
    for lat, lon, category in queries:
        params = SearchParams(latitude=lat, longitude=lon, categories=(category,))
        started = time.perf_counter()
        search_services(params)
        samples.append(time.perf_counter() - started)
        db.session.rollback()
    return percentiles(samples)


@contextmanager
def gunicorn(url: str, workers: int) -> Iterator[int]:
    env = {"CARENET_DATABASE_URL": url, "CARENET_SECRET_KEY": "bench-only",  # noqa: S106
           "CARENET_ENV": "development"}  # fmt: skip
    with server.gunicorn(env, workers) as port:
        yield port


def _path(lat: float, lon: float, category: str) -> str:
    return (f"/api/v1/services/search?lat={lat:.6f}&lon={lon:.6f}&category={category}"
            "&radius_mi=10&per_page=20")  # fmt: skip


def time_http(url: str, queries: list, workers: int, clients: int) -> dict[str, Any]:
    """(c): latency one request at a time, then throughput with ``clients`` threads.

    Warm-up first: every query once, from ``clients`` threads so that every worker gets its
    share — as (b) runs the queries (a) ran. A fresh worker process otherwise maps the pages
    of a multi-GB SQLite file (or fills its caches) on its first requests."""
    with gunicorn(url, workers) as port:
        _drive(port, queries, clients)
        samples = []
        for lat, lon, category in queries:
            started = time.perf_counter()
            status = server.get(port, _path(lat, lon, category))
            samples.append(time.perf_counter() - started)
            if status != 200:
                raise RuntimeError(f"HTTP {status} for {_path(lat, lon, category)}")
        result: dict[str, Any] = percentiles(samples)
        result["throughput"] = len(queries) / _drive(port, queries, clients)
    return result


def _drive(port: int, queries: list, clients: int) -> float:
    """Send every query once from ``clients`` threads; the seconds it took."""
    pending = list(queries)
    lock = threading.Lock()

    def client() -> None:
        while True:
            with lock:
                if not pending:
                    return
                lat, lon, category = pending.pop()
            server.get(port, _path(lat, lon, category))

    started = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - started


def run(services: int, backend: str, queries: int, seed: int, workers: int, clients: int,
        echo: Echo = print, existing_url: str | None = None,
        rebuild: bool = True, keep: bool = False) -> dict[str, Any]:  # fmt: skip
    """Generate ``services`` services on ``backend``, then time every layer; returns figures.
    ``existing_url``: a database this command generated before (kept): skip generating.
    ``keep``: keep the generated database for later ``existing_url`` runs."""
    from flask_migrate import upgrade
    from sqlalchemy import select

    from carenet import create_app
    from carenet.directory.search.index import rebuild_all
    from carenet.directory.search.models import search_category
    from carenet.extensions import db

    figures: dict[str, Any] = {"services": services, "backend": backend, "queries": queries}
    database = nullcontext(existing_url) if existing_url else bench_database(backend, echo, keep)
    with database as url:
        app = create_app(
            {"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench-only", "ENV_NAME": "development"}
        )
        with app.app_context():
            upgrade(revision="heads")
            started = time.perf_counter()
            if not existing_url:
                generate(services, seed, echo)
            figures["generate_s"] = time.perf_counter() - started
            echo(f"generated {services} services in {figures['generate_s']:.1f} s")
            started = time.perf_counter()
            if rebuild or not existing_url:
                rebuild_all(echo)
                db.session.commit()
            figures["index_s"] = time.perf_counter() - started
            _settle(db)
            echo(f"built the search index in {figures['index_s']:.1f} s")
            codes = dict(
                db.session.execute(select(search_category.c.slug, search_category.c.id))
                .tuples()
                .all()
            )
            db.session.rollback()
            sample = make_queries(queries, seed)
            warm = make_queries(100, seed + 7)
            time_raw(warm, codes, minimal=False)
            figures["a0_minimal_sql"] = time_raw(sample, codes, minimal=True)
            figures["a_search_sql"] = time_raw(sample, codes, minimal=False)
            time_function(warm)
            figures["b_function"] = time_function(sample)
            db.session.remove()
            db.engine.dispose()
        figures["c_http"] = time_http(url, sample, workers, clients)
        figures["c_http"].update(workers=workers, clients=clients)
    return figures


def _settle(db: Any) -> None:
    """Measure a database at rest, as after a load long ago: on PostgreSQL vacuumed (what
    autovacuum does after a while: the visibility map that index-only scans rely on) with
    fresh statistics; on SQLite the write-ahead log folded into the database file."""
    from carenet.directory.search import storage

    storage.for_dialect(db.engine.dialect.name).settle()
    db.session.commit()
    db.session.remove()
    db.engine.dispose()


def report(figures: dict[str, Any]) -> str:
    lines = [
        f"backend {figures['backend']}, {figures['services']:,} services, "
        f"{figures['queries']} queries (one category, 10 mi, first 20); "
        f"generate {figures['generate_s']:.0f} s, index {figures['index_s']:.0f} s",
        f"{'':34} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}",
    ]
    names = {
        "a0_minimal_sql": "(a0) raw SQL, nearest 20 places",
        "a_search_sql": "(a) raw SQL, carenet's query",
        "b_function": "(b) search_services()",
        "c_http": "(c) HTTP under gunicorn",
    }
    for key, name in names.items():
        f = figures[key]
        lines.append(f"{name:34} {f['p50']:8.2f} {f['p95']:8.2f} {f['p99']:8.2f}")
    c = figures["c_http"]
    lines.append(f"(c) throughput: {c['throughput']:.0f} searches/s"
                 f" ({c['workers']} gunicorn workers, {c['clients']} clients)")  # fmt: skip
    lines.append(
        f"(b) p95 / (a) p95 = {figures['b_function']['p95'] / figures['a_search_sql']['p95']:.2f}"
    )
    return "\n".join(lines)
