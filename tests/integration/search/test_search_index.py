"""refresh_services keeps search rows in step with directory edits; rebuild_all rebuilds."""

from __future__ import annotations

from factories import MIAMI, IndexedServiceFactory

from carenet.directory.search.index import rebuild_all, refresh_services
from carenet.directory.search.models import search_entry, search_hours, search_text
from carenet.extensions import db
from search.places import point_at


def names(search):
    return [r["service"]["name"] for r in search(lat=MIAMI[0], lon=MIAMI[1]).contents]


def count(table):
    return db.session.execute(db.select(db.func.count()).select_from(table)).scalar()


def test_an_edit_is_searchable_after_refresh(search):
    service = IndexedServiceFactory(name="Old name", locations=[point_at(MIAMI, 1)])
    service.name = "New name"
    refresh_services([service.id])
    db.session.commit()
    assert names(search) == ["New name"]


def test_a_deleted_service_leaves_no_search_rows(search):
    service = IndexedServiceFactory(name="Gone soon", locations=[point_at(MIAMI, 1)])
    db.session.delete(service)
    refresh_services([service.id])
    db.session.commit()
    assert names(search) == []
    assert (count(search_entry), count(search_text), count(search_hours)) == (0, 0, 0)


def test_a_service_that_becomes_inactive_disappears(search):
    service = IndexedServiceFactory(name="Pausing", locations=[point_at(MIAMI, 1)])
    service.status = "inactive"
    refresh_services([service.id])
    db.session.commit()
    assert names(search) == []


def test_refresh_is_idempotent(search):
    service = IndexedServiceFactory(
        name="Twice", locations=[point_at(MIAMI, 1)], categories=("transportation", "meal-delivery")
    )
    before = count(search_entry)
    refresh_services([service.id, service.id])
    refresh_services([service.id])
    db.session.commit()
    assert count(search_entry) == before == 3  # any-category row + two categories
    assert names(search) == ["Twice"]


def test_rebuild_all_restores_every_row(search):
    IndexedServiceFactory(name="One", locations=[point_at(MIAMI, 1)])
    IndexedServiceFactory(name="Two", locations=[point_at(MIAMI, 2)])
    db.session.execute(search_entry.delete())
    assert names(search) == []
    assert rebuild_all() == 2
    db.session.commit()
    assert names(search) == ["One", "Two"]


def test_rebuild_all_writes_neighbours_next_to_each_other(search):
    """A rebuild stores nearby services' rows next to each other, so that a city's rows
    share pages: SQLite by giving them ids in Hilbert order, PostgreSQL by CLUSTER."""
    seattle = (47.6062, -122.3321)
    for name, at in (
        ("Miami", MIAMI),
        ("Seattle", seattle),
        ("Nowhere", None),
        ("Miami Beach", point_at(MIAMI, 4, 60)),
        ("Tacoma", (47.2529, -122.4443)),
    ):
        IndexedServiceFactory(name=name, locations=[at] if at else [])
    db.session.commit()
    rebuild_all()
    db.session.commit()
    physical = "ctid" if db.engine.dialect.name == "postgresql" else "id"
    rows = db.session.execute(
        db.text(f"SELECT service_name FROM search_entry ORDER BY {physical}")  # noqa: S608
    ).scalars()
    order = list(dict.fromkeys(rows))  # services in the order of their first row
    assert {frozenset(order[0:2]), frozenset(order[2:4])} == {
        frozenset({"Miami", "Miami Beach"}),
        frozenset({"Seattle", "Tacoma"}),
    }
    assert order[4] == "Nowhere"
    assert names(search) == ["Miami", "Miami Beach"]


def test_reindex_search_command_rebuilds_the_search_tables(search, runner):
    IndexedServiceFactory(name="One", locations=[point_at(MIAMI, 1)])
    db.session.commit()
    db.session.execute(search_entry.delete())
    db.session.commit()
    result = runner.invoke(args=["reindex-search"])
    assert result.exit_code == 0, result.output
    assert "indexed 1 services" in result.output
    db.session.rollback()
    assert names(search) == ["One"]
