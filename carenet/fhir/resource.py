"""Small pieces every mapping uses: meta, references, FHIR instants and dates."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from carenet.db.types import as_utc
from carenet.fhir.codes import PROFILE


def instant(moment: datetime | None) -> str | None:
    """A FHIR instant (UTC, seconds, ``Z``)."""
    if moment is None:
        return None
    return as_utc(moment).strftime("%Y-%m-%dT%H:%M:%SZ")


def day(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


def meta(
    resource_type: str, last_updated: datetime | None, version: int | None = None
) -> dict[str, Any]:
    found: dict[str, Any] = {"profile": [PROFILE[resource_type]]}
    if version is not None:
        found["versionId"] = str(version)
    if last_updated is not None:
        found["lastUpdated"] = instant(last_updated)
    return found


def ref(resource_type: str, resource_id: str | None, display: str | None = None) -> dict[str, Any]:
    found: dict[str, Any] = {"reference": f"{resource_type}/{resource_id}"}
    if display:
        found["display"] = display
    return found


def drop_empty(body: dict[str, Any]) -> dict[str, Any]:
    """The resource without ``None``, empty lists and empty objects (FHIR forbids them)."""
    return {k: v for k, v in body.items() if v is not None and v != [] and v != {}}
