"""Tabular data packages (a folder of CSVs) -> compiled HSDS 3.0 service objects.

Two shapes are read: HSDS 3.0 tabular (``addresses.csv``, ``schedules.csv``,
``attributes.csv``...) and the older HSDS 1.x/2.x tabular shape of 211 exports
such as Open211 Miami (``physical_addresses.csv``, ``regular_schedules.csv``,
``services_taxonomy.csv`` with AIRS codes). Child tables are grouped in memory
by their parent id, then one service object is yielded at a time.
1.x ids are not UUIDs, so they become stable UUIDs derived from the source id.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from collections.abc import Iterator
from datetime import time
from pathlib import Path
from typing import Any

from carenet.directory.hsds.conventions import derived_id
from carenet.directory.hsds.legacy import (
    clean_country,
    clean_postcode,
    clean_state,
    language_for,
    parse_clock,
    parse_hours_text,
    parse_weekday,
    repair_text,
)
from carenet.directory.hsds.sources import Source, SourceItem
from carenet.directory.hsds.tabular_more import LegacyExtras

csv.field_size_limit(1 << 24)


def _rows(folder: Path, name: str) -> list[dict[str, str]]:
    path = folder / name
    if not path.exists():
        return []
    with path.open(newline="", encoding="utf-8-sig") as handle:
        return [
            {k: (v or "").strip() for k, v in row.items() if k} for row in csv.DictReader(handle)
        ]


def _group(rows: list[dict[str, str]], key: str) -> dict[str, list[dict[str, str]]]:
    grouped: dict[str, list[dict[str, str]]] = defaultdict(list)
    for row in rows:
        if row.get(key):
            grouped[row[key]].append(row)
    return grouped


def _numbered_services(folder: Path) -> list[tuple[int, dict[str, str]]]:
    path = folder / "services.csv"
    if not path.exists():
        return []
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        return [
            (reader.line_num, {k: (v or "").strip() for k, v in r.items() if k}) for r in reader
        ]


def read_tabular(folder: Path) -> Source:
    """Records of a tabular package, 1.x or 3.0 shape, one service at a time."""
    legacy = (folder / "physical_addresses.csv").exists() or (
        folder / "regular_schedules.csv"
    ).exists()
    try:
        services = _numbered_services(folder)
        build: _Legacy | _Tabular3 = _Legacy(folder) if legacy else _Tabular3(folder)
    except (UnicodeDecodeError, csv.Error, OSError) as exc:
        reason = f"cannot read the CSV files: {exc}"
        return Source(total=1, items=iter([SourceItem(folder.name, "line 1", error=reason)]))
    return Source(total=len(services) + build.extra_items, items=build.items(services))


def _at(rows: list[dict[str, str]], location_id: str | None) -> list[dict[str, str]]:
    """The rows (phones, schedules) of a service at one location."""
    return [r for r in rows if location_id and r.get("location_id") == location_id]


def _clean(row: dict[str, str], *keys: str) -> dict[str, Any]:
    return {k: repair_text(row[k]) for k in keys if row.get(k)}


class _Tabular3:
    """HSDS 3.0 tabular: same fields as the JSON, children linked by *_id columns."""

    extra_items = 0  # records besides the services

    def __init__(self, folder: Path) -> None:
        self.organizations = {r["id"]: r for r in _rows(folder, "organizations.csv")}
        self.locations = {r["id"]: r for r in _rows(folder, "locations.csv")}
        sal_file = "service_at_location.csv"
        if not (folder / sal_file).exists():  # the Open Referral 1.1 sample's name
            sal_file = "services_at_location.csv"
        self.sal = _group(_rows(folder, sal_file), "service_id")
        self.addresses = _group(_rows(folder, "addresses.csv"), "location_id")
        phones = _rows(folder, "phones.csv")
        self.phones = {
            key: _group([p for p in phones if p.get(key)], key)
            for key in ("service_id", "location_id", "organization_id")
        }
        schedules = _rows(folder, "schedules.csv")
        self.schedules = {
            key: _group([s for s in schedules if s.get(key)], key)
            for key in ("service_id", "location_id")
        }
        self.areas = _group(_rows(folder, "service_areas.csv"), "service_id")
        self.languages = _group(_rows(folder, "languages.csv"), "service_id")
        self.attributes = _group(_rows(folder, "attributes.csv"), "link_id")
        self.terms = {r["id"]: r for r in _rows(folder, "taxonomy_terms.csv")}

    def _attributes(self, link_id: str) -> list[dict[str, Any]]:
        out = []
        for row in self.attributes.get(link_id, []):
            attribute: dict[str, Any] = dict(row)
            term = self.terms.get(row.get("taxonomy_term_id", ""))
            if term:
                attribute["taxonomy_term"] = dict(term)
            out.append(attribute)
        return out

    def _location(self, location_id: str) -> dict[str, Any] | None:
        row = self.locations.get(location_id)
        if row is None:
            return None
        location: dict[str, Any] = dict(row)
        location["addresses"] = self.addresses.get(location_id, [])
        location["phones"] = [
            p for p in self.phones["location_id"].get(location_id, []) if not p.get("service_id")
        ]
        location["schedules"] = [
            s for s in self.schedules["location_id"].get(location_id, []) if not s.get("service_id")
        ]
        location["attributes"] = self._attributes(location_id)
        return location

    def items(self, services: list[tuple[int, dict[str, str]]]) -> Iterator[SourceItem]:
        for index, (line, row) in enumerate(services, start=1):
            service: dict[str, Any] = dict(row)
            service_id = row.get("id", "")
            org = self.organizations.get(row.get("organization_id", ""))
            if org:
                organization: dict[str, Any] = dict(org)
                organization["phones"] = self.phones["organization_id"].get(org["id"], [])
                organization["attributes"] = self._attributes(org["id"])
                service["organization"] = organization
            phones = self.phones["service_id"].get(service_id, [])
            schedules = self.schedules["service_id"].get(service_id, [])
            service["phones"] = [p for p in phones if not p.get("location_id")]
            service["schedules"] = [s for s in schedules if not s.get("location_id")]
            service["service_areas"] = self.areas.get(service_id, [])
            service["languages"] = self.languages.get(service_id, [])
            service["attributes"] = self._attributes(service_id)
            service["service_at_locations"] = [
                {
                    **sal,
                    "location": self._location(sal.get("location_id", "")),
                    "phones": _at(phones, sal.get("location_id")),
                    "schedules": _at(schedules, sal.get("location_id")),
                }
                for sal in self.sal.get(service_id, [])
            ]
            yield SourceItem("services.csv", f"line {line}", obj=service, done=index)


AIRS_TAXONOMY = {
    "id": derived_id("hsds1", "taxonomy", "AIRS"),
    "name": "AIRS",
    "description": "AIRS/211 taxonomy codes (carenet keeps the codes, not the term names)",
}


def airs_attribute(service_id: str, code: str) -> dict[str, Any]:
    """A service's AIRS/211 code as an attribute of the AIRS vocabulary (the code only:
    AIRS term names are proprietary); carenet's categories are derived from it."""
    term_id = derived_id("hsds1", "airs", code)
    return {
        "id": derived_id("hsds1", "attribute", service_id, term_id),
        "link_id": service_id,
        "link_type": "service",
        "taxonomy_term_id": term_id,
        "taxonomy_term": {
            "id": term_id,
            "code": code,
            "name": code,
            "description": "",
            "taxonomy": "AIRS",
            "taxonomy_detail": AIRS_TAXONOMY,
        },
    }


def _weekly(
    service_id: str,
    days: list[str],
    opens_at: time | None,
    closes_at: time | None,
    description: str | None,
    id_parts: tuple[str, ...],
) -> dict[str, Any]:
    schedule: dict[str, Any] = {"freq": "WEEKLY", "byday": ",".join(dict.fromkeys(days))}
    schedule["id"] = derived_id("hsds1", "schedule", service_id, *id_parts)
    if opens_at and closes_at:
        schedule["opens_at"], schedule["closes_at"] = str(opens_at), str(closes_at)
    if description:
        schedule["description"] = description
    return schedule


class _Legacy:
    """HSDS 1.x tabular as exported by 211s (Open211 Miami), cleaned on the way in."""

    def __init__(self, folder: Path) -> None:
        self.organizations = {r["id"]: r for r in _rows(folder, "organizations.csv")}
        self.locations = {r["id"]: r for r in _rows(folder, "locations.csv")}
        self.addresses = _group(_rows(folder, "physical_addresses.csv"), "location_id")
        self.sal = _group(_rows(folder, "services_at_location.csv"), "service_id")
        self.phones = _group(_rows(folder, "phones.csv"), "service_id")
        self.schedules = _group(_rows(folder, "regular_schedules.csv"), "service_id")
        self.languages = _group(_rows(folder, "languages.csv"), "service_id")
        self.taxonomy = _group(_rows(folder, "services_taxonomy.csv"), "service_id")
        self.more = LegacyExtras(_rows, folder)
        self.terms = self.more.term_objects()  # 2.x: the whole vocabulary, after the services
        self.extra_items = len(self.terms)
        self.notes = [
            f"eligibility.csv: {self.more.unlinked_eligibility} rows have no service_id;"
            " they cannot be linked to a service and are not read"
        ][: 1 if self.more.unlinked_eligibility else 0]

    def _organization_id(self, value: str, warnings: list[str]) -> str:
        """The organization a service names: the first known of a comma list (2.x data
        such as the DC directory lists several), with a warning for the rest."""
        ids = [v.strip() for v in value.split(",") if v.strip()]
        known = [i for i in ids if i in self.organizations or i in self.locations]
        if len(ids) > 1:
            chosen = known[0] if known else ids[0]
            others = ", ".join(i for i in ids if i != chosen)
            warnings.append(f"organization_id lists {len(ids)} ids: {chosen} taken, {others} not")
            return chosen
        return ids[0] if ids else ""

    def _organization(self, org_id: str, warnings: list[str]) -> dict[str, Any] | None:
        row = self.organizations.get(org_id)
        if row is None and org_id in self.locations:
            # Some 211 exports point services at a site (a location id) whose organization
            # row is missing: the site's own name and description stand in for it.
            row = self.locations[org_id]
            warnings.append(
                f"organization {org_id} is not in organizations.csv: built from location {org_id}"
            )
        if row is None:
            return None
        org = {"id": derived_id("hsds1", "organization", org_id), "description": ""}
        org.update(_clean(row, "name", "alternate_name", "description", "email"))
        org.update(_clean(row, "tax_status", "tax_id", "year_incorporated", "legal_status"))
        if row.get("url"):
            org["website"] = row["url"]
        return org

    def _address(self, row: dict[str, str], warnings: list[str]) -> dict[str, Any] | None:
        address = _clean(row, "attention", "address_1", "address_2", "city", "region")
        address["id"] = derived_id("hsds1", "address", row.get("id") or row["location_id"])
        address["state_province"] = clean_state(row.get("state_province"))
        address["postal_code"] = clean_postcode(row.get("postal_code"))
        address["country"] = clean_country(row.get("country"))
        address["address_type"] = "physical"
        missing = [
            k for k in ("address_1", "city", "state_province", "postal_code") if not address.get(k)
        ]
        if missing:
            warnings.append(f"address {row.get('id')} dropped: {', '.join(missing)} missing")
            return None
        return address

    def _location(self, location_id: str, warnings: list[str]) -> dict[str, Any] | None:
        row = self.locations.get(location_id)
        if row is None:
            return None
        location: dict[str, Any] = {
            "id": derived_id("hsds1", "location", location_id),
            "location_type": "physical",
        }
        location.update(_clean(row, "name", "alternate_name", "description", "transportation"))
        if row.get("latitude") and row.get("longitude"):
            location["latitude"], location["longitude"] = row["latitude"], row["longitude"]
        if row.get("organization_id") in self.organizations:
            location["organization_id"] = derived_id(
                "hsds1", "organization", row["organization_id"]
            )
        addresses = [self._address(a, warnings) for a in self.addresses.get(location_id, [])]
        location["addresses"] = [a for a in addresses if a]
        access = self.more.for_location(location_id)
        if access:
            location["accessibility"] = access
        return location

    def _schedules(self, source_id: str, service_id: str) -> list[dict[str, Any]]:
        by_hours: dict[tuple[str, str, str], list[str]] = defaultdict(list)
        for row in self.schedules.get(source_id, []):
            day = parse_weekday(row.get("weekday"))
            if day:
                key = (
                    row.get("opens_at", ""),
                    row.get("closes_at", ""),
                    row.get("original_text", ""),
                )
                by_hours[key].append(day)
        schedules = []
        for (opens, closes, original), days in by_hours.items():
            opens_at, closes_at = parse_clock(opens), parse_clock(closes)
            description = repair_text(original) or None
            if not (opens_at and closes_at) and parse_hours_text(original):
                # no usable times in the columns: read them from the free text
                for text_days, text_opens, text_closes in parse_hours_text(original):
                    parts = (str(text_opens), str(text_closes), *text_days)
                    schedules.append(
                        _weekly(service_id, text_days, text_opens, text_closes, description, parts)
                    )
                continue
            parts = (opens, closes, *days)
            schedules.append(_weekly(service_id, days, opens_at, closes_at, description, parts))
        return schedules

    def _languages(self, source_id: str, service_id: str) -> tuple[list[dict[str, Any]], list[str]]:
        languages: dict[str, str] = {}
        notes: list[str] = []
        for row in self.languages.get(source_id, []):
            known = language_for(row.get("language"))
            if known:
                languages.setdefault(known[1], known[0])
            elif row.get("language"):
                notes.append(row["language"].replace("\\n", " "))
        out = [
            {"id": derived_id("hsds1", "language", service_id, code), "name": name, "code": code}
            for code, name in languages.items()
        ]
        return out, notes

    def items(self, services: list[tuple[int, dict[str, str]]]) -> Iterator[SourceItem]:
        for index, (line, row) in enumerate(services, start=1):
            source_id = row.get("id", "")
            service_id = derived_id("hsds1", "service", source_id)
            warnings: list[str] = []
            service: dict[str, Any] = {"id": service_id, "hsds_type": "service"}
            service.update(_clean(row, "name", "alternate_name", "description", "url", "email"))
            service.update(_clean(row, "status", "interpretation_services", "application_process"))
            if row.get("fees"):
                service["fees_description"] = row["fees"]
            org_id = self._organization_id(row.get("organization_id", ""), warnings)
            service["organization"] = self._organization(org_id, warnings)
            if service["organization"] is None and org_id:
                reason = f"organization {org_id} not found (organization_id in services.csv)"
                yield SourceItem(
                    "services.csv", f"line {line}", error=reason, source_id=source_id, done=index
                )
                continue
            service["phones"] = [
                {
                    "id": derived_id("hsds1", "phone", p.get("id") or p["number"]),
                    **_clean(p, "number", "extension", "type", "description"),
                }
                for p in self.phones.get(source_id, [])
                if p.get("number")
            ]
            service["schedules"] = self._schedules(source_id, service_id)
            service["languages"], notes = self._languages(source_id, service_id)
            if notes and not service.get("interpretation_services"):
                service["interpretation_services"] = "; ".join(dict.fromkeys(notes))
            codes = dict.fromkeys(
                t.get("taxonomy_id", "") for t in self.taxonomy.get(source_id, [])
            )
            service["attributes"] = [airs_attribute(service_id, c) for c in codes if c]
            more = self.more.for_service(source_id, service_id)
            service["schedules"] += more.pop("schedules", [])
            service["attributes"] += more.pop("attributes", [])
            service.update(more)
            sals = []
            for sal in self.sal.get(source_id, []):
                location = self._location(sal.get("location_id", ""), warnings)
                if location:
                    sal_id = derived_id("hsds1", "service_at_location", sal.get("id") or "")
                    sals.append({"id": sal_id, "location": location, **_clean(sal, "description")})
            service["service_at_locations"] = sals
            service["_warnings"] = warnings + self.notes
            self.notes = []
            yield SourceItem(
                "services.csv", f"line {line}", obj=service, source_id=source_id, done=index
            )
        for number, (source_id, term) in enumerate(self.terms, start=1):
            done = len(services) + number
            yield SourceItem(
                "taxonomy_terms.csv", f"row {number}", obj=term, source_id=source_id, done=done
            )
