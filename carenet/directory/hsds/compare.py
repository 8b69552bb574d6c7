"""Round-trip measure: which field values of the input an export gives back, by object id.

Every object with an ``id`` anywhere in the input (services, organizations,
locations, phones nested under contacts, ...) contributes its scalar fields
(and lists of scalars) as ``(id, field) -> value``; objects without an id are
flattened into the nearest object above them that has one (``field.sub``).
A value is kept when the export has the same id and field with an equal value:
numbers compare as numbers, ``10:00`` equals ``10:00:00``, a date-time's date
part equals the date. ``carenet hsds-compare`` is not a command; tests and
``docs/hsds.md`` use ``compare``.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

Key = tuple[str, str]


def _normal(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        text = value.strip()
        if len(text) == 5 and text[2] == ":" and text.replace(":", "").isdigit():
            return text + ":00"
        return text
    if isinstance(value, list):
        return tuple(_normal(v) for v in value)
    return value


def _is_object_list(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)


def field_values(objects: Iterable[Any]) -> dict[Key, list[Any]]:
    """Every ``(object id, field)`` of ``objects`` (and everything nested) -> its values."""
    out: dict[Key, list[Any]] = defaultdict(list)

    def walk(obj: dict[str, Any], owner: str | None, prefix: str) -> None:
        own_id = obj.get("id")
        if isinstance(own_id, str) and own_id:
            owner, prefix = own_id, ""
        for key, value in obj.items():
            name = f"{prefix}{key}"
            if isinstance(value, dict):
                walk(value, owner, f"{name}.")
            elif _is_object_list(value):
                for item in value:
                    walk(item, owner, f"{name}[].")
            elif owner is not None and value is not None and value != [] and key != "id":
                out[(owner, name)].append(_normal(value))

    for obj in objects:
        if isinstance(obj, dict):
            walk(obj, None, "")
    return out


@dataclass
class RoundTrip:
    total: int = 0
    kept: int = 0
    missing: list[tuple[Key, Any]] = field(default_factory=list)

    @property
    def percent(self) -> float:
        return 100.0 * self.kept / self.total if self.total else 100.0


def compare(
    given: Iterable[Any], exported: Iterable[Any], excused: Iterable[Key] = ()
) -> RoundTrip:
    """How many given field values the export holds (``excused``: dropped on import with a
    warning, not counted)."""
    have = field_values(exported)
    skip = set(excused)
    result = RoundTrip()
    for key, values in field_values(given).items():
        if key in skip:
            continue
        for value in dict.fromkeys(values):
            result.total += 1
            if value in have.get(key, ()):
                result.kept += 1
            else:
                result.missing.append((key, value))
    return result


def read_export(folder: str | Path) -> list[Any]:
    """Every object of an export folder's JSON files."""
    objects: list[Any] = []
    for path in sorted(Path(folder).glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        objects.extend(data if isinstance(data, list) else [data])
    return objects
