"""Writes a batch of mapped HSDS records: upsert by id, children replaced, a few queries per table.

For a batch, existing ids are preloaded with one SELECT per table (no
per-record lookups); organizations, locations and services are inserted or
updated by id; the children of every service/location/organization in the
batch (phones, schedules, languages, areas, addresses, categories...) are
deleted and inserted again from the records, so a re-import updates and never
duplicates. The caller owns the transaction.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Table, and_, bindparam, delete, select

from carenet.db.bulk import among, insert_rows
from carenet.directory.hsds.attribute_links import replace_links
from carenet.directory.hsds.mapping import TABLES, MappedRecord
from carenet.directory.models import ServiceAreaPostcode, service_category
from carenet.extensions import db

ENTITIES = ("organization", "location", "service")
CHILDREN = ("service_at_location", "address", "phone", "schedule", "language", "service_area")
CHUNK = 900


def _chunks(values: Iterable[str]) -> Iterable[list[str]]:
    items = list(values)
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


def _in(column: Any, values: Iterable[str]) -> Any:
    """``column IN values`` the backend's fastest way (``carenet.db.bulk.among``)."""
    return among(column, values, db.session.get_bind().dialect.name)


def existing_ids(table: Table, ids: Iterable[str]) -> set[str]:
    """Which of ``ids`` already exist in ``table`` (chunked IN queries)."""
    found: set[str] = set()
    for chunk in _chunks(ids):
        found.update(db.session.scalars(select(table.c.id).where(_in(table.c.id, chunk))))
    return found


def missing_references(records: Sequence[MappedRecord]) -> dict[int, str]:
    """Records whose organization_id / location_id points at nothing: index -> reason."""
    orgs = {i for r in records for i in r.rows["organization"]}
    locations = {i for r in records for i in r.rows["location"]}
    wanted_orgs = {i for r in records for i in r.needs_organizations} - orgs
    wanted_locations = {i for r in records for i in r.needs_locations} - locations
    known_orgs = existing_ids(TABLES["organization"], wanted_orgs)
    known_locations = existing_ids(TABLES["location"], wanted_locations)
    services = {i for r in records for i in r.rows["service"]}
    wanted_services = {i for r in records for i in r.needs_services} - services
    known_services = existing_ids(TABLES["service"], wanted_services)
    problems: dict[int, str] = {}
    for index, record in enumerate(records):
        for org_id in sorted(record.needs_organizations - orgs - known_orgs):
            problems[index] = f"organization {org_id} not found"
        for location_id in sorted(record.needs_locations - locations - known_locations):
            problems[index] = f"location {location_id} not found"
        for service_id in sorted(record.needs_services - services - known_services):
            problems[index] = f"service {service_id} not found"
    return problems


def unknown_optional(records: Sequence[MappedRecord]) -> dict[int, list[str]]:
    """Optional references to nothing are dropped: a location's organization_id (kept as
    given in ``hsds_extra``), a term whose taxonomy is unknown (not stored). Returns
    index -> warnings."""
    notes = _unknown_taxonomies(records)
    in_batch = {i for r in records for i in r.rows["organization"]}
    wanted = {o for r in records for o in r.location_organizations.values()} - in_batch
    known = in_batch | existing_ids(TABLES["organization"], wanted)
    for index, record in enumerate(records):
        for location_id, org_id in record.location_organizations.items():
            row = record.rows["location"].get(location_id)
            if org_id not in known and row is not None:
                row["organization_id"] = None
                row["hsds_extra"] = {**(row["hsds_extra"] or {}), "organization_id": org_id}
                notes.setdefault(index, []).append(
                    f"location {location_id}: organization {org_id} not found;"
                    " the location is stored without it"
                )
    return notes


def _unknown_taxonomies(records: Sequence[MappedRecord]) -> dict[int, list[str]]:
    in_batch = {i for r in records for i in r.rows["taxonomy"]}
    wanted = {i for r in records for i in r.needs_taxonomies} - in_batch
    known = in_batch | existing_ids(TABLES["taxonomy"], wanted)
    notes: dict[int, list[str]] = {}
    for index, record in enumerate(records):
        for term_id, row in list(record.rows["taxonomy_term"].items()):
            if row["taxonomy_id"] not in known:
                del record.rows["taxonomy_term"][term_id]
                notes.setdefault(index, []).append(
                    f"taxonomy term {term_id}: taxonomy {row['taxonomy_id']} not found;"
                    " term not stored (the attribute is kept as given)"
                )
    return notes


def merge(records: Sequence[MappedRecord]) -> MappedRecord:
    """One record holding all rows of the batch (a later record wins on the same id)."""
    merged = MappedRecord(kind="batch", id="batch")
    for record in records:
        for table, rows in record.rows.items():
            merged.rows[table].update(rows)
        merged.categories |= record.categories
        merged.area_postcodes |= record.area_postcodes
    return merged


def count_changes(
    merged: MappedRecord, seen: dict[str, set[str]], existing: dict[str, set[str]] | None = None
) -> tuple[Counter[str], dict[str, set[str]]]:
    """created/updated counts of the batch's entities; ids counted once per import.

    ``existing`` (ids already in the database, per entity table) is queried when not given.
    """
    counts: Counter[str] = Counter()
    new_seen: dict[str, set[str]] = {}
    for table in ENTITIES:
        ids = set(merged.rows[table]) - seen[table]
        found = existing[table] if existing else existing_ids(TABLES[table], ids)
        counts[f"{table}_updated"] += len(ids & found)
        counts[f"{table}_created"] += len(ids - found)
        new_seen[table] = ids
    return counts, new_seen


def _delete_children(merged: MappedRecord, existing: dict[str, set[str]]) -> None:
    """The children of the batch's services, locations and organizations that were in the
    database before (a new one has none: the foreign keys see to it), and any child whose
    id the batch writes again."""
    t = TABLES
    services = [i for i in merged.rows["service"] if i in existing["service"]]
    locations = [i for i in merged.rows["location"] if i in existing["location"]]
    organizations = [i for i in merged.rows["organization"] if i in existing["organization"]]
    for chunk in _chunks(services):
        db.session.execute(
            delete(service_category).where(_in(service_category.c.service_id, chunk))
        )
        area_ids = select(t["service_area"].c.id).where(_in(t["service_area"].c.service_id, chunk))
        postcode = ServiceAreaPostcode.__table__
        db.session.execute(delete(postcode).where(postcode.c.service_area_id.in_(area_ids)))
        for name in ("service_area", "language", "schedule", "phone", "service_at_location"):
            db.session.execute(delete(t[name]).where(_in(t[name].c.service_id, chunk)))
    for chunk in _chunks(locations):
        db.session.execute(delete(t["address"]).where(_in(t["address"].c.location_id, chunk)))
        for name in ("schedule", "phone"):
            table = t[name]
            db.session.execute(
                delete(table).where(_in(table.c.location_id, chunk), table.c.service_id.is_(None))
            )
    phone = t["phone"]
    for chunk in _chunks(organizations):
        db.session.execute(
            delete(phone).where(
                and_(
                    _in(phone.c.organization_id, chunk),
                    phone.c.service_id.is_(None),
                    phone.c.location_id.is_(None),
                )
            )
        )
    _delete_moved(merged, existing)


OWNERS = ("service_id", "location_id", "organization_id")


def _delete_moved(merged: MappedRecord, existing: dict[str, set[str]]) -> None:
    """Delete any child whose id the batch writes again (it may have moved from another
    parent); the parents it had are noted in ``existing["moved_service"]`` (and
    ``moved_location``, ``moved_organization``): their services' search rows change too."""
    t = TABLES
    postcode = ServiceAreaPostcode.__table__
    for owner in OWNERS:
        existing[f"moved_{owner[:-3]}"] = set()
    for name in CHILDREN:
        table = t[name]
        owners = [table.c[c] for c in OWNERS if c in table.c]
        for chunk in _chunks(merged.rows[name]):
            if name == "service_area":
                db.session.execute(delete(postcode).where(_in(postcode.c.service_area_id, chunk)))
            gone = db.session.execute(
                delete(table).where(_in(table.c.id, chunk)).returning(*owners)
            )
            for row in gone:
                for column, value in zip(owners, row, strict=True):
                    if value is not None:
                        existing[f"moved_{column.name[:-3]}"].add(value)


def _upsert(
    table: Table, rows: dict[str, dict[str, Any]], existing: set[str] | None = None
) -> set[str]:
    """Insert the new rows, update the others (``existing``: their ids, queried if None)."""
    existing = existing_ids(table, rows) if existing is None else existing
    inserts = [row for key, row in rows.items() if key not in existing]
    # "id" must not be a parameter key: Core would add "SET id=?", and SQLite then re-checks
    # every child table of a parent whose key "changed".
    updates = [
        {**{k: v for k, v in row.items() if k != "id"}, "_id": key}
        for key, row in rows.items()
        if key in existing
    ]
    if inserts:
        insert_rows(db.session.connection(), table, inserts)
    if updates:
        columns = [c for c in updates[0] if c not in {"id", "_id"}]
        statement = (
            table.update()
            .where(table.c.id == bindparam("_id"))
            .values({c: bindparam(c) for c in columns})
        )
        db.session.execute(statement, updates)
    return existing


def write(merged: MappedRecord) -> dict[str, set[str]]:
    """Write one merged batch in the current transaction (raises on a database error).

    Returns the ids of organizations, locations and services that existed before.
    """
    existing = {table: existing_ids(TABLES[table], merged.rows[table]) for table in ENTITIES}
    _delete_children(merged, existing)
    for table in ("taxonomy", "taxonomy_term"):
        if merged.rows[table]:
            _upsert(TABLES[table], merged.rows[table])
    for table in ENTITIES:
        _upsert(TABLES[table], merged.rows[table], existing[table])
    conn = db.session.connection()
    for name in CHILDREN:
        insert_rows(conn, TABLES[name], list(merged.rows[name].values()))
    if merged.area_postcodes:
        rows = [{"service_area_id": a, "postcode": p} for a, p in sorted(merged.area_postcodes)]
        insert_rows(conn, ServiceAreaPostcode.__table__, rows)
    if merged.categories:
        rows = [{"service_id": s, "taxonomy_term_id": t} for s, t in sorted(merged.categories)]
        insert_rows(conn, service_category, rows)
    replace_links(merged.rows["service"])  # engineer C: attribute terms searchable (0022)
    return existing
