"""The search index's view of a batch the importer has just written, from the rows in memory.

``search.index.refresh_services`` reads a batch's services back from the directory
(``search.rows.load_batch``: a dozen queries, every phone, schedule and address row
decoded again). An import has those rows at hand: ``directory_batch`` builds the same
``DirectoryBatch`` from the merged records, exactly as ``load_batch`` would read it
right after ``writing.write`` — the batch's services, their organizations and locations
and every child row of them were all replaced by the batch (``writing``), so the
directory holds what the records hold. Rows are ordered as the queries order them (by
id, in code-point order: SQLite's and a C-collated PostgreSQL's). When the batch refers
to an organization or a location it does not carry (``organization_id`` /
``location_id`` of a row imported before), the answer is None and the caller reads
the batch back as before.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

from sqlalchemy import select

from carenet.db.bulk import among
from carenet.directory.hsds.mapping import MappedRecord
from carenet.directory.models import Service, ServiceAtLocation, TaxonomyTerm
from carenet.directory.search.index import refresh_loaded, refresh_services
from carenet.directory.search.rows import DirectoryBatch, bare_organizations
from carenet.extensions import db


class ServiceRow(NamedTuple):
    id: str
    name: str
    description: str | None
    free: bool
    minimum_age: int | None
    maximum_age: int | None
    capacity_status: str
    confidential: bool
    organization_id: str
    organization_name: str


class SiteRow(NamedTuple):
    id: str
    service_id: str
    location_id: str
    name: str | None
    latitude: float | None
    longitude: float | None
    timezone: str


class AddressRow(NamedTuple):
    id: str
    location_id: str
    address_1: str
    address_2: str | None
    city: str
    state_province: str
    postal_code: str
    address_type: str


class PhoneRow(NamedTuple):
    id: str
    organization_id: str | None
    service_id: str | None
    location_id: str | None
    number: str
    extension: str | None
    type: str | None


class ScheduleRow(NamedTuple):
    id: str
    service_id: str | None
    location_id: str | None
    freq: str
    byday: str | None
    bymonthday: str | None
    opens_at: Any
    closes_at: Any
    valid_from: Any
    valid_to: Any


class AreaRow(NamedTuple):
    id: str
    service_id: str
    kind: str
    has_geom: bool
    center_latitude: float | None
    center_longitude: float | None
    radius_mi: float | None


def refresh_search(merged: MappedRecord, existing: dict[str, set[str]]) -> None:
    """The search rows of the batch's services, after ``writing.write(merged)`` (which
    returned ``existing``), in the same transaction: from memory when the batch carries
    every row they are made of, else read back (``index.refresh_services``)."""
    ids = sorted(merged.rows["service"])
    conn = db.session.connection()
    batch = directory_batch(conn, merged, ids)
    if batch is None:
        refresh_services(ids)
    else:
        refresh_loaded(ids, batch, existing["service"])
    neighbours = _neighbours(conn, merged, existing) - set(ids)
    if neighbours:
        refresh_services(neighbours)


def _neighbours(conn: Any, merged: MappedRecord, existing: dict[str, set[str]]) -> set[str]:
    """Services outside the batch whose search rows show what it rewrote: those at its
    locations and of its organizations that existed before (a name, phones, hours), and
    those a child row the batch wrote again belonged to (``writing._delete_moved``)."""
    dialect = conn.dialect.name
    found = set(existing.get("moved_service", ()))
    locations = sorted(
        {i for i in merged.rows["location"] if i in existing["location"]}
        | existing.get("moved_location", set())
    )
    organizations = sorted(
        {i for i in merged.rows["organization"] if i in existing["organization"]}
        | existing.get("moved_organization", set())
    )
    sal, service = ServiceAtLocation.__table__, Service.__table__
    if locations:
        query = select(sal.c.service_id).where(among(sal.c.location_id, locations, dialect))
        found.update(conn.execute(query).scalars())
    if organizations:
        query = select(service.c.id).where(among(service.c.organization_id, organizations, dialect))
        found.update(conn.execute(query).scalars())
    return found


def _pick(row_type: Any, row: dict[str, Any]) -> Any:
    return row_type._make([row.get(name) for name in row_type._fields])


def directory_batch(conn: Any, merged: MappedRecord, ids: Sequence[str]) -> DirectoryBatch | None:
    """What ``load_batch(conn, ids)`` reads after ``merged`` is written (``ids``: its
    services, sorted); None when the batch refers to organizations or locations it does
    not carry."""
    rows = merged.rows
    services, organizations = rows["service"], rows["organization"]
    active = [services[i] for i in ids if services[i]["status"] == "active"]
    if any(s["organization_id"] not in organizations for s in active):
        return None
    batch = DirectoryBatch()
    if not active:
        return batch
    if not _sites(batch, merged, set(ids)):
        return None
    fields = ServiceRow._fields[:-1]
    batch.services = [
        ServiceRow._make([*(s.get(n) for n in fields), organizations[s["organization_id"]]["name"]])
        for s in active
    ]
    _categories(conn, batch, merged)
    for row in rows["language"].values():
        if row["service_id"] in services:
            batch.languages.setdefault(row["service_id"], []).append(row["code"].lower())
    location_ids = {site.location_id for sites in batch.sites.values() for site in sites}
    _addresses(batch, merged, location_ids)
    _phones(batch, merged, location_ids)
    _schedules(batch, merged, location_ids)
    for area in sorted(rows["service_area"].values(), key=_id):
        if area["service_id"] in services:
            row = _pick(AreaRow, area)._replace(has_geom=area.get("geom") is not None)
            batch.areas.setdefault(area["service_id"], []).append(row)
    return batch


def _id(row: dict[str, Any]) -> str:
    return str(row["id"])


def _sites(batch: DirectoryBatch, merged: MappedRecord, ids: set[str]) -> bool:
    """Each service's locations (``service_at_location`` by id); False when one is not in
    the batch."""
    locations = merged.rows["location"]
    for sal in sorted(merged.rows["service_at_location"].values(), key=_id):
        if sal["service_id"] not in ids:
            continue
        location = locations.get(sal["location_id"])
        if location is None:
            return False
        site = SiteRow(
            sal["id"], sal["service_id"], sal["location_id"], location.get("name"),
            location.get("latitude"), location.get("longitude"), location["timezone"],
        )  # fmt: skip
        batch.sites.setdefault(sal["service_id"], []).append(site)
    return True


def _categories(conn: Any, batch: DirectoryBatch, merged: MappedRecord) -> None:
    """carenet categories of the services as (code, name), by code."""
    term_ids = sorted({term for _, term in merged.categories})
    if not term_ids:
        return
    t = TaxonomyTerm.__table__
    terms = {
        row.id: (row.code, row.name)
        for row in conn.execute(select(t.c.id, t.c.code, t.c.name).where(t.c.id.in_(term_ids)))
    }
    for service_id, term_id in merged.categories:
        if service_id in merged.rows["service"] and term_id in terms:
            batch.categories.setdefault(service_id, []).append(terms[term_id])
    for values in batch.categories.values():
        values.sort(key=lambda term: term[0])


def _addresses(batch: DirectoryBatch, merged: MappedRecord, location_ids: set[str]) -> None:
    """One address per location: its first physical one, else its first (by id)."""
    for row in sorted(merged.rows["address"].values(), key=_id):
        if row["location_id"] not in location_ids:
            continue
        current = batch.addresses.get(row["location_id"])
        replaces = current is not None and current.address_type != "physical"
        if current is None or (replaces and row["address_type"] == "physical"):
            batch.addresses[row["location_id"]] = _pick(AddressRow, row)


def _phones(batch: DirectoryBatch, merged: MappedRecord, location_ids: set[str]) -> None:
    """The services' phones, their sites' and the organizations' of services with neither."""
    services = merged.rows["service"]
    phones = sorted(merged.rows["phone"].values(), key=_id)
    for row in phones:
        if row["service_id"] in services:
            key = ("service", row["service_id"])
        elif row["service_id"] is None and row["location_id"] in location_ids:
            key = ("location", row["location_id"])
        else:
            continue
        batch.phones.setdefault(key, []).append(_pick(PhoneRow, row))
    bare = bare_organizations(batch)
    for row in phones:
        if row["service_id"] is None and row["location_id"] is None:
            if row["organization_id"] in bare:
                key = ("organization", row["organization_id"])
                batch.phones.setdefault(key, []).append(_pick(PhoneRow, row))


def _schedules(batch: DirectoryBatch, merged: MappedRecord, location_ids: set[str]) -> None:
    """Schedules of the services (at a site or anywhere) and of their sites, by id."""
    services = merged.rows["service"]
    for row in sorted(merged.rows["schedule"].values(), key=_id):
        service_id, location_id = row["service_id"], row["location_id"]
        if service_id in services or (service_id is None and location_id in location_ids):
            key = (service_id, location_id)
            batch.schedules.setdefault(key, []).append(_pick(ScheduleRow, row))
