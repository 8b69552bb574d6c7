"""HSDS 3.0 objects -> rows of carenet's directory tables, with validation.

``map_record`` turns one compiled service or organization object into a
``MappedRecord`` (rows per table) or raises ``RecordRejected`` with the reason.
It touches no database, so a rejected record can never be half-written.
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
    RecordRejected,
    parse_bool,
    read_attributes,
    read_extent,
)
from carenet.directory.hsds.fields import (
    as_date,
    as_time,
    choice,
    county_postcodes,
    hsds_id,
    number,
    object_list,
    postcode_facts,
    text,
    whole,
)
from carenet.directory.hsds.legacy import language_for

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
    warnings: list[str] = field(default_factory=list)

    def add(self, table: str, row: dict[str, Any]) -> bool:
        """Add a row unless one with the same id is already there (first one wins)."""
        if row["id"] in self.rows[table]:
            return False
        _check_lengths(table, row)
        self.rows[table][row["id"]] = row
        return True


@dataclass
class Defaults:
    timezone: str = "America/New_York"


def _check_lengths(table: str, row: dict[str, Any]) -> None:
    for column in TABLES[table].columns:
        value = row.get(column.name)
        length = getattr(column.type, "length", None)
        if isinstance(column.type, String) and length and isinstance(value, str):
            if len(value) > length:
                raise RecordRejected(
                    f"{table} {row['id']}: {column.name} is longer than {length} characters"
                )


def _organization(record: MappedRecord, obj: dict[str, Any]) -> str:
    if not text(obj, "id"):
        raise RecordRejected("organization: id is missing")
    org_id = hsds_id(obj)
    where = f"organization {org_id}"
    if not text(obj, "name"):
        raise RecordRejected(f"{where}: name is missing")
    props = read_attributes(obj.get("attributes"), "organization").properties
    row = {
        "id": org_id,
        **{k: text(obj, k) for k in ("name", "alternate_name", "description", "email")},
        **{k: text(obj, k) for k in ("tax_status", "tax_id", "legal_status")},
        "website": text(obj, "website") or text(obj, "url"),
        "year_incorporated": whole(obj, "year_incorporated", where),
        "kind": choice(props.get("kind"), models.ORGANIZATION_KINDS, "community", "kind"),
    }
    if record.add("organization", row):
        for phone in object_list(obj, "phones"):
            _phone(record, phone, organization_id=org_id)
    return org_id


def _phone(record: MappedRecord, obj: dict[str, Any], **owner: str | None) -> None:
    owner_key = ":".join(str(v) for v in owner.values())
    phone_id = hsds_id(obj, owner_key, "phone", str(obj.get("number")))
    phone_number = text(obj, "number")
    if not phone_number:
        raise RecordRejected(f"phone {phone_id}: number is missing")
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
    record.add("phone", row)


def _schedule(record: MappedRecord, obj: dict[str, Any], **owner: str | None) -> None:
    owner_key = ":".join(str(v) for v in owner.values())
    schedule_id = hsds_id(obj, owner_key, "schedule", str(sorted(obj.items())))
    where = f"schedule {schedule_id}"
    byday = text(obj, "byday")
    if byday:
        days = [d.strip().upper() for d in byday.split(",") if d.strip()]
        if not all(_BYDAY.match(d) for d in days):
            raise RecordRejected(f"{where}: byday '{byday}' is not a list of MO..SU")
        byday = ",".join(days)
    interval = whole(obj, "interval", where)
    if interval is not None and interval < 1:
        raise RecordRejected(f"{where}: interval must be 1 or more")
    row: dict[str, Any] = {
        "id": schedule_id,
        "service_id": owner.get("service_id"),
        "location_id": owner.get("location_id"),
        "freq": choice(text(obj, "freq"), models.SCHEDULE_FREQS, "WEEKLY", "schedule freq"),
        "interval": 1 if interval is None else interval,
        "byday": byday,
        "bymonthday": text(obj, "bymonthday"),
        "opens_at": as_time(obj.get("opens_at"), f"{where}: opens_at"),
        "closes_at": as_time(obj.get("closes_at"), f"{where}: closes_at"),
        "valid_from": as_date(obj.get("valid_from"), f"{where}: valid_from"),
        "valid_to": as_date(obj.get("valid_to"), f"{where}: valid_to"),
        "description": text(obj, "description"),
    }
    record.add("schedule", row)


def _address(record: MappedRecord, obj: dict[str, Any], location_id: str, index: int) -> None:
    address_id = hsds_id(obj, location_id, "address", str(index))
    where = f"address {address_id}"
    row: dict[str, Any] = {"id": address_id, "location_id": location_id}
    for key in ("address_1", "city", "state_province", "postal_code"):
        row[key] = text(obj, key)
        if not row[key]:
            raise RecordRejected(f"{where}: {key} is missing")
    for key in ("attention", "address_2", "region"):
        row[key] = text(obj, key)
    row["country"] = (text(obj, "country") or "US").upper()
    row["address_type"] = choice(
        text(obj, "address_type"), models.ADDRESS_TYPES, "physical", "address_type"
    )
    record.add("address", row)


def _coordinates(obj: dict[str, Any], where: str) -> tuple[float | None, float | None]:
    """A location's own latitude and longitude: both in range, or both None."""
    latitude = number(obj, "latitude", where)
    longitude = number(obj, "longitude", where)
    if latitude is not None and not -90 <= latitude <= 90:
        raise RecordRejected(f"{where}: latitude {obj['latitude']} is outside -90..90")
    if longitude is not None and not -180 <= longitude <= 180:
        raise RecordRejected(f"{where}: longitude {obj['longitude']} is outside -180..180")
    if (latitude is None) != (longitude is None):
        raise RecordRejected(f"{where}: give both latitude and longitude, or neither")
    return latitude, longitude


def _known_zone(zone: str, where: str) -> str:
    """``zone`` if it is an IANA time zone this machine knows."""
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise RecordRejected(f"{where}: unknown time zone '{zone}'") from None
    return zone


def _location(
    record: MappedRecord, obj: dict[str, Any], organization_id: str | None, defaults: Defaults
) -> str:
    if not text(obj, "id"):
        raise RecordRejected("location: id is missing")
    location_id = hsds_id(obj)
    where = f"location {location_id}"
    if location_id in record.rows["location"]:
        return location_id
    latitude, longitude = _coordinates(obj, where)
    props = read_attributes(obj.get("attributes"), "location").properties
    addresses = object_list(obj, "addresses")
    for index, address in enumerate(addresses):
        _address(record, address, location_id, index)
    postcode = next(
        (a.get("postal_code") for a in addresses if a.get("address_type") != "postal"),
        addresses[0].get("postal_code") if addresses else None,
    )
    zip5 = str(postcode or "").strip()[:5]
    zip_lat, zip_lon, zip_zone = postcode_facts(zip5) if zip5.isdigit() else (None, None, None)
    method = props.get("geocode_method") or None
    if latitude is None and zip_lat is not None:
        latitude, longitude, method = zip_lat, zip_lon, "postcode"
    elif latitude is not None and method is None:
        method = "source"
    zone = _known_zone(props.get("timezone") or zip_zone or defaults.timezone, where)
    row = {
        "id": location_id,
        "organization_id": text(obj, "organization_id") or organization_id,
        "location_type": choice(
            text(obj, "location_type"), models.LOCATION_TYPES, "physical", "location_type"
        ),
        **{k: text(obj, k) for k in ("url", "name", "alternate_name", "description")},
        "transportation": text(obj, "transportation"),
        "latitude": latitude,
        "longitude": longitude,
        "geocode_method": method if latitude is not None else None,
        "timezone": zone,
        "geom": point_wkt(longitude, latitude)
        if latitude is not None and longitude is not None
        else None,
    }
    location_org = row["organization_id"]
    if isinstance(location_org, str) and location_org not in record.rows["organization"]:
        record.needs_organizations.add(location_org)
    record.add("location", row)
    for phone in object_list(obj, "phones"):
        _phone(record, phone, location_id=location_id)
    for schedule in object_list(obj, "schedules"):
        _schedule(record, schedule, location_id=location_id)
    return location_id


def _language(record: MappedRecord, obj: dict[str, Any], service_id: str) -> None:
    code, name = text(obj, "code"), text(obj, "name")
    if not code:
        known = language_for(name)
        code = known[1] if known else None
    language_id = hsds_id(obj, service_id, "language", str(code or name))
    if not code or not _LANGUAGE_CODE.match(code):
        raise RecordRejected(f"language {language_id}: code {code!r} is not an ISO 639 code")
    row = {"id": language_id, "service_id": service_id, "name": name, "code": code}
    row["note"] = text(obj, "note")
    record.add("language", row)


def _service_area(record: MappedRecord, obj: dict[str, Any], service_id: str) -> None:
    area_id = hsds_id(obj, service_id, "service_area", str(obj.get("extent")))
    where = f"service area {area_id}"
    area = read_extent(obj.get("extent"), obj.get("extent_type"), where)
    if area is None:
        record.warnings.append(f"{where} ignored: its extent is not one carenet can match")
        return
    postcodes = area.pop("postcodes", None)
    if area["kind"] == "county":
        postcodes = county_postcodes(area["county"], area["state"])
        if not postcodes:
            raise RecordRejected(
                f"{where}: no ZIP codes known for {area['county']}, {area['state']}"
            )
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
    if record.add("service_area", row):
        record.area_postcodes.update((area_id, code) for code in postcodes or ())


def _service(
    record: MappedRecord, obj: dict[str, Any], organization_id: str | None, defaults: Defaults
) -> None:
    service_id = hsds_id(obj)
    where = f"service {service_id}"
    if not text(obj, "name"):
        raise RecordRejected("name is missing")
    organization_id = _service_organization(record, obj, organization_id)
    values = read_attributes(obj.get("attributes"), "service")
    props = values.properties
    minimum_age, maximum_age = _ages(obj, where)
    assured = as_date(obj.get("assured_date"), "assured_date")
    row = {
        "id": service_id,
        "organization_id": organization_id,
        **{k: text(obj, k) for k in ("name", "alternate_name", "description", "url", "email")},
        "status": choice(text(obj, "status"), models.SERVICE_STATUSES, "active", "status"),
        **{k: text(obj, k) for k in ("interpretation_services", "application_process")},
        "fees_description": text(obj, "fees_description") or text(obj, "fees"),
        "eligibility_description": text(obj, "eligibility_description"),
        "minimum_age": minimum_age,
        "maximum_age": maximum_age,
        "capacity_status": choice(
            props.get("capacity_status") or None,
            models.CAPACITY_STATUSES,
            "capacity",
            "capacity status",
        ),
        "free": parse_bool(props["free"], "free") if props.get("free") else False,
        "confidential": parse_bool(props["confidential"], "confidential")
        if props.get("confidential")
        else False,
        "last_verified_at": datetime.combine(assured, time(0), tzinfo=UTC) if assured else None,
        "last_verified_by": text(obj, "assurer_email"),
    }
    if not record.add("service", row):
        raise RecordRejected(f"{where} appears twice in the record")
    record.categories.update((service_id, f"carenet-categories:{s}") for s in values.categories)
    for phone in object_list(obj, "phones"):
        _phone(record, phone, service_id=service_id)
    for schedule in object_list(obj, "schedules"):
        _schedule(record, schedule, service_id=service_id)
    for language in object_list(obj, "languages"):
        _language(record, language, service_id)
    for area in object_list(obj, "service_areas"):
        _service_area(record, area, service_id)
    for sal in object_list(obj, "service_at_locations"):
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


def _ages(obj: dict[str, Any], where: str) -> tuple[int | None, int | None]:
    """A service's minimum and maximum age: not negative, the minimum not above the maximum."""
    minimum_age, maximum_age = whole(obj, "minimum_age", where), whole(obj, "maximum_age", where)
    if minimum_age is not None and minimum_age < 0:
        raise RecordRejected(f"minimum_age {minimum_age} is negative")
    if minimum_age is not None and maximum_age is not None and minimum_age > maximum_age:
        raise RecordRejected(f"minimum_age {minimum_age} is greater than maximum_age {maximum_age}")
    return minimum_age, maximum_age


def _service_at_location(
    record: MappedRecord,
    sal: dict[str, Any],
    service_id: str,
    organization_id: str,
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
            raise RecordRejected(f"service {service_id}: service_at_location without location")
        record.needs_locations.add(location_id)
    sal_id = hsds_id(sal, service_id, "service_at_location", location_id)
    row: dict[str, Any] = {"id": sal_id, "service_id": service_id, "location_id": location_id}
    row["description"] = text(sal, "description")
    record.add("service_at_location", row)
    for phone in object_list(sal, "phones"):
        _phone(record, phone, service_id=service_id, location_id=location_id)
    for schedule in object_list(sal, "schedules"):
        _schedule(record, schedule, service_id=service_id, location_id=location_id)


def map_record(obj: Any, defaults: Defaults) -> MappedRecord:
    """Validate one HSDS service or organization object and map it to table rows."""
    if not isinstance(obj, dict):
        raise RecordRejected("record is not a JSON object")
    kind = "organization" if _looks_like_organization(obj) else "service"
    record = MappedRecord(kind=kind, id=hsds_id(obj))
    record.warnings.extend(obj.pop("_warnings", None) or [])
    if kind == "organization":
        organization_id = _organization(record, obj)
        for location in object_list(obj, "locations"):
            _location(record, location, organization_id, defaults)
        for service in object_list(obj, "services"):
            _service(record, service, organization_id, defaults)
    else:
        _service(record, obj, None, defaults)
    record.needs_organizations -= set(record.rows["organization"])
    record.needs_locations -= set(record.rows["location"])
    return record


_SERVICE_KEYS = {"organization", "organization_id", "service_at_locations", "status", "schedules"}
_ORGANIZATION_KEYS = {"services", "locations", "website", "year_incorporated", "tax_status"}


def _looks_like_organization(obj: dict[str, Any]) -> bool:
    if obj.get("hsds_type") in {"organization", "service"}:
        return bool(obj["hsds_type"] == "organization")
    return not _SERVICE_KEYS & obj.keys() and bool(_ORGANIZATION_KEYS & obj.keys())
