"""The search plan (capped counts, widening rings) returns exactly what the full statement does.

A dense directory — 1,600 synthetic services around Rhode Island's ZIP codes,
delivered ones with circle, county and ZIP-list areas — so that searches have
hundreds of matches, as a city has at scale. For random searches (every
category and none, several radii, filters, pages, two caps) the plan's page must
be the full statement's page row for row, and its total the exact total or the
cap. The rings (KNN reads on PostgreSQL) must actually be used (counted), or this
test would prove nothing.
"""

from __future__ import annotations

import random

from carenet.bench.datagen import CATEGORIES, DELIVERED, circle_wkt, generate
from carenet.directory.models import ServiceArea, ServiceAreaPostcode
from carenet.directory.search import plan as search_plan
from carenet.directory.search import statements
from carenet.directory.search.index import rebuild_all
from carenet.directory.search.models import search_category
from carenet.directory.search.query import LocalTime, SearchQuery
from carenet.extensions import db
from carenet.geo import nearest_postcode, postcodes

METERS_PER_MILE = 1609.344


def _queries(rng: random.Random, codes: dict[str, int], zones: list[int], n: int):
    records = [r for r in postcodes.postcode_index().by_postcode.values() if r.state == "RI"]
    for _ in range(n):
        rec = rng.choice(records)
        lat, lon = rec.latitude + rng.gauss(0, 0.02), rec.longitude + rng.gauss(0, 0.02)
        category = rng.choice((*CATEGORIES, None))
        per_page = rng.choice((5, 20, 20, 50))
        filters = rng.choice(
            [{}, {}, {}, {"free": True}, {"accepting": True}, {"language": "es"}, {"age": 70},
             {"text": "senior"}, {"local_times": tuple(LocalTime(z, 1, 10 * 60, 4, 739000)
                                                       for z in zones)}]
        )  # fmt: skip
        yield SearchQuery(
            latitude=lat, longitude=lon, postcode=nearest_postcode(lat, lon),
            radius_m=rng.choice((2, 5, 10, 10, 25)) * METERS_PER_MILE,
            category_code=codes[category] if category else 0,
            serving_first=category in DELIVERED, limit=per_page,
            offset=per_page * rng.choice((0, 0, 0, 1, 3)), **filters,
        )  # fmt: skip


def _full(execute, dialect: str, q: SearchQuery, cap: int):
    """The full statement's page within the first ``cap`` matches, and the exact total."""
    window = SearchQuery(**{**q.__dict__, "limit": max(0, min(q.limit, cap - q.offset))})
    rows = execute(*statements.build_sql(dialect, window)) if window.limit else []
    total = execute(*statements.build_sql(dialect, q, count_only=True))[0][0]
    return rows, total


def _nearby(sql: str) -> bool:
    """A statement reading the nearest rows only: rings (SQLite), KNN order (PostgreSQL)."""
    return "ring AS" in sql or "nearest AS" in sql


def _key(row) -> tuple:
    return (row.id, round(float(row.dist_m), 3) if row.dist_m is not None else None,
            bool(row.serves))  # fmt: skip


def _second_areas(rng: random.Random) -> None:
    """Every 7th delivered service also delivers to a few ZIP codes, every 11th in a second
    circle: services with several areas containing the patient must be counted once."""
    ri = sorted(r.postcode for r in postcodes.postcode_index().by_postcode.values()
                if r.state == "RI")  # fmt: skip
    for i in range(0, 1600):
        if CATEGORIES[i % 4] not in DELIVERED or (i % 7 and i % 11):
            continue
        if i % 7 == 0:
            area = ServiceArea(service_id=f"bs{i}", kind="postcodes")
            db.session.add(area)
            db.session.flush()
            for code in rng.sample(ri, 8):
                db.session.add(ServiceAreaPostcode(service_area_id=area.id, postcode=code))
        else:
            lat, lon = 41.82 + rng.uniform(-0.1, 0.1), -71.41 + rng.uniform(-0.1, 0.1)
            db.session.add(ServiceArea(service_id=f"bs{i}", kind="radius", center_latitude=lat,
                                       center_longitude=lon, radius_mi=6,
                                       geom=circle_wkt(lat, lon, 6)))  # fmt: skip
    db.session.flush()


def test_plan_pages_and_counts_as_the_full_statement(app_ctx):
    generate(1600, seed=5, echo=lambda _: None, states=("RI",))
    _second_areas(random.Random(3))
    rebuild_all()
    db.session.commit()
    shared = db.session.execute(db.text("SELECT count(*) FROM search_area WHERE shared")).scalar()
    assert shared > 100
    conn = db.session.connection()
    dialect = conn.dialect.name
    codes = dict(db.session.execute(db.select(search_category.c.slug, search_category.c.id)).all())
    zones = [z for (z,) in db.session.execute(db.text("SELECT id FROM search_timezone"))]
    statements: list[str] = []
    plain = search_plan.executor(conn)

    def execute(sql, params):
        statements.append(sql)
        return plain(sql, params)

    rng = random.Random(11)
    checked = capped = 0
    for q in _queries(rng, codes, zones, 160):
        for cap in (500, 60):
            if q.offset >= cap:
                continue
            before = len(statements)
            found = search_plan.run(execute, dialect, q, cap)
            rings = sum(_nearby(s) for s in statements[before:])
            rows, total = _full(plain, dialect, q, cap)
            assert [_key(r) for r in found.rows] == [_key(r) for r in rows], (q, cap, rings)
            assert found.total == min(total, cap), (q, cap)
            assert found.exact == (total <= cap), (q, cap)
            checked += 1
            capped += not found.exact
    ring_pages = sum(_nearby(s) for s in statements)
    full_pages = sum("count(*) OVER ()" in s for s in statements)
    assert checked > 250
    assert ring_pages > 60 and full_pages > 30, (ring_pages, full_pages)
    assert capped > 10


def test_search_zip_follows_the_areas_zip_codes(app_ctx):
    """``search_zip`` (the plan's ZIP-list index) is rewritten with the service: added,
    changed and removed ZIP codes, per category, never for the "any category" code."""
    from factories import MIAMI, IndexedServiceFactory

    from carenet.directory.search.index import refresh_services
    from search.places import point_at

    area = {"kind": "postcodes", "postcodes": ["33130", "33131"]}
    service = IndexedServiceFactory(
        name="Meals",
        locations=[point_at(MIAMI, 1)],
        categories=("meal-delivery", "transportation"),
        areas=(area,),
    )

    def rows():
        query = "SELECT postcode, category_code FROM search_zip WHERE service_id = :s"
        return sorted(tuple(r) for r in db.session.execute(db.text(query), {"s": service.id}))

    codes = dict(db.session.execute(db.select(search_category.c.slug, search_category.c.id)).all())
    meals, rides = codes["meal-delivery"], codes["transportation"]
    assert rows() == sorted([("33130", meals), ("33131", meals), ("33130", rides),
                             ("33131", rides)])  # fmt: skip
    area = service.service_areas[0]
    area.postcodes = [ServiceAreaPostcode(postcode="33132")]
    db.session.flush()
    refresh_services([service.id])
    db.session.commit()
    assert rows() == sorted([("33132", meals), ("33132", rides)])
    service.service_areas.clear()
    db.session.flush()
    refresh_services([service.id])
    db.session.commit()
    assert rows() == []


def test_places_crowding_at_one_distance_are_read_until_the_page_is_settled(app_ctx):
    """40 places exactly 3 miles (geodesic) from the patient, all around: on PostgreSQL
    the KNN order (sphere distance) cannot settle a page of 20 from the first 25 rows read
    — a row not read could still come first by the spheroid distance — so the plan reads
    more; the page must still be the full statement's, row for row."""
    from factories import MIAMI, IndexedServiceFactory

    from search.places import point_at

    for i in range(40):
        IndexedServiceFactory(name=f"Ring {i:02d}", locations=[point_at(MIAMI, 3, i * 9.0)])
    db.session.commit()
    conn = db.session.connection()
    dialect = conn.dialect.name
    statements: list[str] = []
    plain = search_plan.executor(conn)

    def execute(sql, params):
        statements.append(sql)
        return plain(sql, params)

    code = db.session.execute(
        db.select(search_category.c.id).where(search_category.c.slug == "support-groups")
    ).scalar_one()
    q = SearchQuery(latitude=MIAMI[0], longitude=MIAMI[1], postcode="33130",
                    radius_m=10 * METERS_PER_MILE, category_code=code, limit=20)  # fmt: skip
    found = search_plan.run(execute, dialect, q, 200)
    rows, total = _full(plain, dialect, q, 200)
    assert [_key(r) for r in found.rows] == [_key(r) for r in rows]
    assert (found.total, found.exact) == (40, True)
    assert {round(float(r.dist_m)) for r in found.rows} == {round(3 * METERS_PER_MILE)}
    if dialect == "postgresql":
        assert sum("nearest AS" in s for s in statements) == 2, statements
