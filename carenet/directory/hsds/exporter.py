"""Export the directory as HSDS 3.0 JSON: PATH/organizations.json and PATH/services.json.

Each file is a JSON array with one compiled object per line (organization
objects with their phones and locations; service objects with their
organization, phones, schedules, languages, service areas, attributes and
service_at_locations). Services are read in id order, a batch at a time, and
written out before the next batch is loaded, so memory stays flat however
large the directory. ``carenet import-hsds PATH`` reads the folder back.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Container, Iterator
from pathlib import Path
from typing import Any

import click
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from carenet.directory.hsds.conventions import (
    PROPERTY_TAXONOMY_ID,
    category_attribute,
    property_attribute,
    term_of,
    term_uuid,
)
from carenet.directory.hsds.extras import given_fields, local_values
from carenet.directory.models import (
    Address,
    Language,
    Location,
    Organization,
    Phone,
    Schedule,
    Service,
    ServiceArea,
    ServiceAtLocation,
    Taxonomy,
    TaxonomyTerm,
)
from carenet.directory.taxonomy import TAXONOMY_ID
from carenet.extensions import db

BATCH = 500


def _compact(obj: dict[str, Any]) -> dict[str, Any]:
    """Drop null values: HSDS types its optional fields without null."""
    return {k: v for k, v in obj.items() if v is not None}


def _hsds(typed: dict[str, Any], stored: Any, required: tuple[str, ...] = ()) -> dict[str, Any]:
    """An exported object: the typed values (null ones and those still holding a value
    carenet derived for itself left out, unless the schema requires them), then every
    field kept as given (``hsds_extra``) that the typed values do not already say."""
    local = local_values(stored)
    out = {
        k: v
        for k, v in typed.items()
        if v is not None and (k in required or k not in local or local[k] != v)
    }
    for key, value in given_fields(stored).items():
        out.setdefault(key, value)
    return out


def export_attributes(
    link_id: str,
    link_type: str,
    stored: Any,
    categories: list[str] = [],  # noqa: B006 - read only
    properties: dict[str, tuple[Any, str]] | None = None,
) -> list[dict[str, Any]]:
    """An object's attributes: those given (a carenet category only while the object still
    has it, a carenet property with its current value) and carenet's own for what was set
    in carenet; categories and properties carenet derived are not exported."""
    local = local_values(stored)
    derived = set(local.get("categories") or ())
    cats = [c for c in categories if c not in derived]
    props = {
        name: text
        for name, (value, text) in (properties or {}).items()
        if value is not None and not (name in local and local[name] == value)
    }
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    for attribute in given_fields(stored).get("attributes") or []:
        term_id, code, taxonomy = term_of(attribute)
        if term_id.startswith(f"{TAXONOMY_ID}:") or taxonomy == TAXONOMY_ID:
            slug = term_id.split(":", 1)[1] if ":" in term_id else code
            if slug in cats and slug not in seen:
                out.append(attribute)
            seen.add(slug)
        elif term_id.startswith(f"{PROPERTY_TAXONOMY_ID}:") or taxonomy == PROPERTY_TAXONOMY_ID:
            name = term_id.split(":", 1)[1] if ":" in term_id else code
            if name in props and name not in seen:
                out.append({**attribute, "value": props[name]})
            seen.add(name)
        else:
            out.append(attribute)
    out += [category_attribute(link_id, link_type, c) for c in cats if c not in seen]
    out += [property_attribute(link_id, link_type, n, v) for n, v in props.items() if n not in seen]
    return out


def phone_json(phone: Phone) -> dict[str, Any]:
    extension: Any = phone.extension
    if extension is not None:
        extension = int(extension) if extension.isdigit() else None
    return _hsds(
        {
            "id": phone.id,
            "organization_id": phone.organization_id,
            "service_id": phone.service_id,
            "location_id": phone.location_id,
            "number": phone.number,
            "extension": extension,
            "type": phone.type,
            "description": phone.description,
        },
        phone.hsds_extra,
    )


def schedule_json(schedule: Schedule) -> dict[str, Any]:
    def iso(value: Any) -> str | None:
        return value.isoformat() if value is not None else None

    return _hsds(
        {
            "id": schedule.id,
            "service_id": schedule.service_id,
            "location_id": schedule.location_id,
            "freq": schedule.freq,
            "interval": schedule.interval,
            "byday": schedule.byday,
            "bymonthday": schedule.bymonthday,
            "opens_at": iso(schedule.opens_at),
            "closes_at": iso(schedule.closes_at),
            "valid_from": iso(schedule.valid_from),
            "valid_to": iso(schedule.valid_to),
            "description": schedule.description,
        },
        schedule.hsds_extra,
    )


def address_json(address: Address) -> dict[str, Any]:
    fields = ("attention", "address_1", "address_2", "city", "region", "state_province")
    return _hsds(
        {
            "id": address.id,
            "location_id": address.location_id,
            **{f: getattr(address, f) for f in fields},
            "postal_code": address.postal_code,
            "country": address.country,
            "address_type": address.address_type,
        },
        address.hsds_extra,
        required=("country", "address_type"),
    )


def location_core_json(location: Location, redacted: bool = False) -> dict[str, Any]:
    """A location's own fields (the shape in HSDS lists); no coordinates when ``redacted``."""
    fields = ("url", "name", "alternate_name", "description", "transportation")
    core = {
        "id": location.id,
        "location_type": location.location_type,
        "organization_id": location.organization_id,
        **{f: getattr(location, f) for f in fields},
        "latitude": None if redacted else location.latitude,
        "longitude": None if redacted else location.longitude,
    }
    nested = {"languages", "addresses", "contacts", "accessibility", "phones", "schedules"}
    given = {k: v for k, v in given_fields(location.hsds_extra).items() if k not in nested}
    stored = {**given, "carenet:local": local_values(location.hsds_extra)}
    return _hsds(core, stored, required=("location_type",))


def location_json(location: Location, redacted: bool = False) -> dict[str, Any]:
    """A location with its addresses, phones, schedules and attributes; ``redacted`` (a
    confidential service is there and the viewer may not see it) drops the addresses and
    coordinates."""
    attributes = export_attributes(
        location.id,
        "location",
        location.hsds_extra,
        properties={
            "timezone": (location.timezone, location.timezone),
            "geocode_method": (location.geocode_method, location.geocode_method or ""),
        },
    )
    return {
        **given_fields(location.hsds_extra),
        **location_core_json(location, redacted),
        "addresses": []
        if redacted
        else [address_json(a) for a in sorted(location.addresses, key=_by_id)],
        "phones": [phone_json(p) for p in _own(location.phones, "service_id")],
        "schedules": [schedule_json(s) for s in _own(location.schedules, "service_id")],
        "attributes": attributes,
    }


def organization_core_json(org: Organization) -> dict[str, Any]:
    """An organization's own fields (the HSDS ``organization_list`` shape)."""
    fields = ("alternate_name", "email", "website", "tax_status", "tax_id", "legal_status")
    core = {
        "id": org.id,
        "name": org.name,
        "description": org.description or "",
        **{f: getattr(org, f) for f in fields},
        "year_incorporated": org.year_incorporated,
    }
    return _hsds(core, _scalars(org.hsds_extra), required=("description",))


def _scalars(stored: Any) -> dict[str, Any]:
    """``hsds_extra`` without its lists of objects (the ``*_list`` shapes leave them out)."""
    return {
        k: v
        for k, v in (stored or {}).items()
        if not (isinstance(v, list) and all(isinstance(i, dict) for i in v))
    }


def organization_json(
    org: Organization, with_locations: bool, redacted: Container[str] = ()
) -> dict[str, Any]:
    """An organization with its phones and attributes, and its locations if asked (those
    whose ids are in ``redacted`` without address or coordinates)."""
    obj = {**given_fields(org.hsds_extra), **organization_core_json(org)}
    obj["phones"] = [phone_json(p) for p in sorted(org.phones, key=_by_id)]
    obj["attributes"] = export_attributes(
        org.id, "organization", org.hsds_extra, properties={"kind": (org.kind, org.kind)}
    )
    if with_locations:
        obj["locations"] = [
            location_json(loc, loc.id in redacted) for loc in sorted(org.locations, key=_by_id)
        ]
    return obj


def service_area_json(area: ServiceArea, redacted: bool = False) -> dict[str, Any]:
    """A service area; ``redacted`` drops a radius's extent (its centre is the office)."""
    extent_type = "geojson" if area.kind in {"polygon", "radius"} else "text"
    hidden = redacted and area.kind == "radius"
    given = given_fields(area.hsds_extra)
    typed = {
        "id": area.id,
        "service_id": area.service_id if "service_id" in given else None,
        "name": area.name,
        "description": area.description,
        "extent": None if hidden else area.extent,
        "extent_type": None if hidden else given.get("extent_type", extent_type),
    }
    if hidden:
        given.pop("extent_type", None)
    return _hsds(typed, given)


def language_json(language: Language) -> dict[str, Any]:
    return _hsds(
        {
            "id": language.id,
            "service_id": language.service_id,
            "name": language.name,
            "code": language.code or None,
            "note": language.note,
        },
        language.hsds_extra,
    )


def _by_id(obj: Any) -> str:
    return str(obj.id)


def _own(items: list[Any], other_owner: str) -> list[Any]:
    return sorted((i for i in items if getattr(i, other_owner) is None), key=_by_id)


def _at(items: list[Any], location_id: str) -> list[Any]:
    return sorted((i for i in items if i.location_id == location_id), key=_by_id)


def service_core_json(service: Service) -> dict[str, Any]:
    """A service's own fields (the HSDS ``service_list`` shape, without its organization)."""
    verified = service.last_verified_at
    text_fields = ("alternate_name", "description", "url", "email")
    more_fields = ("interpretation_services", "application_process", "fees_description")
    return _hsds(
        {
            "id": service.id,
            "organization_id": service.organization_id,
            "name": service.name,
            **{f: getattr(service, f) for f in text_fields},
            "status": service.status,
            **{f: getattr(service, f) for f in more_fields},
            "eligibility_description": service.eligibility_description,
            "minimum_age": service.minimum_age,
            "maximum_age": service.maximum_age,
            "assured_date": verified.date().isoformat() if verified else None,
            "assurer_email": service.last_verified_by,
        },
        _scalars(service.hsds_extra),
        required=("status",),
    )


def service_attributes(service: Service) -> list[dict[str, Any]]:
    """A service's attributes: as given, plus its categories and carenet properties where
    carenet (not a derivation) set them."""
    return export_attributes(
        service.id,
        "service",
        service.hsds_extra,
        [t.code for t in service.categories],
        {
            "capacity_status": (service.capacity_status, service.capacity_status),
            "free": (service.free, str(service.free).lower()),
            "confidential": (service.confidential, str(service.confidential).lower()),
        },
    )


def service_at_location_json(
    service: Service, sal: ServiceAtLocation, redacted: bool = False
) -> dict[str, Any]:
    """One service_at_location of ``service`` with its phones, schedules and location."""
    return _hsds(
        {
            "id": sal.id,
            "service_id": service.id,
            "location_id": sal.location_id,
            "description": sal.description,
            "phones": [phone_json(p) for p in _at(service.phones, sal.location_id)],
            "schedules": [schedule_json(s) for s in _at(service.schedules, sal.location_id)],
            "location": location_json(sal.location, redacted),
        },
        sal.hsds_extra,
    )


def service_json(service: Service, redacted: Container[str] = ()) -> dict[str, Any]:
    """One service as a compiled HSDS 3.0 service object. Locations whose ids are in
    ``redacted`` lose their addresses and coordinates, and then so does a radius area."""
    hidden = any(sal.location_id in redacted for sal in service.service_at_locations)
    given = given_fields(service.hsds_extra)
    return {
        **given,
        **service_core_json(service),
        "organization": organization_json(service.organization, with_locations=False),
        "phones": [phone_json(p) for p in _own(service.phones, "location_id")],
        "schedules": [schedule_json(s) for s in _own(service.schedules, "location_id")],
        "languages": [language_json(lang) for lang in service.languages],
        "service_areas": [
            service_area_json(a, hidden) for a in sorted(service.service_areas, key=_by_id)
        ]
        + [a for a in given.get("service_areas") or [] if not hidden],
        "attributes": service_attributes(service),
        "service_at_locations": [
            service_at_location_json(service, sal, sal.location_id in redacted)
            for sal in sorted(service.service_at_locations, key=_by_id)
        ],
    }


def taxonomy_json(taxonomy: Taxonomy) -> dict[str, Any]:
    """A taxonomy as an HSDS 3.0 taxonomy object (description required: ``""`` if none)."""
    return _hsds(
        {
            "id": term_uuid(taxonomy.id),
            "name": taxonomy.name,
            "description": taxonomy.description or "",
            "uri": taxonomy.uri,
            "version": taxonomy.version,
        },
        taxonomy.hsds_extra,
        required=("description",),
    )


def taxonomy_term_json(term: TaxonomyTerm) -> dict[str, Any]:
    """A taxonomy term as an HSDS 3.0 taxonomy_term object (as attributes carry them)."""
    return _hsds(
        {
            "id": term_uuid(term.id),
            "code": term.code,
            "name": term.name,
            "description": term.description or "",
            "parent_id": term_uuid(term.parent_id) if term.parent_id else None,
            "taxonomy": None if "taxonomy" in (term.hsds_extra or {}) else term.taxonomy_id,
            "taxonomy_id": term_uuid(term.taxonomy_id),
            "term_uri": term.term_uri,
        },
        term.hsds_extra,
        required=("description",),
    )


def location_options() -> list[Any]:
    """Loader options for everything ``location_json`` reads."""
    return [
        selectinload(Location.addresses),
        selectinload(Location.phones),
        selectinload(Location.schedules),
    ]


def service_options() -> list[Any]:
    """Loader options for everything ``service_json`` reads (one query per relation)."""
    return [
        selectinload(Service.organization).selectinload(Organization.phones),
        selectinload(Service.categories),
        selectinload(Service.languages),
        selectinload(Service.phones),
        selectinload(Service.schedules),
        selectinload(Service.service_areas),
        selectinload(Service.service_at_locations)
        .selectinload(ServiceAtLocation.location)
        .options(*location_options()),
    ]


def _in_id_order(model: Any, options: list[Any], batch: int) -> Iterator[Any]:
    """Every row of ``model`` in id order, loaded ``batch`` at a time (keyset paging), each
    batch expunged once its rows have been handed out."""
    last = ""
    while True:
        rows = db.session.scalars(
            select(model).where(model.id > last).order_by(model.id).limit(batch).options(*options)
        ).all()
        if not rows:
            return
        yield from rows
        last = rows[-1].id
        db.session.expunge_all()


def iter_services(batch: int = BATCH) -> Iterator[dict[str, Any]]:
    """Every service as an HSDS object, loaded ``batch`` at a time in id order."""
    for service in _in_id_order(Service, service_options(), batch):
        yield service_json(service)


def iter_organizations(batch: int = BATCH) -> Iterator[dict[str, Any]]:
    """Every organization with its phones and locations, ``batch`` at a time."""
    options = [
        selectinload(Organization.phones),
        selectinload(Organization.locations).options(*location_options()),
    ]
    for org in _in_id_order(Organization, options, batch):
        yield organization_json(org, with_locations=True)


def iter_lone_locations(batch: int = BATCH) -> Iterator[dict[str, Any]]:
    """Locations of no organization and no service (HSDS allows them)."""
    lone = Location.organization_id.is_(None) & ~Location.service_at_locations.any()
    last = ""
    while True:
        rows = db.session.scalars(
            select(Location)
            .where(lone, Location.id > last)
            .order_by(Location.id)
            .limit(batch)
            .options(*location_options())
        ).all()
        if not rows:
            return
        for location in rows:
            yield location_json(location)
        last = rows[-1].id
        db.session.expunge_all()


def write_array(path: Path, objects: Iterator[dict[str, Any]]) -> int:
    """Write a JSON array, one object per line; returns how many were written."""
    count = 0
    with path.open("w", encoding="utf-8") as handle:
        handle.write("[")
        for obj in objects:
            handle.write(",\n" if count else "\n")
            handle.write(json.dumps(obj, ensure_ascii=False, separators=(",", ":")))
            count += 1
        handle.write("\n]\n")
    return count


def export_directory(folder: str | Path) -> dict[str, int]:
    """Write organizations.json and services.json into ``folder``; returns counts."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    organizations = write_array(folder / "organizations.json", iter_organizations())
    services = write_array(folder / "services.json", iter_services())
    write_array(folder / "locations.json", iter_lone_locations())
    foreign = ~Taxonomy.id.in_(CARENET_TAXONOMIES)
    taxonomies = db.session.scalars(select(Taxonomy).where(foreign).order_by(Taxonomy.id))
    write_array(folder / "taxonomies.json", (taxonomy_json(t) for t in taxonomies))
    terms = db.session.scalars(
        select(TaxonomyTerm).where(~TaxonomyTerm.taxonomy_id.in_(CARENET_TAXONOMIES))
    )
    write_array(folder / "taxonomy_terms.json", (taxonomy_term_json(t) for t in terms))
    return {"organizations": organizations, "services": services}


CARENET_TAXONOMIES = (TAXONOMY_ID, PROPERTY_TAXONOMY_ID)


def run_export_command(path: str, echo: Callable[[str], None] = click.echo) -> None:
    """The ``carenet export-hsds`` command."""
    try:
        counts = export_directory(path)
    except OSError as exc:
        raise click.ClickException(f"cannot write to {path}: {exc.strerror or exc}") from None
    echo(
        f"Wrote {counts['organizations']} organizations to {Path(path) / 'organizations.json'} "
        f"and {counts['services']} services to {Path(path) / 'services.json'}"
    )
