"""``carenet bench import --floor``: what the database alone takes of an import.

After the timed import, every row it wrote (directory and search tables) is read
back and inserted again into a second, freshly migrated database of the same
backend, a table at a time in the order the foreign keys need, through the
import's own bulk path (``carenet.db.bulk``: COPY on PostgreSQL, ``executemany``
on SQLite) with the same indexes, triggers and constraints. Only the database
calls and the commits are timed: reading the rows back and turning them into
values are not. What it prints is the ceiling this machine's database puts on an
import — services/s if mapping, shaping and Python cost nothing
(docs/performance.md, "Performance: import").
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, func, select

Echo = Callable[[str], None]
CHUNK = 5_000  # rows read, prepared and inserted at a time
COMMIT_ROWS = 50_000  # rows between two commits, about what the import's batches hold


def floor(source_url: str, backend: str, services: int, echo: Echo) -> dict[str, Any]:
    """Replay the rows of the database at ``source_url`` into an empty one; the figures."""
    from flask_migrate import upgrade

    from carenet import create_app
    from carenet.db.engine import engine_options, install_connect_hooks
    from carenet.directory.service import ensure_taxonomy
    from carenet.extensions import db

    source = create_engine(source_url, **engine_options(source_url))
    install_connect_hooks(source)
    tables: dict[str, tuple[int, float]] = {}
    try:
        with _empty_database(source_url, backend) as target_url:
            app = create_app({"SQLALCHEMY_DATABASE_URI": target_url, "SECRET_KEY": "bench-only",
                              "ENV_NAME": "development"})  # fmt: skip
            with app.app_context(), source.connect() as reader:
                upgrade()
                ensure_taxonomy()  # as the import does before its first batch (not timed)
                db.session.commit()
                for table in db.metadata.sorted_tables:
                    if db.session.execute(select(func.count()).select_from(table)).scalar():
                        continue  # written by the migrations or ensure_taxonomy: not the import's
                    timed = _replay(reader, table, echo)
                    if timed[0]:
                        tables[table.name] = timed
                db.session.remove()
                db.engine.dispose()
    finally:
        source.dispose()
    seconds = sum(s for _, s in tables.values())
    return {
        "floor_s": seconds,
        "floor_rows": sum(n for n, _ in tables.values()),
        "floor_services_per_s": services / seconds if seconds else 0.0,
        "floor_tables": {name: {"rows": n, "s": round(s, 3)} for name, (n, s) in tables.items()},
    }


def _replay(reader: Any, table: Any, echo: Echo) -> tuple[int, float]:
    """Insert ``table``'s rows from ``reader`` into the app's database; (rows, seconds)."""
    from carenet.db.bulk import insert_prepared, prepare_rows
    from carenet.extensions import db

    rows, seconds, since_commit = 0, 0.0, 0
    result = reader.execution_options(yield_per=CHUNK).execute(select(table))
    for chunk in result.mappings().partitions(CHUNK):
        conn = db.session.connection()
        prepared = prepare_rows(conn, table, [dict(row) for row in chunk])
        started = time.perf_counter()
        insert_prepared(conn, prepared)
        since_commit += len(chunk)
        if since_commit >= COMMIT_ROWS:
            db.session.commit()
            since_commit = 0
        seconds += time.perf_counter() - started
        rows += len(chunk)
    started = time.perf_counter()
    db.session.commit()
    seconds += time.perf_counter() - started
    if rows:
        echo(f"  floor: {table.name} {rows} rows in {seconds:.2f} s")
    return rows, seconds


@contextmanager
def _empty_database(source_url: str, backend: str) -> Iterator[str]:
    """A second empty database beside ``source_url``'s, removed afterwards."""
    if backend == "spatialite":
        folder = Path(tempfile.mkdtemp(prefix="carenet-floor-"))
        try:
            yield f"sqlite:///{folder / 'floor.db'}"
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        return
    from carenet.db.throwaway_pg import create_database, drop_database

    name = f"carenet_floor_{os.getpid()}"
    try:
        yield create_database(source_url, name)
    finally:
        drop_database(source_url, name)


def floor_lines(figures: dict[str, Any]) -> Iterator[str]:
    rate = figures["floor_services_per_s"]
    yield (f"  database alone (the same {figures['floor_rows']:,} rows inserted again, "
           f"Python not timed): {figures['floor_s']:.1f} s, "
           f"at most {rate:,.0f} services/s on this machine")  # fmt: skip
