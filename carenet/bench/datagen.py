"""Synthetic directory data around real ZIP centroids, written in bulk.

Services sit near ZIP centroids chosen uniformly among US ZIP codes, so density
follows ZIP density (dense in cities, sparse in the country). The four seed
categories are used; delivered ones (transportation, meal delivery, in-home
help) get a service area: a radius circle (60 %), a county (25 %) or a short
ZIP list (15 %). PostgreSQL is loaded with COPY, SQLite with executemany.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterator
from datetime import time
from typing import Any

from sqlalchemy import Table

from carenet.db import bulk
from carenet.directory.models import (
    Address,
    Language,
    Location,
    Organization,
    Phone,
    Schedule,
    Service,
    ServiceArea,
    ServiceAreaPostcode,
    ServiceAtLocation,
    service_category,
)
from carenet.directory.service import ensure_taxonomy
from carenet.extensions import db
from carenet.geo import postcodes

CATEGORIES = ("transportation", "meal-delivery", "in-home-help", "support-groups")
DELIVERED = {"transportation", "meal-delivery", "in-home-help"}
CHUNK = 20_000
CIRCLE_VERTICES = 32
EARTH_RADIUS_MI = 3958.7613
WORDS = ("community", "senior", "family", "health", "neighbors", "care", "helping", "hands",
         "county", "faith", "friends", "united", "hope", "wellness", "home", "access")  # fmt: skip
SCHEDULES = (  # (byday, opens, closes)
    ("MO,TU,WE,TH,FR", time(9), time(17)),
    ("MO,TU,WE,TH,FR", time(8), time(18)),
    ("MO,WE,FR", time(10), time(14)),
    ("SA,SU", time(9), time(13)),
    ("TU,TH", time(19), time(21)),
    ("FR,SA", time(22), time(2)),
    (None, None, None),
)


def circle_wkt(lat: float, lon: float, radius_mi: float) -> str:
    lat1, lon1, ang = math.radians(lat), math.radians(lon), radius_mi / EARTH_RADIUS_MI
    points = []
    for i in range(CIRCLE_VERTICES):
        b = 2 * math.pi * i / CIRCLE_VERTICES
        lat2 = math.asin(math.sin(lat1) * math.cos(ang)
                         + math.cos(lat1) * math.sin(ang) * math.cos(b))  # fmt: skip
        lon2 = lon1 + math.atan2(math.sin(b) * math.sin(ang) * math.cos(lat1),
                                 math.cos(ang) - math.sin(lat1) * math.sin(lat2))  # fmt: skip
        points.append(f"{math.degrees(lon2):.6f} {math.degrees(lat2):.6f}")
    points.append(points[0])
    return f"SRID=4326;MULTIPOLYGON((({', '.join(points)})))"


def zip_records() -> list[Any]:
    """ZIP codes with a centroid, a county and a time zone (the places services are put)."""
    index = postcodes.postcode_index()
    return [r for r in index.by_postcode.values() if r.timezone and r.county]


def _rows(
    n: int, rng: random.Random, records: list[Any], terms: dict[str, str]
) -> Iterator[dict[str, list[dict[str, Any]]]]:
    index = postcodes.postcode_index()
    for start in range(0, n, CHUNK):
        out: dict[str, list[dict[str, Any]]] = {k: [] for k in TABLES}
        for i in range(start, min(n, start + CHUNK)):
            rec = rng.choice(records)
            lat = rec.latitude + rng.gauss(0, 0.012)
            lon = rec.longitude + rng.gauss(0, 0.012)
            sid, lid, oid = f"bs{i}", f"bl{i}", f"bo{i // 3}"
            if i % 3 == 0:
                out["organization"].append({"id": oid, "name": _name(rng, "Organization")})
            category = CATEGORIES[i % 4]
            out["service"].append({
                "id": sid, "organization_id": oid, "name": _name(rng, category.title()),
                "description": f"{category.replace('-', ' ')} for {rng.choice(WORDS)} residents",
                "free": rng.random() < 0.5, "capacity_status": rng.choice(
                    ("capacity", "capacity", "capacity", "no-capacity", "waitlist")),
                "minimum_age": rng.choice((None, None, 18, 60)), "confidential": i % 50 == 0,
                "status": "active",
            })  # fmt: skip
            out["service_category"].append({"service_id": sid, "taxonomy_term_id": terms[category]})
            out["location"].append({
                "id": lid, "organization_id": oid, "name": f"{rec.city} office",
                "latitude": lat, "longitude": lon, "timezone": rec.timezone,
                "geom": f"SRID=4326;POINT({lon:.6f} {lat:.6f})", "location_type": "physical",
            })  # fmt: skip
            out["address"].append({
                "id": f"ba{i}", "location_id": lid, "address_1": f"{rng.randint(1, 9999)} Main St",
                "city": rec.city, "state_province": rec.state, "postal_code": rec.postcode,
            })  # fmt: skip
            out["service_at_location"].append({"id": f"bsl{i}", "service_id": sid,
                                               "location_id": lid})  # fmt: skip
            out["phone"].append(
                {
                    "id": f"bp{i}",
                    "service_id": sid,
                    "number": f"{rng.randint(200, 989)}-555-{i % 10000:04d}",
                }
            )
            out["language"].append({"id": f"bla{i}", "service_id": sid, "code": "en"})
            if rng.random() < 0.3:
                out["language"].append({"id": f"blb{i}", "service_id": sid, "code": "es"})
            byday, opens, closes = rng.choice(SCHEDULES)
            out["schedule"].append(
                {
                    "id": f"bsc{i}",
                    "service_id": sid,
                    "freq": "WEEKLY",
                    "byday": byday,
                    "opens_at": opens,
                    "closes_at": closes,
                }
            )
            if category in DELIVERED:
                _area(out, rng, i, sid, rec, lat, lon, index)
        yield out


def _area(out: dict, rng: random.Random, i: int, sid: str, rec: Any, lat: float, lon: float,
          index: Any) -> None:  # fmt: skip
    aid, roll = f"bar{i}", rng.random()
    if roll < 0.6:
        radius = rng.choice((5, 10, 10, 15, 25))
        out["service_area"].append(
            {
                "id": aid,
                "service_id": sid,
                "kind": "radius",
                "center_latitude": lat,
                "center_longitude": lon,
                "radius_mi": radius,
                "geom": circle_wkt(lat, lon, radius),
            }
        )
        return
    if roll < 0.85:
        codes = postcodes.in_county(rec.county, rec.state) or [rec.postcode]
        out["service_area"].append(
            {
                "id": aid,
                "service_id": sid,
                "kind": "county",
                "county": rec.county,
                "state": rec.state,
            }
        )
    else:
        cell = index.grid.get((math.floor(rec.latitude), math.floor(rec.longitude)), [rec])
        codes = sorted({rec.postcode} | {rng.choice(cell).postcode for _ in range(4)})
        out["service_area"].append({"id": aid, "service_id": sid, "kind": "postcodes"})
    out["service_area_postcode"].extend({"service_area_id": aid, "postcode": c} for c in codes)


def _name(rng: random.Random, kind: str) -> str:
    return f"{rng.choice(WORDS).title()} {rng.choice(WORDS).title()} {kind}"


TABLES: dict[str, Table] = {
    "organization": Organization.__table__,
    "service": Service.__table__,
    "service_category": service_category,
    "location": Location.__table__,
    "address": Address.__table__,
    "service_at_location": ServiceAtLocation.__table__,
    "phone": Phone.__table__,
    "language": Language.__table__,
    "schedule": Schedule.__table__,
    "service_area": ServiceArea.__table__,
    "service_area_postcode": ServiceAreaPostcode.__table__,
}  # fmt: skip


def generate(n: int, seed: int = 1, echo: Callable[[str], None] = print,
             states: tuple[str, ...] = ()) -> None:  # fmt: skip
    """Insert ``n`` synthetic services (with organizations, locations, schedules, areas);
    ``states``: only around the ZIP codes of these states (a dense directory for tests)."""
    terms = {slug: term.id for slug, term in ensure_taxonomy().items()}
    db.session.commit()
    rng = random.Random(seed)
    records = sorted(zip_records(), key=lambda r: r.postcode)
    if states:
        records = [r for r in records if r.state in states]
    conn = db.session.connection()
    for done, chunk in enumerate(_rows(n, rng, records, terms), start=1):
        for name, rows in chunk.items():
            if rows:
                _insert(conn, TABLES[name], rows)
        db.session.commit()
        conn = db.session.connection()
        if done % 10 == 0:
            echo(f"  generated {min(n, done * CHUNK)} services")


def _insert(conn: Any, table: Table, rows: list[dict[str, Any]]) -> None:
    from carenet.db.types import utcnow

    present = {key for row in rows for key in row}
    if "created_at" in table.c:
        present |= {"created_at", "updated_at"}
        now = utcnow()
        rows = [{**row, "created_at": now, "updated_at": now} for row in rows]
    keys = [c.name for c in table.columns if c.name in present]
    if bulk.can_copy(conn):
        bulk.copy_rows(conn, table.name, keys, ([row.get(k) for k in keys] for row in rows))
        return
    conn.execute(table.insert(), [{k: row.get(k) for k in keys} for row in rows])
