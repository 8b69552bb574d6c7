"""Reads a batch of services from the directory and turns it into search rows.

Set-based Core queries (one per table, ``IN`` over the batch), then plain
Python to shape one ``search_entry`` row per (service at location, category)
plus the "any category" row. Only active services are searchable.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select, true

from carenet.db.bulk import among, in_code_point_order
from carenet.directory.models import (
    Address,
    Location,
    Organization,
    Phone,
    Schedule,
    Service,
    ServiceArea,
    ServiceAtLocation,
    TaxonomyTerm,
    service_category,
)
from carenet.directory.search.models import ANY_CATEGORY
from carenet.directory.search.opening_hours import day_segments, rule_from_schedule
from carenet.geo import METERS_PER_MILE

DEFAULT_TIMEZONE = "America/New_York"


@dataclass
class DirectoryBatch:
    """What the search rows of a batch of services are made of."""

    services: list[Any] = field(default_factory=list)
    categories: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    languages: dict[str, list[str]] = field(default_factory=dict)
    sites: dict[str, list[Any]] = field(default_factory=dict)
    addresses: dict[str, Any] = field(default_factory=dict)
    phones: dict[tuple[str, str], list[Any]] = field(default_factory=dict)
    schedules: dict[tuple[str | None, str | None], list[Any]] = field(default_factory=dict)
    areas: dict[str, list[Any]] = field(default_factory=dict)

    def category_slugs(self) -> set[str]:
        return {slug for terms in self.categories.values() for slug, _ in terms}

    def timezones(self) -> set[str]:
        names = {site.timezone or DEFAULT_TIMEZONE for s in self.sites.values() for site in s}
        return names | {DEFAULT_TIMEZONE}

    def entry_count(self, codes: dict[str, int]) -> int:
        return sum(
            max(1, len(self.sites.get(s.id, ()))) * (1 + len(self.categories.get(s.id, ())))
            for s in self.services
        )

    def area_count(self, codes: dict[str, int]) -> int:
        return sum(
            len(self.areas.get(s.id, ())) * (1 + len(self.categories.get(s.id, ())))
            for s in self.services
        )


@dataclass
class SearchRows:
    entries: list[dict[str, Any]] = field(default_factory=list)
    areas: list[dict[str, Any]] = field(default_factory=list)
    hours: list[dict[str, Any]] = field(default_factory=list)
    texts: list[dict[str, Any]] = field(default_factory=list)


def load_batch(
    conn: Any,
    ids: Sequence[str],
    contiguous: bool = False,
    language_codes: Sequence[str] | None = None,
) -> DirectoryBatch:
    """The directory rows behind the search rows of services ``ids``, in that order.
    ``contiguous``: ``ids`` are every service id from the first to the last, sorted, so
    ranges replace long ``IN`` lists, which the database answers much faster.
    ``language_codes``: every code in ``language``, so its (code, service_id) index serves
    the lookup."""
    batch = DirectoryBatch()
    dialect = conn.dialect.name

    def of(column: Any) -> Any:
        return column.between(ids[0], ids[-1]) if contiguous else among(column, ids, dialect)

    s, o = Service.__table__, Organization.__table__
    batch.services = list(
        conn.execute(
            select(
                s.c.id,
                s.c.name,
                s.c.description,
                s.c.free,
                s.c.minimum_age,
                s.c.maximum_age,
                s.c.capacity_status,
                s.c.confidential,
                s.c.organization_id,
                o.c.name.label("organization_name"),
            )
            .join(o, o.c.id == s.c.organization_id)
            .where(of(s.c.id), s.c.status == "active")
        )
    )
    if not batch.services:
        return batch
    rank = {sid: i for i, sid in enumerate(ids)}
    batch.services.sort(key=lambda row: rank[row.id])  # rows are written in the order given
    t = TaxonomyTerm.__table__
    for sid, code, name in conn.execute(
        select(service_category.c.service_id, t.c.code, t.c.name)
        .join(t, t.c.id == service_category.c.taxonomy_term_id)
        .where(of(service_category.c.service_id))
        .order_by(*ordered(conn, service_category.c.service_id, t.c.code))
    ):
        batch.categories.setdefault(sid, []).append((code, name))
    lang = Service.languages.property.mapper.local_table
    for sid, code in conn.execute(
        select(lang.c.service_id, lang.c.code).where(
            of(lang.c.service_id),
            lang.c.code.in_(language_codes) if language_codes else true(),
        )
    ):
        batch.languages.setdefault(sid, []).append(code.lower())
    sal, loc = ServiceAtLocation.__table__, Location.__table__
    for row in conn.execute(
        select(
            sal.c.id,
            sal.c.service_id,
            loc.c.id.label("location_id"),
            loc.c.name,
            loc.c.latitude,
            loc.c.longitude,
            loc.c.timezone,
        )
        .join(loc, loc.c.id == sal.c.location_id)
        .where(of(sal.c.service_id))
        .order_by(*ordered(conn, sal.c.service_id, sal.c.id))
    ):
        batch.sites.setdefault(row.service_id, []).append(row)
    location_ids: list[str] | None = (
        sorted({site.location_id for sites in batch.sites.values() for site in sites}) or None
    )
    organization_ids = sorted({svc.organization_id for svc in batch.services})
    _load_details(conn, batch, of, location_ids, organization_ids)
    return batch


def ordered(conn: Any, *columns: Any) -> list[Any]:
    """``columns`` to ORDER BY in code-point order, as the import's in-memory batches are
    sorted (``hsds.search_batch``), whatever the database's collation."""
    return [in_code_point_order(column, conn.dialect.name) for column in columns]


def _load_details(
    conn: Any,
    batch: DirectoryBatch,
    of: Any,
    location_ids: Any,
    organization_ids: list[str],
) -> None:
    """Addresses, phones, schedules and service areas of the batch's services and sites."""
    if location_ids is not None:
        _load_addresses(conn, batch, location_ids)
    _load_phones(conn, batch, of, location_ids)
    _load_schedules(conn, batch, of, location_ids)
    _load_areas(conn, batch, of)


def _load_addresses(conn: Any, batch: DirectoryBatch, location_ids: list[str]) -> None:
    """One address per location: its first physical one, else its first."""
    a = Address.__table__
    for row in conn.execute(
        select(a)
        .where(among(a.c.location_id, location_ids, conn.dialect.name))
        .order_by(*ordered(conn, a.c.location_id, a.c.id))
    ):
        current = batch.addresses.get(row.location_id)
        replaces = current is not None and current.address_type != "physical"
        if current is None or (replaces and row.address_type == "physical"):
            batch.addresses[row.location_id] = row


def _load_phones(conn: Any, batch: DirectoryBatch, of: Any, location_ids: list[str] | None) -> None:
    """Phones of the services and of their sites; organizations' for services with neither."""
    p = Phone.__table__
    # One query per owner kind: an OR across columns would defeat the indexes.
    phone_queries = [select(p).where(of(p.c.service_id))]
    if location_ids is not None:
        phone_queries.append(
            select(p).where(
                among(p.c.location_id, location_ids, conn.dialect.name), p.c.service_id.is_(None)
            )
        )
    for query in phone_queries:
        for row in conn.execute(query.order_by(*ordered(conn, p.c.id))):
            key = ("service", row.service_id) if row.service_id else ("location", row.location_id)
            batch.phones.setdefault(key, []).append(row)
    _load_organization_phones(conn, batch)


def bare_organizations(batch: DirectoryBatch) -> set[str]:
    """Organizations whose phones a search row shows: those of services without phones of
    their own that have no site, or a site without phones (``_phones_for``). (Not only of
    services without phones at every site: a service with phones at one site and none at
    another showed its organization's phones there only when another service of the batch
    had none at all, so a row depended on which services were refreshed with it.)"""
    return {
        svc.organization_id for svc in batch.services
        if ("service", svc.id) not in batch.phones
        and (not batch.sites.get(svc.id)
             or any(("location", site.location_id) not in batch.phones
                    for site in batch.sites[svc.id]))
    }  # fmt: skip


def _load_organization_phones(conn: Any, batch: DirectoryBatch) -> None:
    """The organization's phones, for the services whose rows may show them."""
    p = Phone.__table__
    bare = sorted(bare_organizations(batch))
    if bare:
        for row in conn.execute(
            select(p)
            .where(among(p.c.organization_id, bare, conn.dialect.name), p.c.service_id.is_(None),
                   p.c.location_id.is_(None))
            .order_by(*ordered(conn, p.c.id))
        ):  # fmt: skip
            batch.phones.setdefault(("organization", row.organization_id), []).append(row)


def _load_schedules(
    conn: Any, batch: DirectoryBatch, of: Any, location_ids: list[str] | None
) -> None:
    """Schedules of the services (at a site or anywhere) and of their sites."""
    sc = Schedule.__table__
    schedule_queries = [select(sc).where(of(sc.c.service_id))]
    if location_ids is not None:
        schedule_queries.append(
            select(sc).where(
                among(sc.c.location_id, location_ids, conn.dialect.name), sc.c.service_id.is_(None)
            )
        )
    for query in schedule_queries:
        for row in conn.execute(query.order_by(*ordered(conn, sc.c.id))):
            batch.schedules.setdefault((row.service_id, row.location_id), []).append(row)


def _load_areas(conn: Any, batch: DirectoryBatch, of: Any) -> None:
    """The services' areas: what the search rows need, not the geometry itself."""
    sa = ServiceArea.__table__
    for row in conn.execute(
        select(
            sa.c.id,
            sa.c.service_id,
            sa.c.kind,
            sa.c.geom.isnot(None).label("has_geom"),
            sa.c.center_latitude,
            sa.c.center_longitude,
            sa.c.radius_mi,
        )
        .where(of(sa.c.service_id))
        .order_by(*ordered(conn, sa.c.id))
    ):
        batch.areas.setdefault(row.service_id, []).append(row)


def _one_line(address: Any) -> str | None:
    if address is None:
        return None
    street = ", ".join(part for part in (address.address_1, address.address_2) if part)
    return f"{street}, {address.city}, {address.state_province} {address.postal_code}"


def _phones_for(batch: DirectoryBatch, service: Any, location_id: str | None) -> list[dict]:
    """The service's own phones and the location's, else the organization's."""
    chosen = batch.phones.get(("service", service.id), []) + (
        batch.phones.get(("location", location_id), []) if location_id else []
    )
    if not chosen:
        chosen = batch.phones.get(("organization", service.organization_id), [])
    return [{"number": p.number, "extension": p.extension, "type": p.type} for p in chosen]


def _schedules_for(batch: DirectoryBatch, service_id: str, location_id: str | None) -> list:
    """Schedules of this service here, else of the service, else of the location."""
    chosen = (
        (batch.schedules.get((service_id, location_id)) if location_id else None)
        or batch.schedules.get((service_id, None))
        or (batch.schedules.get((None, location_id)) if location_id else None)
        or []
    )
    return [
        rule_from_schedule(
            x.freq, x.byday, x.bymonthday, x.opens_at, x.closes_at, x.valid_from, x.valid_to
        )
        for x in chosen
    ]


def build_rows(
    batch: DirectoryBatch,
    categories: dict[str, int],
    zones: dict[str, int],
    first_entry_id: int,
    first_area_id: int,
) -> SearchRows:
    """Search rows for the batch; ids are taken consecutively from the first ids given."""
    rows = SearchRows()
    next_id, next_area = first_entry_id, first_area_id
    for service in batch.services:
        terms = batch.categories.get(service.id, [])
        codes = [ANY_CATEGORY] + [categories[slug] for slug, _ in terms]
        areas = batch.areas.get(service.id, [])
        languages = sorted(set(batch.languages.get(service.id, [])))
        common = {
            "service_id": service.id,
            "organization_id": service.organization_id,
            "organization_name": service.organization_name,
            "service_name": service.name,
            "service_description": service.description,
            "categories": "," + ",".join(slug for slug, _ in terms) + ",",
            "languages": "," + ",".join(languages) + ",",
            "free": bool(service.free),
            "minimum_age": service.minimum_age,
            "maximum_age": service.maximum_age,
            "capacity_status": service.capacity_status,
            "confidential": bool(service.confidential),
            "has_area": bool(areas),
        }
        sites = batch.sites.get(service.id) or [None]
        primary: dict[int, int] = {}  # category code -> id of the area_primary entry
        for index, site in enumerate(sites):
            location_id = site.location_id if site else None
            zone_name = (site.timezone if site else None) or DEFAULT_TIMEZONE
            rules = _schedules_for(batch, service.id, location_id)
            any_id = next_id
            entry = dict(
                common,
                any_id=any_id,
                location_id=location_id,
                service_at_location_id=site.id if site else None,
                area_primary=index == 0,
                latitude=site.latitude if site else None,
                longitude=site.longitude if site else None,
                timezone=zone_name,
                tz_code=zones[zone_name],
                location_name=site.name if site else None,
                address=_one_line(batch.addresses.get(location_id)) if location_id else None,
                phones=json.dumps(_phones_for(batch, service, location_id)),
                schedules=json.dumps([rule.to_json() for rule in rules]),
            )
            for code in codes:
                rows.entries.append(dict(entry, id=next_id, category_code=code))
                if index == 0:
                    primary[code] = next_id
                next_id += 1
            for rule in rules:
                for dow, monthday, start, end, shift_from, shift_to in day_segments(rule):
                    rows.hours.append(
                        {
                            "any_id": any_id,
                            "dow": dow,
                            "monthday": monthday,
                            "open_min": start,
                            "close_min": end,
                            "valid_from": rule.valid_from.toordinal() + shift_from
                            if rule.valid_from
                            else None,
                            "valid_to": rule.valid_to.toordinal() + shift_to
                            if rule.valid_to
                            else None,
                        }
                    )
            words = [
                service.name,
                service.organization_name,
                service.description or "",
                site.name if site and site.name else "",
            ] + [name for _, name in terms]
            rows.texts.append({"any_id": any_id, "body": " ".join(w for w in words if w)})
        office = sites[0]
        for area in areas:
            circle = (
                area.kind == "radius"
                and area.radius_mi is not None
                and area.center_latitude is not None
                and area.center_longitude is not None
            )
            for code in codes:
                rows.areas.append(
                    {
                        "id": next_area,
                        "service_id": service.id,
                        "service_area_id": area.id,
                        "category_code": code,
                        "center_latitude": area.center_latitude if circle else None,
                        "center_longitude": area.center_longitude if circle else None,
                        "radius_m": area.radius_mi * METERS_PER_MILE if circle else None,
                        "entry_id": primary[code],
                        "office_latitude": office.latitude if office else None,
                        "office_longitude": office.longitude if office else None,
                        "shared": len(areas) > 1,
                    }
                )
                next_area += 1
    return _by_category(rows, first_entry_id, first_area_id)


def _by_category(rows: SearchRows, first_entry_id: int, first_area_id: int) -> SearchRows:
    """The batch's rows a category at a time (services in batch order within each), ids
    reassigned in that order: SQLite stores rows by id, and a search reads one category."""
    entries = sorted(rows.entries, key=lambda row: row["category_code"])  # stable
    new_id = {row["id"]: first_entry_id + i for i, row in enumerate(entries)}
    for row in entries:  # the rows are this batch's own: renumbered in place
        row["id"], row["any_id"] = new_id[row["id"]], new_id[row["any_id"]]
    rows.entries = entries
    areas = sorted(rows.areas, key=lambda row: row["category_code"])
    for i, row in enumerate(areas):
        row["id"], row["entry_id"] = first_area_id + i, new_id[row["entry_id"]]
    rows.areas = areas
    for row in rows.hours:
        row["any_id"] = new_id[row["any_id"]]
    for row in rows.texts:
        row["any_id"] = new_id[row["any_id"]]
    return rows
