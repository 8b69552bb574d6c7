"""The search rows an import writes are built from the records it has just written
(``hsds.search_batch``), or read back from the directory when a batch refers to rows
outside it. Each batch built in memory is what ``search.rows.load_batch`` reads of it
from the database at that moment, and the rows are those a full rebuild from the
directory gives (``carenet reindex-search``), row for row, ids aside."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest
from directory_helpers import DATA
from sqlalchemy import select

from carenet.bench.import_bench import service_object
from carenet.directory.hsds import import_path, search_batch
from carenet.directory.search.index import rebuild_all
from carenet.directory.search.models import (
    search_area,
    search_entry,
    search_hours,
    search_text,
    search_zip,
)
from carenet.directory.search.rows import DirectoryBatch, load_batch
from carenet.extensions import db

ENTRY_COLUMNS = [c for c in search_entry.c if c.name not in {"id", "any_id"}]
AREA_COLUMNS = [c for c in search_area.c if c.name not in {"id", "entry_id", "geom"}]


FIELDS = {
    "services": search_batch.ServiceRow._fields,
    "sites": search_batch.SiteRow._fields,
    "addresses": search_batch.AddressRow._fields,
    "phones": search_batch.PhoneRow._fields,
    "schedules": search_batch.ScheduleRow._fields,
    "areas": search_batch.AreaRow._fields,
}


def _plain(batch: DirectoryBatch) -> dict[str, Any]:
    """A batch as plain values: each row as a dict of the columns the search rows use."""

    def row(name: str, value: Any) -> dict[str, Any]:
        mapping = value._asdict() if hasattr(value, "_asdict") else dict(value._mapping)
        return {k: mapping[k] for k in FIELDS[name]}

    def rows(name: str, groups: dict[Any, Any]) -> dict[Any, Any]:
        return {k: [row(name, v) for v in vs] if isinstance(vs, list) else row(name, vs)
                for k, vs in groups.items()}  # fmt: skip

    plain: dict[str, Any] = {"services": [row("services", s) for s in batch.services]}
    plain["categories"] = batch.categories
    plain["languages"] = {k: sorted(v) for k, v in batch.languages.items()}
    for name in ("sites", "addresses", "phones", "schedules", "areas"):
        plain[name] = rows(name, getattr(batch, name))
    return plain


@pytest.fixture
def compared(monkeypatch):
    """Every batch built in memory during the test compared with the database's reading."""
    built = []
    original = search_batch.directory_batch

    def checked(conn: Any, merged: Any, ids: Any) -> DirectoryBatch | None:
        batch = original(conn, merged, ids)
        if batch is not None:
            assert _plain(batch) == _plain(load_batch(conn, ids))
        built.append(batch is not None)
        return batch

    monkeypatch.setattr(search_batch, "directory_batch", checked)
    return built


def _entry_keys() -> dict[int, tuple[Any, ...]]:
    rows = db.session.execute(
        select(search_entry.c.id, search_entry.c.service_id, search_entry.c.category_code,
               search_entry.c.service_at_location_id)
    )  # fmt: skip
    return {r.id: (r.service_id, r.category_code, r.service_at_location_id or "") for r in rows}


def _snapshot() -> dict[str, list[tuple[Any, ...]]]:
    """Every search row, its ids replaced by what they point at, sorted."""
    keys = _entry_keys()
    entries = db.session.execute(select(search_entry.c.any_id, *ENTRY_COLUMNS)).all()
    areas = db.session.execute(
        select(search_area.c.id, search_area.c.entry_id, *AREA_COLUMNS)
    ).all()
    area_keys = {a.id: (a.service_area_id, a.category_code) for a in areas}
    hours = db.session.execute(select(search_hours).order_by(search_hours.c.id)).all()
    texts = db.session.execute(select(search_text)).all()
    zips = db.session.execute(select(search_zip)).all()

    def rounded(values: Any) -> tuple[Any, ...]:
        return tuple(round(v, 9) if isinstance(v, float) else v for v in values)

    return {
        "entry": sorted(rounded((keys[e.any_id], *e[1:])) for e in entries),
        "area": sorted(rounded((keys[a.entry_id], *a[2:])) for a in areas),
        "hours": sorted(rounded((keys[h.any_id], *h[2:])) for h in hours),
        "text": sorted((keys[t.any_id], t.body) for t in texts),
        "zip": sorted(
            (z.postcode, z.category_code, z.service_id, area_keys[z.area_id]) for z in zips
        ),
    }


SAMPLES = ["hsds3_examples", "miami_sample", "dc_sample", "or11_sample", "hsds3_csv",
           "service_full.json"]  # fmt: skip


def _same_as_rebuilt() -> dict[str, list[tuple[Any, ...]]]:
    imported = _snapshot()
    rebuild_all()
    db.session.commit()
    rebuilt = _snapshot()
    for table in imported:
        assert imported[table] == rebuilt[table], table
    return imported


@pytest.mark.parametrize("source", SAMPLES)
def test_each_batch_built_in_memory_is_what_the_database_holds(app_ctx, compared, source):
    report = import_path(DATA / source, batch_size=7)
    assert report.counts["service_created"] > 0
    assert any(compared)


@pytest.mark.parametrize("source", SAMPLES)
def test_imported_search_rows_are_those_a_rebuild_gives(app_ctx, source):
    report = import_path(DATA / source, batch_size=7)
    assert report.counts["service_created"] > 0
    snapshot = _same_as_rebuilt()
    assert snapshot["entry"] and snapshot["text"]


def _bench_services(count: int, seed: int = 3) -> list[dict[str, Any]]:
    from carenet.bench.datagen import zip_records

    rng = random.Random(seed)
    records = sorted(zip_records(), key=lambda r: r.postcode)[:400]
    return [service_object(i, rng, records) for i in range(count)]


def _write(path: Path, objects: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(o) + "\n" for o in objects))
    return path


def test_bench_services_and_their_reimport_with_changes(app_ctx, compared, tmp_path):
    """Synthetic services (every kind of area), then a second import that changes them:
    other phones and hours, an inactive service, a service moved to an organization and a
    location only referred to by id (rows outside the batch), a new name for a shared
    organization."""
    services = _bench_services(60)
    first = import_path(_write(tmp_path / "a.ndjson", services), batch_size=16)
    assert first.rejected == [] and first.counts["service_created"] == 60
    snapshot = _same_as_rebuilt()
    assert {row[0][1] for row in snapshot["area"]}  # areas indexed

    changed = [dict(s) for s in services[:30]]
    changed[0]["status"] = "inactive"
    changed[1]["phones"] = [{"id": "moved-phone", "number": "555-0100", "type": "fax"}]
    changed[2]["schedules"] = [
        {
            "id": "late",
            "freq": "WEEKLY",
            "byday": "FR,SA",
            "opens_at": "20:00",
            "closes_at": "02:00",
        }
    ]
    changed[2]["languages"] = [{"code": "fr", "name": "French"}]
    referring = changed[3]
    referring.pop("organization")
    referring["organization_id"] = services[40]["organization"]["id"]
    location_id = services[41]["service_at_locations"][0]["location"]["id"]
    referring["service_at_locations"] = [{"id": "by-reference", "location_id": location_id}]
    renamed = dict(changed[9]["organization"], name="Renamed Organization")
    changed[9] = dict(changed[9], organization=renamed)  # its services 5-8: earlier batch
    changed[6] = dict(changed[6], phones=[], service_at_locations=[])
    second = import_path(_write(tmp_path / "b.ndjson", changed), batch_size=8)
    assert second.rejected == [] and second.counts["service_updated"] == 30
    assert True in compared and False in compared  # a batch referring outside read back
    snapshot = _same_as_rebuilt()
    names = {row[1] for row in snapshot["text"]}
    assert any("Renamed Organization" in body for body in names)
    assert not any(row[0][0] == services[0]["id"] for row in snapshot["entry"])
