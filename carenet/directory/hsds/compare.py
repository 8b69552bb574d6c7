"""Round-trip measure: which field values of the input an export gives back, by object id.

Every object with an ``id`` anywhere in the input (services, organizations,
locations, phones nested under contacts, ...) contributes its scalar fields
(and lists of scalars) as ``(id, field) -> value``; objects without an id are
flattened into the nearest object above them that has one (``field.sub``).
Blank values and readers' own markers (``_warnings``, ``hsds_type``) are not
counted. A value is kept when the export has the same id and field with an equal value:
numbers compare as numbers, ``10:00`` equals ``10:00:00``, a date-time's date
part equals the date. ``carenet hsds-compare`` is not a command; tests and
``docs/hsds.md`` use ``compare``.
"""

from __future__ import annotations

import json
import re
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
        try:  # CSV gives numbers as text
            return float(text) if text[:1] in "-0123456789" else text
        except ValueError:
            return text
    if isinstance(value, list):
        return tuple(_normal(v) for v in value)
    return value


def _is_object_list(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)


def _counts(key: str, value: Any) -> bool:
    """A given value: not blank (a blank CSV cell is absent), not a reader's own marker."""
    if key == "id" or key.startswith("_") or key == "hsds_type":
        return False
    return value is not None and value != [] and not (isinstance(value, str) and not value.strip())


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
            elif owner is not None and _counts(key, value):
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


_DROPPED = re.compile(r"^[a-z_ ]+ (\S+): ([a-z_]+) .*(?:dropped|not exported)")


def excused(warnings: Iterable[Any]) -> set[Key]:
    """(object id, field) of every value a warning says was dropped or is not exported
    (``location X: latitude 100 is outside -90..90; dropped``)."""
    out: set[Key] = set()
    for warning in warnings:
        text = str(getattr(warning, "reason", warning))
        match = _DROPPED.match(text)
        if not match:
            continue
        object_id, name = match.groups()
        out.add((object_id, name))
        if "latitude/longitude" in text or name in {"latitude", "longitude"}:
            out |= {(object_id, "latitude"), (object_id, "longitude")}
    return out
