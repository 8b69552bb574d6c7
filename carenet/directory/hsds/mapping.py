"""HSDS 3.0 objects -> rows of carenet's directory tables, with validation.

``map_record`` turns one compiled service, organization, location or
service_at_location object into a ``MappedRecord`` (rows per table) or raises
``RecordRejected`` with the reason. It touches no database, so a rejected
record can never be half-written. Lenient and loud: only a missing or invalid
required field (the record's id or name, its organization) rejects the record;
a problem confined to an optional field or a nested object drops that field or
object with a warning naming it. Every field carenet has no column for is kept
as given in the row's ``hsds_extra`` (``extras``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, time
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import String

from carenet.db.types import point_wkt
from carenet.directory import models
from carenet.directory.hsds.conventions import (
    PROPERTY_TAXONOMY_ID,
    AttributeValues,
    RecordRejected,
    carenet_term_id,
    named_extent,
    parse_bool,
    read_attributes,
    read_extent,
    service_state,
    term_of,
)
from carenet.directory.hsds.extras import (
    extra_fields,
    fields_valid,
    problem,
    text_fields,
    with_local,
)
from carenet.directory.hsds.fields import (
    as_date,
    as_time,
    choice,
    county_postcodes,
    hsds_id,
    number,
    postcode_facts,
    text,
    whole,
)
from carenet.directory.hsds.legacy import language_for
from carenet.directory.taxonomy import TAXONOMY_ID

TABLES = {
    "organization": models.Organization.__table__,
    "location": models.Location.__table__,
    "service": models.Service.__table__,
    "service_at_location": models.ServiceAtLocation.__table__,
    "address": models.Address.__table__,
    "phone": models.Phone.__table__,
    "schedule": models.Schedule.__table__,
    "language": models.Language.__table__,
    "service_area": models.ServiceArea.__table__,
    "taxonomy": models.Taxonomy.__table__,
    "taxonomy_term": models.TaxonomyTerm.__table__,
}
_BYDAY = re.compile(r"^(?:[+-]?\d{1,2})?(MO|TU|WE|TH|FR|SA|SU)$")
_LANGUAGE_CODE = re.compile(r"^[a-z]{2,3}(?:-[A-Za-z0-9]{2,8})?$")


@dataclass
class MappedRecord:
    """Everything one HSDS record writes, keyed by table then by id."""

    kind: str
    id: str
    rows: dict[str, dict[str, dict[str, Any]]] = field(
        default_factory=lambda: {name: {} for name in TABLES}
    )
    categories: set[tuple[str, str]] = field(default_factory=set)
    area_postcodes: set[tuple[str, str]] = field(default_factory=set)
    needs_organizations: set[str] = field(default_factory=set)
    needs_locations: set[str] = field(default_factory=set)
    needs_services: set[str] = field(default_factory=set)
    needs_taxonomies: set[str] = field(default_factory=set)
    # location id -> the organization_id it gave (optional: an unknown one is dropped)
    location_organizations: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    # services whose status was missing or unknown (taken as active): HSDS 1.x exports
    # often give none, so the importer sums them up in one warning instead of one each
    status_defaulted: list[str] = field(default_factory=list)

    def add(self, table: str, row: dict[str, Any]) -> bool:
        """Add a row unless one with the same id is already there (first one wins)."""
        if row["id"] in self.rows[table]:
            return False
        self.rows[table][row["id"]] = row
        return True

    def warn(self, message: str) -> None:
        self.warnings.append(message)


@dataclass
class Defaults:
    timezone: str = "America/New_York"


def _check_lengths(record: MappedRecord, table: str, row: dict[str, Any]) -> None:
    """Too long for its column: the record's own name rejects; any other value is dropped
    with a warning (kept out of the row)."""
    for name, length in _LIMITED[table]:
        value = row.get(name)
        if isinstance(value, str) and len(value) > length:
            reason = f"{table} {row['id']}: {name} is longer than {length} characters"
            if name in REQUIRED_TEXT.get(table, ()):
                raise RecordRejected(reason)
            record.warn(f"{reason}; dropped")
            row[name] = None


def _limited_columns(table: Any) -> tuple[tuple[str, int], ...]:
    """The string columns of ``table`` with a maximum length, in column order."""
    return tuple(
        (column.name, int(column.type.length))
        for column in table.columns
        if isinstance(column.type, String) and column.type.length
    )


_LIMITED = {name: _limited_columns(table) for name, table in TABLES.items()}


# Columns whose value is required; a problem with any other column drops just that value.
REQUIRED_TEXT = {
    "organization": ("id", "name"),
    "service": ("id", "name", "organization_id"),
    "location": ("id",),
    "address": ("id", "address_1", "city", "state_province", "postal_code"),
    "phone": ("id", "number"),
}


def _attempt(record: MappedRecord, read: Any, *args: Any) -> Any:
    """``read(*args)``; a RecordRejected becomes a warning and the value None."""
    try:
        return read(*args)
    except RecordRejected as exc:
        record.warn(f"{exc}; dropped")
        return None


def _finish(
    record: MappedRecord,
    table: str,
    row: dict[str, Any],
    obj: dict[str, Any],
    consumed: frozenset[str],
    local: dict[str, Any],
) -> bool:
    """Store the row with its ``hsds_extra`` (the fields not consumed, checked) and LOCAL."""
    where = f"{table} {row['id']}"
    kind = table
    if isinstance(obj.get("attributes"), list):  # carenet's own are columns and categories
        obj = {**obj, "attributes": [a for a in obj["attributes"] if not _is_carenet(a)]}
    extra = extra_fields(kind, obj, consumed, where, record.warnings, columns=row)
    # a typed value that is not valid HSDS (a URL without a scheme): kept, not exported
    typed = {}
    for key in text_fields(kind):  # a few keys per kind
        value = row.get(key)
        if isinstance(value, str) and key in obj:
            typed[key] = value
    if typed and not fields_valid(kind, typed):  # one check; then each field, to name it
        for key in [k for k in row if k in typed]:  # in the row's order
            value = typed[key]
            if problem(kind, key, value):
                record.warn(f"{where}: {key} {value!r} is not valid HSDS; kept but not exported")
                local[key] = value
    row["hsds_extra"] = with_local(extra, local)
    return record.add(table, row)


def _is_carenet(attribute: Any) -> bool:
    if not isinstance(attribute, dict):
        return False
    term_id, _code, taxonomy = term_of(attribute)
    return taxonomy in CARENET_TAXONOMIES or term_id.split(":", 1)[0] in CARENET_TAXONOMIES


CARENET_TAXONOMIES = (TAXONOMY_ID, PROPERTY_TAXONOMY_ID)


def _organization(record: MappedRecord, obj: dict[str, Any]) -> str:
    if not text(obj, "id"):
        raise RecordRejected("organization: id is missing")
    org_id = hsds_id(obj)
    where = f"organization {org_id}"
    if org_id in record.rows["organization"]:
        return org_id
    if not text(obj, "name"):
        raise RecordRejected(f"{where}: name is missing")
    props = read_attributes(obj.get("attributes"), "organization", record.warnings).properties
    local: dict[str, Any] = {}
    row = {
        "id": org_id,
        **{k: text(obj, k) for k in ("name", "alternate_name", "description", "email")},
        **{k: text(obj, k) for k in ("tax_status", "tax_id", "legal_status")},
        "website": text(obj, "website"),
        "year_incorporated": _attempt(record, whole, obj, "year_incorporated", where),
        "kind": _attempt(
            record, choice, props.get("kind"), models.ORGANIZATION_KINDS, "community", "kind"
        )
        or "community",
    }
    if not row["website"] and text(obj, "url"):
        row["website"] = local["website"] = text(obj, "url")
    if "kind" not in props:
        local["kind"] = row["kind"]
    _check_lengths(record, "organization", row)
    if _finish(record, "organization", row, obj, ORG_CONSUMED, local):
        for phone in _objects(record, obj, "phones", where):
            _phone(record, phone, organization_id=org_id)
    return org_id


ORG_CONSUMED = frozenset({"phones", "locations", "services", "id"})
SERVICE_CONSUMED = frozenset(
    {"phones", "schedules", "languages", "service_areas", "service_at_locations"}
    | {"organization", "organization_id", "assured_date", "id"}
)
LOCATION_CONSUMED = frozenset({"addresses", "phones", "schedules", "latitude", "longitude", "id"})
SAL_CONSUMED = frozenset({"location", "service", "phones", "schedules", "id"})
LEAF_CONSUMED = frozenset({"id"})


def _objects(
    record: MappedRecord, obj: dict[str, Any], key: str, where: str
) -> list[dict[str, Any]]:
    """A list of objects; anything else is dropped with a warning (so are non-objects)."""
    value = obj.get(key)
    if value is None or value == "":
        return []
    if not isinstance(value, list):
        record.warn(f"{where}: {key} is not a list; dropped")
        return []
    kept = [v for v in value if isinstance(v, dict)]
    if len(kept) != len(value):
        record.warn(f"{where}: {len(value) - len(kept)} {key} entries are not objects; dropped")
    return kept


def _phone(record: MappedRecord, obj: dict[str, Any], **owner: str | None) -> None:
    owner_key = ":".join(str(v) for v in owner.values())
    phone_id = hsds_id(obj, owner_key, "phone", str(obj.get("number")))
    phone_number = text(obj, "number")
    if not phone_number:
        record.warn(f"phone {phone_id}: number is missing; phone dropped")
        return
    extension = obj.get("extension")
    if isinstance(extension, float) and extension.is_integer():
        extension = int(extension)
    row = {
        "id": phone_id,
        "organization_id": owner.get("organization_id"),
        "service_id": owner.get("service_id"),
        "location_id": owner.get("location_id"),
        "number": phone_number,
        "extension": str(extension).strip() or None if extension is not None else None,
        "type": text(obj, "type"),
        "description": text(obj, "description"),
    }
    local: dict[str, Any] = {}
    if row["extension"] and not str(row["extension"]).isdigit():
        local["extension"] = row["extension"]
    _check_lengths(record, "phone", row)
    _finish(record, "phone", row, obj, LEAF_CONSUMED, local)


def _byday(record: MappedRecord, obj: dict[str, Any], where: str) -> str | None:
    byday = text(obj, "byday")
    if not byday:
        return None
    days = [d.strip().upper() for d in byday.split(",") if d.strip()]
    if not all(_BYDAY.match(d) for d in days):
        record.warn(f"{where}: byday '{byday}' is not a list of MO..SU; dropped")
        return None
    return ",".join(days)


def _schedule(record: MappedRecord, obj: dict[str, Any], **owner: str | None) -> None:
    owner_key = ":".join(str(v) for v in owner.values())
    schedule_id = text(obj, "id") or hsds_id(
        obj, owner_key, "schedule", str(sorted(obj.items(), key=str))
    )
    where = f"schedule {schedule_id}"
    interval = _attempt(record, whole, obj, "interval", where)
    if interval is not None and interval < 1:
        record.warn(f"{where}: interval {interval} must be 1 or more; dropped")
        interval = None
    freq = _attempt(record, choice, text(obj, "freq"), models.SCHEDULE_FREQS, "WEEKLY", "freq")
    row: dict[str, Any] = {
        "id": schedule_id,
        "service_id": owner.get("service_id"),
        "location_id": owner.get("location_id"),
        "freq": freq or "WEEKLY",
        "interval": 1 if interval is None else interval,
        "byday": _byday(record, obj, where),
        "bymonthday": text(obj, "bymonthday"),
        "opens_at": _attempt(record, as_time, obj.get("opens_at"), f"{where}: opens_at"),
        "closes_at": _attempt(record, as_time, obj.get("closes_at"), f"{where}: closes_at"),
        "valid_from": _attempt(record, as_date, obj.get("valid_from"), f"{where}: valid_from"),
        "valid_to": _attempt(record, as_date, obj.get("valid_to"), f"{where}: valid_to"),
        "description": text(obj, "description"),
    }
    local = {k: row[k] for k in ("freq", "interval") if not text(obj, k)}
    _check_lengths(record, "schedule", row)
    _finish(record, "schedule", row, obj, SCHEDULE_CONSUMED, local)


SCHEDULE_CONSUMED = frozenset(
    {"freq", "interval", "opens_at", "closes_at", "valid_from", "valid_to", "byday", "id"}
)


def _address(record: MappedRecord, obj: dict[str, Any], location_id: str, index: int) -> None:
    address_id = hsds_id(obj, location_id, "address", str(index))
    where = f"address {address_id}"
    row: dict[str, Any] = {"id": address_id, "location_id": location_id}
    for key in ("address_1", "city", "state_province", "postal_code"):
        row[key] = text(obj, key)
        if not row[key]:
            record.warn(f"{where}: {key} is missing; address dropped")
            return
    for key in ("attention", "address_2", "region"):
        row[key] = text(obj, key)
    row["country"] = (text(obj, "country") or "US").upper()
    address_type = _attempt(
        record, choice, text(obj, "address_type"), models.ADDRESS_TYPES, "physical", "address_type"
    )
    row["address_type"] = address_type or "physical"
    local = {k: row[k] for k in ("country", "address_type") if text(obj, k) != row[k]}
    _check_lengths(record, "address", row)
    _finish(record, "address", row, obj, LEAF_CONSUMED, local)


def _coordinates(
    record: MappedRecord, obj: dict[str, Any], where: str
) -> tuple[float | None, float | None]:
    """A location's own latitude and longitude: both in range, or both None (a problem
    drops them with a warning)."""
    latitude = _attempt(record, number, obj, "latitude", where)
    longitude = _attempt(record, number, obj, "longitude", where)
    if latitude is not None and not -90 <= latitude <= 90:
        record.warn(f"{where}: latitude {obj['latitude']} is outside -90..90; dropped")
        latitude = None
    if longitude is not None and not -180 <= longitude <= 180:
        record.warn(f"{where}: longitude {obj['longitude']} is outside -180..180; dropped")
        longitude = None
    if (latitude is None) != (longitude is None):
        record.warn(f"{where}: only one of latitude/longitude is usable; both dropped")
        return None, None
    return latitude, longitude


def _known_zone(record: MappedRecord, zone: str | None, where: str) -> str | None:
    """``zone`` if it is an IANA time zone this machine knows (else a warning, None)."""
    if not zone:
        return None
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        record.warn(f"{where}: unknown time zone '{zone}'; dropped")
        return None
    return zone


def _postcode_of(addresses: list[dict[str, Any]]) -> str:
    postcode = next(
        (a.get("postal_code") for a in addresses if a.get("address_type") != "postal"),
        addresses[0].get("postal_code") if addresses else None,
    )
    return str(postcode or "").strip()[:5]


def _placement(
    record: MappedRecord, obj: dict[str, Any], props: dict[str, str], where: str, defaults: Defaults
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Coordinates, geocode method and time zone of a location, and which were derived."""
    latitude, longitude = _coordinates(record, obj, where)
    zip5 = _postcode_of(_objects(record, obj, "addresses", where))
    zip_lat, zip_lon, zip_zone = postcode_facts(zip5) if zip5.isdigit() else (None, None, None)
    local: dict[str, Any] = {}
    method = props.get("geocode_method") or None
    if latitude is None and zip_lat is not None:
        latitude, longitude, method = zip_lat, zip_lon, "postcode"
        local.update(latitude=latitude, longitude=longitude, geocode_method=method)
    elif latitude is not None and method is None:
        method = local["geocode_method"] = "source"
    zone = _known_zone(record, props.get("timezone"), where)
    if zone is None:
        zone = local["timezone"] = zip_zone or defaults.timezone
    values = {
        "latitude": latitude,
        "longitude": longitude,
        "geocode_method": method if latitude is not None else None,
        "timezone": zone,
        "geom": point_wkt(longitude, latitude)
        if latitude is not None and longitude is not None
        else None,
    }
    return values, local


def _location(
    record: MappedRecord, obj: dict[str, Any], organization_id: str | None, defaults: Defaults
) -> str:
    if not text(obj, "id"):
        raise RecordRejected("location: id is missing")
    location_id = hsds_id(obj)
    where = f"location {location_id}"
    if location_id in record.rows["location"]:
        return location_id
    props = read_attributes(obj.get("attributes"), "location", record.warnings).properties
    placement, local = _placement(record, obj, props, where, defaults)
    location_type = _attempt(
        record,
        choice,
        text(obj, "location_type"),
        models.LOCATION_TYPES,
        "physical",
        "location_type",
    )
    row = {
        "id": location_id,
        "organization_id": text(obj, "organization_id") or organization_id,
        "location_type": location_type or "physical",
        **{k: text(obj, k) for k in ("url", "name", "alternate_name", "description")},
        "transportation": text(obj, "transportation"),
        **placement,
    }
    location_org = row["organization_id"]
    if location_org and location_org not in record.rows["organization"]:
        if text(obj, "organization_id"):
            record.location_organizations[location_id] = location_org
        else:
            record.needs_organizations.add(location_org)
    _check_lengths(record, "location", row)
    _finish(record, "location", row, obj, LOCATION_CONSUMED, local)
    for index, address in enumerate(_objects(record, obj, "addresses", where)):
        _address(record, address, location_id, index)
    for phone in _objects(record, obj, "phones", where):
        _phone(record, phone, location_id=location_id)
    for schedule in _objects(record, obj, "schedules", where):
        _schedule(record, schedule, location_id=location_id)
    return location_id


def _language(record: MappedRecord, obj: dict[str, Any], service_id: str) -> None:
    code, name = text(obj, "code"), text(obj, "name")
    local: dict[str, Any] = {}
    if not code:
        known = language_for(name)
        if known:
            code = local["code"] = known[1]
    language_id = hsds_id(obj, service_id, "language", str(code or name))
    if code and not _LANGUAGE_CODE.match(code):
        record.warn(f"language {language_id}: code {code!r} is not an ISO 639 code; dropped")
        local["code"] = code = ""
    row = {"id": language_id, "service_id": service_id, "name": name, "code": code or ""}
    row["note"] = text(obj, "note")
    if not row["code"]:
        local["code"] = ""
    _check_lengths(record, "language", row)
    _finish(record, "language", row, obj, LEAF_CONSUMED, local)


def _service_area(
    record: MappedRecord,
    obj: dict[str, Any],
    service_id: str,
    unmatched: list[dict[str, Any]],
    state: str | None = None,
) -> None:
    """A service area carenet can match goes to ``service_area`` (one named in words, e.g.
    "San Mateo County", as its ZIP codes); any other is kept as given in the service's
    ``hsds_extra`` (exported again, never matched) with a warning."""
    area_id = hsds_id(obj, service_id, "service_area", str(obj.get("extent")))
    where = f"service area {area_id}"
    try:
        area = read_extent(obj.get("extent"), obj.get("extent_type"), where)
        if area is None:
            area = named_extent(obj, state)
        if area is not None and area["kind"] == "county":
            area["postcodes"] = county_postcodes(area["county"], area["state"])
            if not area["postcodes"]:
                raise RecordRejected(
                    f"{where}: no ZIP codes known for {area['county']}, {area['state']}"
                )
    except RecordRejected as exc:
        record.warn(f"{exc}; kept as given, not used for matching")
        area = None
    if area is None:
        if not any(a.get("id") == obj.get("id") for a in unmatched if obj.get("id")):
            record.warn(f"{where}: its extent is not one carenet can match; kept as given")
            unmatched.append(dict(obj, id=area_id))
        return
    postcodes = area.pop("postcodes", None)
    row = {
        "id": area_id,
        "service_id": service_id,
        "name": text(obj, "name"),
        "description": text(obj, "description"),
        "extent": str(obj.get("extent")).strip(),
        "county": None,
        "state": None,
        "center_latitude": None,
        "center_longitude": None,
        "radius_mi": None,
        "geom": None,
        **area,
    }
    _check_lengths(record, "service_area", row)
    usual_type = "geojson" if row["kind"] in {"polygon", "radius"} else "text"
    consumed = AREA_CONSUMED | ({"extent_type"} if obj.get("extent_type") == usual_type else set())
    if _finish(record, "service_area", row, obj, consumed, {}):
        record.area_postcodes.update((area_id, code) for code in postcodes or ())


AREA_CONSUMED = frozenset({"id", "service_id", "kind", "geom"})


def _service_row(
    record: MappedRecord, obj: dict[str, Any], organization_id: str, where: str
) -> tuple[dict[str, Any], dict[str, Any], AttributeValues]:
    values = read_attributes(obj.get("attributes"), "service", record.warnings)
    store_attribute_terms(record, obj.get("attributes"))
    props = values.properties
    minimum_age, maximum_age = _ages(record, obj, where)
    assured = _attempt(record, as_date, obj.get("assured_date"), "assured_date")
    status = _attempt(
        record, choice, text(obj, "status"), models.SERVICE_STATUSES, "active", "status"
    )
    capacity = _attempt(
        record,
        choice,
        props.get("capacity_status") or None,
        models.CAPACITY_STATUSES,
        models.HAS_CAPACITY,
        "capacity status",
    )
    row = {
        "id": hsds_id(obj),
        "organization_id": organization_id,
        **{k: text(obj, k) for k in ("name", "alternate_name", "description", "url", "email")},
        "status": status or "active",
        **{k: text(obj, k) for k in ("interpretation_services", "application_process")},
        "fees_description": text(obj, "fees_description"),
        "eligibility_description": text(obj, "eligibility_description"),
        "minimum_age": minimum_age,
        "maximum_age": maximum_age,
        "capacity_status": capacity or models.HAS_CAPACITY,
        "free": _flag(record, props, "free"),
        "confidential": _flag(record, props, "confidential"),
        "last_verified_at": datetime.combine(assured, time(0), tzinfo=UTC) if assured else None,
        "last_verified_by": text(obj, "assurer_email"),
    }
    local: dict[str, Any] = {}
    if not row["fees_description"] and text(obj, "fees"):
        row["fees_description"] = local["fees_description"] = text(obj, "fees")
    if not text(obj, "status") or status is None:
        record.status_defaulted.append(str(row["id"]))  # one warning per import (importer)
    if not props.get("capacity_status") or capacity is None:
        local["capacity_status"] = row["capacity_status"]
    local.update({k: row[k] for k in ("free", "confidential") if not props.get(k)})
    if values.derived:
        local["categories"] = sorted(values.derived)
    return row, local, values


def _flag(record: MappedRecord, props: dict[str, str], name: str) -> bool:
    if not props.get(name):
        return False
    value = _attempt(record, parse_bool, props[name], name)
    return bool(value)


def _service(
    record: MappedRecord, obj: dict[str, Any], organization_id: str | None, defaults: Defaults
) -> None:
    service_id = hsds_id(obj)
    where = f"service {service_id}"
    if not text(obj, "name"):
        raise RecordRejected("name is missing")
    organization_id = _service_organization(record, obj, organization_id)
    row, local, values = _service_row(record, obj, organization_id, where)
    _check_lengths(record, "service", row)
    unmatched: list[dict[str, Any]] = []
    state = service_state(obj)
    for area in _objects(record, obj, "service_areas", where):
        _service_area(record, area, service_id, unmatched, state)
    consumed = SERVICE_CONSUMED - ({"organization_id"} if text(obj, "organization_id") else set())
    extra = dict(obj)
    if unmatched:
        extra["service_areas"] = unmatched
        consumed = consumed - {"service_areas"}
    if not _finish(record, "service", row, extra, consumed, local):
        raise RecordRejected(f"{where} appears twice in the record")
    slugs = set(values.categories) | set(values.derived)
    record.categories.update((service_id, f"carenet-categories:{s}") for s in slugs)
    for phone in _objects(record, obj, "phones", where):
        _phone(record, phone, service_id=service_id)
    for schedule in _objects(record, obj, "schedules", where):
        _schedule(record, schedule, service_id=service_id)
    for language in _objects(record, obj, "languages", where):
        _language(record, language, service_id)
    for sal in _objects(record, obj, "service_at_locations", where):
        _service_at_location(record, sal, service_id, organization_id, defaults)


def _service_organization(
    record: MappedRecord, obj: dict[str, Any], organization_id: str | None
) -> str:
    """The id of a service's organization: its embedded ``organization`` (mapped here),
    else the one it is listed under, else its ``organization_id``."""
    if isinstance(obj.get("organization"), dict):
        organization_id = _organization(record, obj["organization"])
    organization_id = organization_id or text(obj, "organization_id")
    if not organization_id:
        raise RecordRejected("organization is missing (give organization or organization_id)")
    if organization_id not in record.rows["organization"]:
        record.needs_organizations.add(organization_id)
    return organization_id


def _ages(record: MappedRecord, obj: dict[str, Any], where: str) -> tuple[int | None, int | None]:
    """A service's minimum and maximum age: not negative, the minimum not above the maximum
    (a problem drops the ages with a warning)."""
    minimum_age = _attempt(record, whole, obj, "minimum_age", where)
    maximum_age = _attempt(record, whole, obj, "maximum_age", where)
    if minimum_age is not None and minimum_age < 0:
        record.warn(f"{where}: minimum_age {minimum_age} is negative; dropped")
        minimum_age = None
    if minimum_age is not None and maximum_age is not None and minimum_age > maximum_age:
        record.warn(
            f"{where}: minimum_age {minimum_age} is greater than maximum_age {maximum_age};"
            " both dropped"
        )
        return None, None
    return minimum_age, maximum_age


def _service_at_location(
    record: MappedRecord,
    sal: dict[str, Any],
    service_id: str,
    organization_id: str | None,
    defaults: Defaults,
) -> None:
    """One ``service_at_locations`` entry: its location (embedded, or only referred to by
    ``location_id``), the link row, and the phones and schedules of the service there."""
    location = sal.get("location")
    if isinstance(location, dict):
        location_id = _location(record, location, organization_id, defaults)
    else:
        location_id = text(sal, "location_id") or ""
        if not location_id:
            record.warn(f"service {service_id}: service_at_location without location; dropped")
            return
        record.needs_locations.add(location_id)
    sal_id = hsds_id(sal, service_id, "service_at_location", location_id)
    if any(
        r["location_id"] == location_id and r["service_id"] == service_id
        for r in record.rows["service_at_location"].values()
    ):
        record.warn(f"service_at_location {sal_id}: service already at {location_id}; dropped")
        return
    row: dict[str, Any] = {"id": sal_id, "service_id": service_id, "location_id": location_id}
    row["description"] = text(sal, "description")
    _finish(record, "service_at_location", row, sal, SAL_CONSUMED, {})
    for phone in _objects(record, sal, "phones", f"service_at_location {sal_id}"):
        _phone(record, phone, service_id=service_id, location_id=location_id)
    for schedule in _objects(record, sal, "schedules", f"service_at_location {sal_id}"):
        _schedule(record, schedule, service_id=service_id, location_id=location_id)


def map_record(obj: Any, defaults: Defaults) -> MappedRecord:
    """Validate one HSDS object (service, organization, location, service_at_location)
    and map it to table rows."""
    if not isinstance(obj, dict):
        raise RecordRejected("record is not a JSON object")
    kind = record_kind(obj)
    record = MappedRecord(kind=kind, id=hsds_id(obj) if kind != "not-a-record" else "")
    record.warnings.extend(obj.pop("_warnings", None) or [])
    if kind == "organization":
        organization_id = _organization(record, obj)
        for location in _objects(record, obj, "locations", f"organization {organization_id}"):
            _location(record, location, organization_id, defaults)
        for service in _objects(record, obj, "services", f"organization {organization_id}"):
            _service(record, service, organization_id, defaults)
    elif kind == "location":
        _location(record, obj, None, defaults)
    elif kind == "service_at_location":
        _top_service_at_location(record, obj, defaults)
    elif kind == "service":
        _service(record, obj, None, defaults)
    elif kind == "taxonomy":
        _taxonomy(record, obj)
    elif kind == "taxonomy_term":
        _taxonomy_term(record, obj)
    else:
        record.warn("not an HSDS record (a base.json or API root document); skipped")
    record.needs_organizations -= set(record.rows["organization"])
    record.needs_locations -= set(record.rows["location"])
    record.needs_taxonomies -= set(record.rows["taxonomy"])
    return record


def _top_service_at_location(record: MappedRecord, obj: dict[str, Any], defaults: Defaults) -> None:
    """A service_at_location object on its own: with its ``service`` embedded, mapped as
    that service at this location; else it links ``service_id`` (in the database)."""
    link = {k: v for k, v in obj.items() if k != "service"}
    service = obj.get("service")
    if isinstance(service, dict):
        _service(record, dict(service, service_at_locations=[link]), None, defaults)
        return
    service_id = text(obj, "service_id")
    if not service_id:
        raise RecordRejected("service_at_location: service is missing (give service or service_id)")
    record.needs_services.add(service_id)
    _service_at_location(record, link, service_id, None, defaults)


_SERVICE_KEYS = {"organization", "organization_id", "service_at_locations", "status", "schedules"}
_ORGANIZATION_KEYS = {"services", "locations", "website", "year_incorporated", "tax_status"}
_LOCATION_KEYS = {"location_type", "addresses", "latitude", "longitude", "transportation"}
_NOT_LOCATION_KEYS = {"status", "service_at_locations", "organization", "services", "locations"}


def record_kind(obj: dict[str, Any]) -> str:
    """What a top-level object is: organization, service, location, service_at_location,
    or not-a-record (e.g. the API root ``{"version": ..., "openapi_url": ...}``)."""
    declared = obj.get("hsds_type")
    if declared in {"organization", "service", "location", "service_at_location", "taxonomy"}:
        return str(declared)
    keys = obj.keys()
    if "openapi_url" in obj or ("version" in obj and "id" not in obj):
        return "not-a-record"
    if any(str(key).endswith(".csv") for key in keys):
        return "not-a-record"  # the official tabular.json (CSV rows as JSON)
    if "taxonomy_detail" in obj or "term_uri" in obj or "taxonomy_id" in obj:
        return "taxonomy_term"
    if keys <= {"id", "name", "description", "uri", "version", "metadata"}:
        return "taxonomy"  # a service has a status (required), a taxonomy has none of these
    if "location" in obj or "service" in obj:
        return "service_at_location"
    if {"service_id", "location_id"} <= keys and "name" not in obj:
        return "service_at_location"  # a link between two objects imported before
    if _LOCATION_KEYS & keys and not _NOT_LOCATION_KEYS & keys:
        return "location"
    if not _SERVICE_KEYS & keys and _ORGANIZATION_KEYS & keys:
        return "organization"
    return "service"


def _taxonomy(record: MappedRecord, obj: dict[str, Any]) -> str | None:
    """A taxonomy object, stored as given (a carenet taxonomy is carenet's own: skipped)."""
    taxonomy_id = carenet_term_id(text(obj, "id") or "")
    if not taxonomy_id or taxonomy_id in {TAXONOMY_ID, PROPERTY_TAXONOMY_ID}:
        return taxonomy_id or None
    if not text(obj, "name"):
        record.warn(f"taxonomy {taxonomy_id}: name is missing; not stored")
        return None
    row = {"id": taxonomy_id, "name": text(obj, "name"), "description": text(obj, "description")}
    row.update(uri=text(obj, "uri"), version=text(obj, "version"))
    _check_lengths(record, "taxonomy", row)
    _finish(record, "taxonomy", row, obj, LEAF_CONSUMED, {})
    return taxonomy_id


def _taxonomy_term(record: MappedRecord, obj: dict[str, Any]) -> None:
    """A taxonomy term of any vocabulary, stored as given under its taxonomy (from
    ``taxonomy_detail``, else ``taxonomy_id`` naming one known). carenet's own terms are
    not stored again."""
    term_id = carenet_term_id(text(obj, "id") or "")
    if not term_id or term_id.startswith((f"{TAXONOMY_ID}:", f"{PROPERTY_TAXONOMY_ID}:")):
        return
    detail = obj.get("taxonomy_detail")
    taxonomy_id = _taxonomy(record, detail) if isinstance(detail, dict) else None
    taxonomy_id = taxonomy_id or text(obj, "taxonomy_id")
    if not taxonomy_id or not text(obj, "name"):
        record.warn(f"taxonomy term {term_id}: no taxonomy id or name; not stored")
        return
    if taxonomy_id not in record.rows["taxonomy"]:
        record.needs_taxonomies.add(taxonomy_id)
    local = {} if text(obj, "code") else {"code": term_id}
    row = {
        "id": term_id,
        "taxonomy_id": taxonomy_id,  # parent_id: kept as given in hsds_extra
        "code": text(obj, "code") or term_id,
        "name": text(obj, "name"),
        "description": text(obj, "description"),
        "term_uri": text(obj, "term_uri"),
        "sdoh_code": None,
        "delivered": False,
    }
    _check_lengths(record, "taxonomy_term", row)
    _finish(record, "taxonomy_term", row, obj, LEAF_CONSUMED, local)


def store_attribute_terms(record: MappedRecord, attributes: Any) -> None:
    """The taxonomy terms (and taxonomies) attributes of another vocabulary carry."""
    for attribute in attributes if isinstance(attributes, list) else []:
        term = attribute.get("taxonomy_term") if isinstance(attribute, dict) else None
        if isinstance(term, dict) and text(term, "id") not in record.rows["taxonomy_term"]:
            _taxonomy_term(record, term)
