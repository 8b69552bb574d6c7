"""The HSDS fields carenet keeps as given: each object's ``hsds_extra`` (docs/hsds.md).

carenet has typed columns for what it searches, shows and edits; every other
field of an HSDS object (contacts, funding, programs, cost options, required
documents, accessibility, metadata, schedule RRULE fields, phone languages,
foreign attributes, ...) is kept in the row's ``hsds_extra`` JSON exactly as
given and written back on export. Each kept field is checked against its
definition in the official compiled schema (types and formats asserted): a
field that fails is dropped with a warning, never the record. CSV text is
turned into the schema's number/integer/boolean first.

Under ``LOCAL`` the row keeps the values carenet derived for its own use (a
default capacity, a ZIP-code time zone, a centroid, categories mapped from a
foreign vocabulary) or kept as given although they are not valid HSDS (a URL
without a scheme): export leaves a field out while it still holds that value.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from functools import lru_cache
from pathlib import Path
from typing import Any

import jsonschema_rs

LOCAL = "carenet:local"
SCHEMA_DIR = Path(__file__).parent / "schema"
Validator = jsonschema_rs.Draft202012Validator  # Rust: the import checks every kept value


def _compile(schema: dict[str, Any]) -> Validator:
    return Validator(schema, validate_formats=True)


@lru_cache(maxsize=1)
def object_schemas() -> dict[str, dict[str, Any]]:
    """The schema of each HSDS object kind carenet stores, from the compiled schemas."""

    def load(name: str) -> dict[str, Any]:
        data: dict[str, Any] = json.loads((SCHEMA_DIR / name).read_text(encoding="utf-8"))
        return data

    service, organization = load("service.json"), load("organization.json")
    sp, op = service["properties"], organization["properties"]
    location = op["locations"]["items"]
    term = sp["attributes"]["items"]["properties"]["taxonomy_term"]  # compiled ($refs inlined)
    return {
        "service": service,
        "organization": organization,
        "location": location,
        "address": location["properties"]["addresses"]["items"],
        "phone": sp["phones"]["items"],
        "schedule": sp["schedules"]["items"],
        "language": sp["languages"]["items"],
        "service_area": sp["service_areas"]["items"],
        "service_at_location": sp["service_at_locations"]["items"],
        "taxonomy": term["properties"]["taxonomy_detail"],
        "taxonomy_term": term,
    }


@lru_cache(maxsize=512)
def _validator(kind: str, key: str) -> Validator | None:
    schema = object_schemas()[kind]["properties"].get(key)
    if schema is None:
        return None
    return _compile(schema)


@lru_cache(maxsize=512)
def _item_validator(kind: str, key: str) -> Validator | None:
    items = (object_schemas()[kind]["properties"].get(key) or {}).get("items")
    if not isinstance(items, dict):
        return None
    return _compile(items)


def _coerce(value: Any, kind: str, key: str) -> Any:
    """CSV text as the schema's scalar type ("3" -> 3, "true" -> True); else unchanged."""
    if not isinstance(value, str):
        return value
    expected = (object_schemas()[kind]["properties"].get(key) or {}).get("type")
    text = value.strip()
    try:
        if expected == "integer":
            return int(text)
        if expected == "number":
            number = float(text)
            return int(number) if number.is_integer() and "." not in text else number
    except ValueError:
        return value
    if expected == "boolean" and text.lower() in {"true", "false"}:
        return text.lower() == "true"
    return value


@lru_cache(maxsize=512)
def is_text_field(kind: str, key: str) -> bool:
    """Whether HSDS types ``key`` of a ``kind`` object as a string with a format or an
    enumeration (the only string fields a value can fail)."""
    schema = object_schemas()[kind]["properties"].get(key) or {}
    return schema.get("type") == "string" and ("format" in schema or "enum" in schema)


@lru_cache(maxsize=64)
def text_fields(kind: str) -> frozenset[str]:
    """The keys of a ``kind`` object that ``is_text_field`` (checked once per kind)."""
    return frozenset(
        key for key in object_schemas()[kind]["properties"] if is_text_field(kind, key)
    )


@lru_cache(maxsize=64)
def _fields_validator(kind: str) -> Validator:
    """One validator for every field of a ``kind`` object at once (no field required): an
    object passes it exactly when each of its fields passes its own definition."""
    return _compile({"type": "object", "properties": object_schemas()[kind]["properties"]})


def fields_valid(kind: str, fields: dict[str, Any]) -> bool:
    """Whether every one of ``fields`` is a valid field of an HSDS ``kind`` object."""
    return bool(_fields_validator(kind).is_valid(fields))


def problem(kind: str, key: str, value: Any) -> str | None:
    """Why ``value`` is not a valid ``key`` of an HSDS ``kind`` object (None when it is)."""
    validator = _validator(kind, key)
    if validator is None:
        return None
    if validator.is_valid(value):
        return None
    error = next(iter(validator.iter_errors(value)), None)
    return error.message[:200] if error is not None else "invalid"


def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


def _checked(kind: str, key: str, value: Any, where: str, warnings: list[str]) -> Any:
    """``value`` coerced and checked; None (dropped, with a warning) when invalid. A list
    loses only its invalid items."""
    value = _coerce(value, kind, key)
    validator = _item_validator(kind, key)
    if isinstance(value, list) and validator is not None:
        kept = []
        for index, item in enumerate(value):
            if validator.is_valid(item):
                kept.append(item)
                continue
            error = next(iter(validator.iter_errors(item)), None)
            why = error.message[:200] if error is not None else "invalid"
            warnings.append(f"{where}: {key}[{index}] dropped ({why})")
        return kept or None
    reason = problem(kind, key, value)
    if reason:
        warnings.append(f"{where}: {key} {_short(value)} dropped ({reason})")
        return None
    return value


def extra_fields(
    kind: str,
    obj: dict[str, Any],
    consumed: Collection[str],
    where: str,
    warnings: list[str],
    columns: Collection[str] = (),
) -> dict[str, Any]:
    """The fields of ``obj`` neither in ``consumed`` nor in ``columns`` (those carenet
    stores in a column of its own), checked against the ``kind`` schema.

    Blank values (None, "") are not kept (HSDS has no null; a blank CSV cell is absent).
    Fields the schema does not define are kept as given (HSDS allows extensions).
    """
    given: dict[str, Any] = {}
    for key, value in obj.items():
        if key in consumed or key in columns or key.startswith("_") or key == "hsds_type":
            continue
        if value is None or (isinstance(value, str) and not value.strip()):
            continue
        given[key] = _coerce(value, kind, key)
    # The usual case: every field valid, checked in one call. Otherwise each field on its
    # own, to name the bad one and keep the rest (an empty list is dropped there too).
    if not given or (_fields_validator(kind).is_valid(given) and [] not in given.values()):
        return given
    out: dict[str, Any] = {}
    for key, value in given.items():
        checked = _checked(kind, key, value, where, warnings)
        if checked is not None:
            out[key] = checked
    return out


def with_local(extra: dict[str, Any], local: dict[str, Any]) -> dict[str, Any] | None:
    """The ``hsds_extra`` value of a row: ``extra`` plus the LOCAL values; None if empty."""
    stored = dict(extra)
    if local:
        stored[LOCAL] = local
    return stored or None


def given_fields(stored: dict[str, Any] | None) -> dict[str, Any]:
    """The HSDS fields of a stored ``hsds_extra`` (LOCAL left out)."""
    return {k: v for k, v in (stored or {}).items() if k != LOCAL}


def local_values(stored: dict[str, Any] | None) -> dict[str, Any]:
    """The values carenet derived or keeps only for itself (see module docstring)."""
    value = (stored or {}).get(LOCAL)
    return value if isinstance(value, dict) else {}
