"""The fast import path behaves as the slow one did: bulk inserts (``carenet.db.bulk``),
one summary warning for services without a status, a progress bar per batch."""

from __future__ import annotations

import gc
import json
import os
from datetime import UTC, date, datetime, time
from pathlib import Path

import pytest
from sqlalchemy import event, select
from sqlalchemy.exc import IntegrityError

from carenet.bench.import_bench import write_services
from carenet.db.bulk import CHECKPOINT_PAGES, insert_rows
from carenet.db.engine import began_as_writer
from carenet.directory.hsds import import_path
from carenet.directory.hsds.mapping import TABLES
from carenet.directory.models import Location, Organization, Schedule, Service
from carenet.extensions import db


def _services_without_status(tmp_path: Path, count: int) -> Path:
    path = tmp_path / "no_status.ndjson"
    with path.open("w") as handle:
        for i in range(count):
            handle.write(
                json.dumps(
                    {
                        "id": f"00000000-0000-4000-8000-{i:012d}",
                        "name": f"Service {i}",
                        "organization": {"id": "00000000-0000-4000-9000-000000000001", "name": "O"},
                    }
                )
                + "\n"
            )
    return path


def test_services_without_a_status_give_one_warning_with_the_count_and_first_ids(app_ctx, tmp_path):
    path = _services_without_status(tmp_path, 7)
    report = import_path(path, batch_size=3)
    assert report.rejected == [] and report.counts["service_created"] == 7
    about_status = [w for w in report.warnings if "status" in w]
    assert len(about_status) == 1
    first_ids = ", ".join(f"00000000-0000-4000-8000-{i:012d}" for i in range(5))
    assert str(about_status[0]) == (
        "record 00000000-0000-4000-8000-000000000000 (no_status.ndjson line 1):"
        " status is missing or unknown on 7 services; taken as active"
        f" (service {first_ids}, and 2 more)"
    )
    assert {s.status for s in db.session.scalars(select(Service))} == {"active"}
    out = tmp_path / "report.jsonl"
    report.write_json_lines(out)
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [line["message"] for line in lines if "status" in line["message"]] == [
        about_status[0].reason
    ]


def test_one_service_without_status_is_named_alone(app_ctx, tmp_path):
    report = import_path(_services_without_status(tmp_path, 1))
    assert [w.reason for w in report.warnings] == [
        "status is missing or unknown on 1 service; taken as active"
        " (service 00000000-0000-4000-8000-000000000000)"
    ]


def test_an_unknown_status_is_dropped_with_its_own_warning_and_counted_in_the_summary(
    app_ctx, tmp_path
):
    path = tmp_path / "odd.json"
    record = {"id": "s1", "name": "S", "status": "paused", "organization_id": "o1"}
    organization = {"id": "o1", "name": "O"}
    path.write_text(json.dumps([organization, record]))
    report = import_path(path)
    reasons = [w.reason for w in report.warnings]
    assert any("unknown status 'paused'" in r for r in reasons)
    assert "status is missing or unknown on 1 service; taken as active (service s1)" in reasons


def test_progress_is_reported_once_per_batch_and_at_the_end(app_ctx, tmp_path):
    path = tmp_path / "services.ndjson"
    write_services(path, 5, seed=3)
    calls: list[tuple[int, int]] = []
    report = import_path(
        path, batch_size=2, progress=lambda done, total: calls.append((done, total))
    )
    assert report.counts["service_created"] == 5
    size = path.stat().st_size
    assert len(calls) == 3  # after batches 1 and 2, then the end (batch 3 is the last one)
    assert calls[-1] == (size, size)
    assert [done for done, _ in calls] == sorted(done for done, _ in calls)


def _autocheckpoint() -> int:
    raw = db.session.connection().connection.dbapi_connection
    return int(raw.execute("PRAGMA wal_autocheckpoint").fetchone()[0])


def test_sqlite_checkpoints_the_log_less_often_during_an_import_only(app_ctx, tmp_path):
    """The batches are written (and committed) with the deferred setting on the writer's
    connection; afterwards every pooled connection has SQLite's default again."""
    if db.engine.dialect.name != "sqlite":
        pytest.skip("a SQLite setting (WAL checkpoints)")
    path = tmp_path / "services.ndjson"
    write_services(path, 5, seed=3)
    before = _autocheckpoint()
    db.session.commit()
    at_commit: list[int] = []
    writers: list[bool] = []

    def on_commit(conn) -> None:
        raw = conn.connection.dbapi_connection
        at_commit.append(int(raw.execute("PRAGMA wal_autocheckpoint").fetchone()[0]))
        writers.append(began_as_writer(conn))

    event.listen(db.engine, "commit", on_commit)
    try:
        report = import_path(path, batch_size=2)
    finally:
        event.remove(db.engine, "commit", on_commit)
    assert report.counts["service_created"] == 5
    # the taxonomy's commit first (before the import's batches), then the 3 batches
    assert at_commit == [1000, CHECKPOINT_PAGES, CHECKPOINT_PAGES, CHECKPOINT_PAGES]
    assert writers[1:] == [True, True, True]  # each batch took the write lock up front
    with db.engine.connect() as first, db.engine.connect() as second:
        for conn in (first, second):
            raw = conn.connection.dbapi_connection
            assert before == 1000 == raw.execute("PRAGMA wal_autocheckpoint").fetchone()[0]


def test_the_garbage_collector_is_off_during_an_import_and_back_on_after(app_ctx, tmp_path):
    path = tmp_path / "services.ndjson"
    write_services(path, 5, seed=3)
    during: list[bool] = []
    report = import_path(path, batch_size=2, progress=lambda *_: during.append(gc.isenabled()))
    assert report.counts["service_created"] == 5
    assert during[:2] == [False, False]
    assert gc.isenabled() and gc.get_freeze_count() == 0


def test_cli_progress_bar_only_when_asked_or_on_a_terminal(runner, tmp_path):
    path = tmp_path / "services.ndjson"
    write_services(path, 3, seed=4)
    quiet = runner.invoke(args=["import-hsds", str(path)])
    assert quiet.exit_code == 0, quiet.output
    assert "Importing" not in quiet.stderr  # the test runner's stderr is no terminal
    shown = runner.invoke(args=["import-hsds", "--progress", str(path)])
    assert shown.exit_code == 0, shown.output
    assert "Importing" in shown.stderr
    assert "services: 0 created, 3 updated" in shown.stdout


def _read(table, key: str) -> dict:
    row = db.session.execute(select(table).where(table.c.id == key)).mappings().one()
    return dict(row)


def test_bulk_insert_reads_back_as_sqlalchemy_insert_does(app_ctx):
    """Every type of the HSDS tables (JSON, geometry, UTC time stamps, times, dates,
    booleans) and the column defaults, through ``insert_rows`` and through Core."""
    conn = db.session.connection()
    org = {"id": "o-core", "name": "O", "hsds_extra": {"a": [1, "é"], "carenet:local": {}}}
    conn.execute(TABLES["organization"].insert(), [org])
    insert_rows(conn, TABLES["organization"], [dict(org, id="o-bulk")])
    location = {
        "id": "l-core",
        "organization_id": "o-core",
        "latitude": 25.7617,
        "longitude": -80.1918,
        "geom": "SRID=4326;POINT(-80.1918 25.7617)",
        "hsds_extra": None,
    }
    conn.execute(TABLES["location"].insert(), [location])
    insert_rows(conn, TABLES["location"], [dict(location, id="l-bulk")])
    service = {
        "id": "s-core",
        "organization_id": "o-core",
        "name": "S",
        "free": True,
        "confidential": False,
        "last_verified_at": datetime(2025, 3, 4, 5, 6, 7, 890, tzinfo=UTC),
        "hsds_extra": {"x": None},
    }
    conn.execute(TABLES["service"].insert(), [service])
    insert_rows(conn, TABLES["service"], [dict(service, id="s-bulk")])
    schedule = {
        "id": "h-core",
        "service_id": "s-core",
        "location_id": None,
        "byday": "MO",
        "opens_at": time(9, 30),
        "closes_at": time(17, 0, 5),
        "valid_from": date(2025, 1, 1),
        "valid_to": None,
        "hsds_extra": None,
    }
    conn.execute(TABLES["schedule"].insert(), [schedule])
    insert_rows(conn, TABLES["schedule"], [dict(schedule, id="h-bulk", service_id="s-bulk")])
    for table, core, bulk in (
        (Organization.__table__, "o-core", "o-bulk"),
        (Location.__table__, "l-core", "l-bulk"),
        (Service.__table__, "s-core", "s-bulk"),
        (Schedule.__table__, "h-core", "h-bulk"),
    ):
        a, b = _read(table, core), _read(table, bulk)
        for stamp in ("created_at", "updated_at"):  # defaults: now, a moment apart
            if stamp in a:
                assert abs((a.pop(stamp) - b.pop(stamp)).total_seconds()) < 60
        a.pop("id"), b.pop("id")
        for link in ("organization_id", "service_id"):
            if link in a and a[link] and a[link].endswith("-core"):
                assert b[link] in (a[link], a[link].replace("-core", "-bulk"))
                a.pop(link), b.pop(link)
        geom = table.c.get("geom")
        if geom is not None:
            as_text = db.session.scalars(
                select(geom.ST_AsText()).where(table.c.id.in_([core, bulk]))
            ).all()
            assert len(set(as_text)) == 1 and as_text[0].startswith("POINT")
            a.pop("geom"), b.pop("geom")
        assert a == b, table.name


def test_a_row_the_database_refuses_raises_as_sqlalchemy_would(app_ctx):
    conn = db.session.connection()
    org = {"id": "o-twice", "name": "O"}
    insert_rows(conn, TABLES["organization"], [org])
    with pytest.raises(IntegrityError):
        insert_rows(conn, TABLES["organization"], [org])
    db.session.rollback()


def _search_rows() -> list[tuple]:
    from carenet.directory.search.models import search_entry

    columns = [c for c in search_entry.columns if c.name not in {"id", "any_id"}]
    return sorted((tuple(r) for r in db.session.execute(select(*columns))), key=repr)


def test_mapping_in_worker_processes_imports_exactly_what_mapping_here_does(
    app_ctx, tmp_path, data_dir, monkeypatch
):
    """The same file (good records, rejected ones, warnings) imported with mapping in this
    process, then again with two worker processes: the same report, and the re-import
    (upsert by id) leaves exactly the rows the first import wrote."""
    from directory_helpers import dump_directory

    from carenet.directory.hsds import mapping_pool

    path = tmp_path / "mixed.ndjson"
    write_services(path, 40, seed=5)
    bad = json.loads((data_dir / "bad_records.json").read_text())
    with path.open("a") as handle:
        for record in bad:
            handle.write(json.dumps(record) + "\n")
        handle.write("{broken\n")
    monkeypatch.setattr(mapping_pool, "CHUNK", 7)  # several chunks in flight
    outcomes = []
    for workers in (0, 2):
        report = import_path(path, batch_size=9, workers=workers)
        assert report.workers == workers
        written = {
            e: report.counts[f"{e}_created"] + report.counts[f"{e}_updated"]
            for e in ("organization", "location", "service")
        }
        outcomes.append(
            (
                [str(r) for r in report.rejected],
                [str(w) for w in report.warnings],
                written,
                dump_directory(),
                _search_rows(),
            )
        )
    assert outcomes[0][0] and outcomes[0][1]  # rejections and warnings to compare
    assert outcomes[1] == outcomes[0]


def test_a_reimport_replaces_the_children_of_services_already_there(app_ctx, tmp_path):
    """Children are deleted only for parents that existed before the batch: an existing
    service's old phones and schedules go, a new service in the same batch gets its own."""
    from carenet.directory.models import Phone

    path = tmp_path / "services.ndjson"
    write_services(path, 3, seed=6)
    assert import_path(path).counts["service_created"] == 3
    records = [json.loads(line) for line in path.read_text().splitlines()]
    first = records[0]
    first["phones"] = [{"id": "00000000-0000-4000-8000-0000000000f1", "number": "305-555-0101"}]
    first["schedules"] = []
    newcomer = json.loads(json.dumps(records[1]))
    newcomer["id"] = "00000000-0000-4000-8000-0000000000f2"
    for key in ("phones", "schedules", "languages", "service_areas", "attributes"):
        newcomer.pop(key, None)
    newcomer["service_at_locations"] = []
    again = tmp_path / "again.ndjson"
    again.write_text(json.dumps(first) + "\n" + json.dumps(newcomer) + "\n")
    report = import_path(again)
    assert report.rejected == []
    assert report.counts["service_updated"] == 1 and report.counts["service_created"] == 1
    phones = db.session.scalars(select(Phone.id).where(Phone.service_id == first["id"])).all()
    assert phones == ["00000000-0000-4000-8000-0000000000f1"]
    assert (
        db.session.scalars(select(Schedule).where(Schedule.service_id == first["id"])).all() == []
    )
    stored = db.session.get(Service, newcomer["id"])
    assert stored is not None and stored.name == records[1]["name"]
    untouched = records[2]["id"]
    assert db.session.scalars(select(Phone).where(Phone.service_id == untouched)).all()


def test_a_mapping_worker_is_automatic_for_large_inputs_on_two_cpus_or_more(app_ctx):
    from carenet.directory.hsds.importer import AUTO_WORKER_BYTES, _workers

    cpus = len(os.sched_getaffinity(0))
    automatic = {"IMPORT_WORKERS": ""}
    assert _workers(automatic, AUTO_WORKER_BYTES - 1) == 0  # small: mapped here
    assert _workers(automatic, AUTO_WORKER_BYTES) == (1 if cpus >= 2 else 0)
    assert _workers({"IMPORT_WORKERS": "0"}, 10 * AUTO_WORKER_BYTES) == 0  # configured wins
    assert _workers({"IMPORT_WORKERS": "3"}, 10) == 3


def test_the_automatic_worker_goes_by_the_size_of_the_files_read(app_ctx, tmp_path):
    """An ndjson file or a tabular folder of 4 MiB or more gets one worker on two CPUs or
    more, whatever the reader counts its progress in (bytes or rows); a URL none."""
    from carenet.directory.hsds.importer import AUTO_WORKER_BYTES, _input_bytes

    big = tmp_path / "package"
    big.mkdir()
    (big / "services.csv").write_bytes(b"x" * AUTO_WORKER_BYTES)
    (big / "datapackage.json").write_text("{}")
    assert _input_bytes(big) == AUTO_WORKER_BYTES + 2
    assert _input_bytes(big / "services.csv") == AUTO_WORKER_BYTES
    assert _input_bytes("http://localhost:5000/api/hsds") == 0
    assert _input_bytes(tmp_path / "missing.json") == 0
