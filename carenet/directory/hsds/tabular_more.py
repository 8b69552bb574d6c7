"""More of an HSDS 1.x/2.x tabular package: contacts, accessibility, 2.x schedules and
service attributes (Open211 Miami, the DC directory). Each reader turns CSV rows into
HSDS 3.0 objects (ids derived from the source ids, as for the rest of a 1.x package);
``tabular._Legacy`` attaches them to the services and locations it builds.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

from carenet.directory.hsds.conventions import derived_id
from carenet.directory.hsds.legacy import parse_clock, parse_day_range, repair_text


def _group(rows: list[dict[str, str]], key: str) -> dict[str, list[dict[str, str]]]:
    grouped: dict[str, list[dict[str, str]]] = defaultdict(list)
    for row in rows:
        if row.get(key):
            grouped[row[key]].append(row)
    return grouped


def contact(row: dict[str, str]) -> dict[str, Any] | None:
    """A contacts.csv row (Miami adds phone_areacode/phone_number/phone_extension)."""
    fields = {
        k: repair_text(row[k]) for k in ("name", "title", "department", "email") if row.get(k)
    }
    number = " ".join(p for p in (row.get("phone_areacode"), row.get("phone_number")) if p)
    if not fields and not number:
        return None
    out: dict[str, Any] = {"id": derived_id("hsds1", "contact", row.get("id") or str(fields))}
    out.update(fields)
    if number:
        phone: dict[str, Any] = {"id": derived_id("hsds1", "contact-phone", out["id"])}
        phone["number"] = number
        if (row.get("phone_extension") or "").isdigit():
            phone["extension"] = int(row["phone_extension"])
        out["phones"] = [phone]
    return out


def accessibility(row: dict[str, str]) -> dict[str, Any] | None:
    """An accessibility_for_disabilities.csv row as an HSDS 3.0 accessibility object."""
    out: dict[str, Any] = {}
    if row.get("accessibility"):
        out["description"] = repair_text(row["accessibility"])
    if row.get("details"):
        out["details"] = repair_text(row["details"])
    if not out:
        return None
    return {"id": derived_id("hsds1", "accessibility", row.get("id") or str(out)), **out}


def _clock(row: dict[str, str], *keys: str) -> str | None:
    for key in keys:
        parsed = parse_clock(row.get(key))
        if parsed is not None:
            return parsed.isoformat()
    return None


def schedule_2x(row: dict[str, str]) -> dict[str, Any] | None:
    """A 2.x schedules.csv row. The DC directory puts opening times in ``dtstart``/``until``
    or ``valid_from``/``valid_to`` and days in ``weekday`` or ``byday`` ("Monday - Friday",
    "saturday"): times found there become opens_at/closes_at, days byday; the row's
    own words are kept in the description. A row with neither is not a schedule."""
    days = parse_day_range(row.get("weekday") or row.get("byday") or "")
    opens = _clock(row, "opens_at", "dtstart", "valid_from")
    closes = _clock(row, "closes_at", "until", "valid_to")
    if not days and not (opens and closes):
        return None
    out: dict[str, Any] = {"id": derived_id("hsds1", "schedule2", row.get("id") or str(row))}
    out["freq"] = (row.get("freq") or "WEEKLY").upper()
    if days:
        out["byday"] = ",".join(days)
    if opens and closes:
        out["opens_at"], out["closes_at"] = opens, closes
    words = [row.get(k) for k in ("name", "description", "weekday") if row.get(k)]
    if words:
        out["description"] = repair_text(" — ".join(w for w in words if w))
    return out


class LegacyExtras:
    """contacts, accessibility, schedules.csv and service_attributes.csv of a package."""

    def __init__(self, rows: Any, folder: Path) -> None:
        self.contacts = _group(rows(folder, "contacts.csv"), "service_id")
        self.accessibility = _group(
            rows(folder, "accessibility_for_disabilities.csv"), "location_id"
        )
        schedules = rows(folder, "schedules.csv")
        self.schedules = _group(schedules, "service_id")
        self.attributes = _group(rows(folder, "service_attributes.csv"), "service_id")
        self.terms = {r["id"]: r for r in rows(folder, "taxonomy_terms.csv") if r.get("id")}
        eligibility = rows(folder, "eligibility.csv")
        self.eligibility = _group(eligibility, "service_id")
        self.unlinked_eligibility = sum(1 for r in eligibility if not r.get("service_id"))

    def for_service(self, source_id: str, service_id: str) -> dict[str, Any]:
        """contacts, schedules, attributes and eligibility of one service (as HSDS fields)."""
        out: dict[str, Any] = {}
        contacts = [c for c in map(contact, self.contacts.get(source_id, [])) if c]
        if contacts:
            out["contacts"] = contacts
        schedules = [s for s in map(schedule_2x, self.schedules.get(source_id, [])) if s]
        if schedules:
            out["schedules"] = schedules
        attributes = [self._attribute(service_id, r) for r in self.attributes.get(source_id, [])]
        if any(attributes):
            out["attributes"] = [a for a in attributes if a]
        texts = [repair_text(r["eligibility"]) for r in self.eligibility.get(source_id, [])]
        if any(texts):
            out["eligibility_description"] = "\n\n".join(t for t in texts if t)
        return out

    def for_location(self, source_id: str) -> list[dict[str, Any]]:
        return [a for a in map(accessibility, self.accessibility.get(source_id, [])) if a]

    def term_objects(self) -> list[tuple[str, dict[str, Any]]]:
        """Every row of taxonomy_terms.csv as an HSDS 3.0 taxonomy_term (with its taxonomy),
        so the whole vocabulary is imported and listed by ``/api/hsds/taxonomy_terms``, not
        only the terms some service carries: (source id, term)."""
        return [(i, t) for i, t in ((i, term_object(r)) for i, r in self.terms.items()) if t]

    def _attribute(self, service_id: str, row: dict[str, str]) -> dict[str, Any] | None:
        term = term_object(self.terms.get(row.get("taxonomy_term_id", "")))
        if term is None:
            return None
        return {
            "id": derived_id("hsds1", "attribute", row.get("id") or term["id"], service_id),
            "link_id": service_id,
            "link_type": "service",
            "taxonomy_term_id": term["id"],
            "taxonomy_term": term,
        }


def term_object(row: dict[str, str] | None) -> dict[str, Any] | None:
    """A 2.x taxonomy_terms.csv row (``term`` or ``name``; its vocabulary in ``taxonomy``)
    as an HSDS 3.0 taxonomy_term with its ``taxonomy_detail``; None without a name."""
    if row is None or not (row.get("term") or row.get("name")):
        return None
    vocabulary = row.get("taxonomy") or "unnamed"
    taxonomy = {
        "id": derived_id("hsds1", "taxonomy", vocabulary),
        "name": vocabulary,
        "description": "",
    }
    return {
        "id": derived_id("hsds1", "taxonomy_term", row["id"]),
        "name": row.get("term") or row["name"],
        "description": row.get("description") or "",
        "taxonomy": vocabulary,
        "taxonomy_detail": taxonomy,
    }
