"""``carenet bench import``: services/s of ``import-hsds`` on N synthetic HSDS services.

Writes N compiled HSDS 3.0 service objects to an ndjson file in a temporary
folder (not timed), then imports that file with ``import_path`` — reading,
validation and mapping, batched writes, the search-index refresh — into a
throwaway database (a SpatiaLite file, or PostGIS: ``CARENET_DATABASE_URL``'s
server or a throwaway cluster) and prints services/s (docs/performance.md,
"Performance: import").

The services look like a real directory's: one organization per five services
(embedded in each, as compiled services carry them), a location with an address
at a real ZIP centroid, one or two phones, one or two weekly schedules, English
and sometimes Spanish, a carenet category attribute, and for delivered
categories a service area — a radius (GeoJSON point, 40 %), a ZIP list (25 %),
a county by carenet's convention (20 %) or a county named in words with
``extent_type`` ``other`` (15 %, resolved by the gazetteer).
"""

from __future__ import annotations

import cProfile
import io
import json
import os
import pstats
import random
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

Echo = Callable[[str], None]
CATEGORIES = ("transportation", "meal-delivery", "in-home-help", "support-groups",
              "food-pantry", "housing", "utilities", "financial-help")  # fmt: skip
DELIVERED = {"transportation", "meal-delivery", "in-home-help"}
WORDS = ("community", "senior", "family", "health", "neighbors", "care", "helping", "hands",
         "county", "faith", "friends", "united", "hope", "wellness", "home", "access")  # fmt: skip
SCHEDULES = (  # (byday, opens, closes)
    ("MO,TU,WE,TH,FR", "09:00", "17:00"),
    ("MO,TU,WE,TH,FR", "08:00", "18:00"),
    ("MO,WE,FR", "10:00", "14:00"),
    ("SA,SU", "09:00", "13:00"),
    ("TU,TH", "19:00", "21:00"),
)
SERVICES_PER_ORGANIZATION = 5


_KINDS: dict[str, int] = {}


def _id(kind: str, number: int, part: object = 0) -> str:
    """A UUID-shaped id, unique per (kind, number, part) and far cheaper than ``uuid5``
    (the file for a million services is written in minutes, not 40): the kind's number,
    the part's, the record's."""
    code = _KINDS.setdefault(kind, len(_KINDS) + 1)
    part_code = _KINDS.setdefault(f"{kind}:{part}", len(_KINDS) + 1)
    return f"{code:08x}-{part_code & 0xFFFF:04x}-4000-8000-{number:012x}"


def _name(rng: random.Random, kind: str) -> str:
    return f"{rng.choice(WORDS).title()} {rng.choice(WORDS).title()} {kind}"


def _organization(rng: random.Random, number: int) -> dict[str, Any]:
    org_id = _id("organization", number)
    return {
        "id": org_id,
        "name": _name(random.Random(number), "Organization"),
        "description": "A community organization (synthetic benchmark data).",
        "email": f"info{number}@example.org",
        "website": f"https://org{number}.example.org",
        "phones": [{"id": _id("org-phone", number), "number": f"305-555-{number % 10000:04d}"}],
    }


def _area(rng: random.Random, i: int, record: Any) -> dict[str, Any]:
    area: dict[str, Any] = {"id": _id("area", i), "name": f"Area of service {i}"}
    roll = rng.random()
    if roll < 0.40:
        radius = rng.choice((5, 10, 10, 15, 25))
        feature = {"type": "Feature", "properties": {"radius_mi": radius},
                   "geometry": {"type": "Point",
                                "coordinates": [record.longitude, record.latitude]}}  # fmt: skip
        return {**area, "extent_type": "geojson", "extent": json.dumps(feature)}
    if roll < 0.65:
        codes = {record.postcode} | {rng.choice(("33125", "33130", "94401", "10001"))}
        return {**area, "extent_type": "text", "extent": "postcodes:" + " ".join(sorted(codes))}
    county = f"{record.county}, {record.state}"
    if roll < 0.85:
        return {**area, "extent_type": "text", "extent": f"county:{county}"}
    return {**area, "name": county, "extent_type": "other", "extent": county}


def service_object(i: int, rng: random.Random, records: list[Any]) -> dict[str, Any]:
    """One compiled HSDS 3.0 service (deterministic for ``i`` and the generator's state)."""
    record = rng.choice(records)
    category = CATEGORIES[i % len(CATEGORIES)]
    service_id, location_id = _id("service", i), _id("location", i)
    organization = _organization(rng, i // SERVICES_PER_ORGANIZATION)
    latitude = round(record.latitude + rng.gauss(0, 0.01), 6)
    longitude = round(record.longitude + rng.gauss(0, 0.01), 6)
    schedules = [
        {"id": _id("schedule", i, n), "freq": "WEEKLY", "byday": byday,
         "opens_at": opens, "closes_at": closes}
        for n, (byday, opens, closes) in enumerate(rng.sample(SCHEDULES, rng.choice((1, 1, 2))))
    ]  # fmt: skip
    phones = [{"id": _id("phone", i, n), "number": f"{rng.randint(201, 989)}-555-{i % 10000:04d}",
               "type": "voice"} for n in range(rng.choice((1, 1, 2)))]  # fmt: skip
    languages = [{"id": _id("language", i, "en"), "code": "en", "name": "English"}]
    if rng.random() < 0.3:
        languages.append({"id": _id("language", i, "es"), "code": "es", "name": "Spanish"})
    service: dict[str, Any] = {
        "id": service_id,
        "name": _name(rng, category.replace("-", " ").title()),
        "description": f"{category.replace('-', ' ')} for {rng.choice(WORDS)} residents",
        "status": "active",
        "email": f"service{i}@example.org",
        "organization": organization,
        "phones": phones,
        "schedules": schedules,
        "languages": languages,
        "attributes": [{"id": _id("attribute", i), "taxonomy_term": {
            "id": f"carenet-categories:{category}", "code": category,
            "taxonomy": "carenet-categories"}}],
        "service_at_locations": [{"id": _id("sal", i), "location": {
            "id": location_id, "name": f"{record.city} office", "location_type": "physical",
            "latitude": latitude, "longitude": longitude,
            "addresses": [{"id": _id("address", i), "address_1": f"{rng.randint(1, 9999)} Main St",
                           "city": record.city, "state_province": record.state,
                           "postal_code": record.postcode, "country": "US",
                           "address_type": "physical"}]}}],
    }  # fmt: skip
    if category in DELIVERED:
        service["service_areas"] = [_area(rng, i, record)]
    return service


def write_services(path: Path, count: int, seed: int) -> int:
    """``count`` services to ``path`` as ndjson; returns the bytes written."""
    from carenet.bench.datagen import zip_records

    rng = random.Random(seed)
    records = sorted(zip_records(), key=lambda r: r.postcode)
    with path.open("w", encoding="utf-8") as handle:
        for i in range(count):
            handle.write(json.dumps(service_object(i, rng, records)) + "\n")
    return path.stat().st_size


def _progress() -> Callable[[int, int], None] | None:
    """One stderr line rewritten per batch, when stderr is a terminal (else nothing)."""
    if not sys.stderr.isatty():
        return None

    def progress(done: int, total: int) -> None:
        end = "\n" if done >= total else ""
        print(f"\r  imported {done / 2**20:,.0f} of {total / 2**20:,.0f} MiB", end=end,
              file=sys.stderr, flush=True)  # fmt: skip

    return progress


def _import(path: Path, batch_size: int | None, echo: Echo, count: int, profile: bool) -> Any:
    from carenet.directory.hsds import import_path

    if not profile:
        return import_path(path, batch_size=batch_size, progress=_progress())
    profiler = cProfile.Profile()
    report = profiler.runcall(import_path, path, batch_size=batch_size)
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("cumulative").print_stats(30)
    stats.sort_stats("tottime").print_stats(20)  # where the time is spent, function by function
    echo(out.getvalue())
    return report


def run(count: int, backend: str, seed: int = 1, batch_size: int | None = None,
        echo: Echo = print, profile: bool = False,
        floor: bool = False) -> dict[str, Any]:  # fmt: skip
    """Generate ``count`` services, import them on ``backend``; returns the figures. With
    ``floor``, also what the database alone takes of it (``import_floor``)."""
    from flask_migrate import upgrade

    from carenet import create_app
    from carenet.bench.search_bench import bench_database
    from carenet.extensions import db

    figures: dict[str, Any] = {"services": count, "backend": backend}
    with tempfile.TemporaryDirectory(prefix="carenet-import-bench-") as folder:
        path = Path(folder) / "services.ndjson"
        started = time.perf_counter()
        figures["file_bytes"] = write_services(path, count, seed)
        figures["generate_s"] = time.perf_counter() - started
        echo(f"wrote {count} services ({figures['file_bytes'] / 2**20:.0f} MiB) in "
             f"{figures['generate_s']:.0f} s")  # fmt: skip
        with bench_database(backend, echo) as url:
            app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench-only",
                              "ENV_NAME": "development"})  # fmt: skip
            with app.app_context():
                upgrade()
                figures["batch_size"] = batch_size or app.config.get("IMPORT_BATCH_SIZE")
                figures["load_before"] = [round(x, 2) for x in os.getloadavg()]
                report = _import(path, batch_size, echo, count, profile)
                figures["load_after"] = [round(x, 2) for x in os.getloadavg()]
                figures.update(_figures(report))
                db.session.remove()
                db.engine.dispose()
            if floor:
                from carenet.bench.import_floor import floor as database_floor

                figures.update(database_floor(url, backend, count, echo))
    return figures


def _figures(report: Any) -> dict[str, Any]:
    created = report.counts["service_created"] + report.counts["service_updated"]
    return {
        "import_s": report.seconds,
        "services_imported": created,
        "rejected": len(report.rejected),
        "warnings": len(report.warnings),
        "services_per_s": created / report.seconds if report.seconds else 0.0,
        "workers": report.workers,
    }


def report_lines(figures: dict[str, Any]) -> Iterator[str]:
    yield (f"import-hsds, {figures['services']} services on {figures['backend']} "
           f"(batches of {figures['batch_size']}):")  # fmt: skip
    yield (f"  {figures['services_imported']} imported in {figures['import_s']:.1f} s: "
           f"{figures['services_per_s']:.0f} services/s")  # fmt: skip
    yield f"  rejected {figures['rejected']}, warnings {figures['warnings']}"
    yield (f"  load average (1, 5, 15 min) before {figures['load_before']}, "
           f"after {figures['load_after']}; mapping workers: {figures['workers']}")  # fmt: skip
    if "floor_s" in figures:
        from carenet.bench.import_floor import floor_lines

        yield from floor_lines(figures)
