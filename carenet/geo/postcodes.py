"""Offline US ZIP code data: centroids, counties and time zones.

Backed by the ``zipcodes`` package (42,789 ZIP codes with latitude and
longitude, county and IANA time zone, including PO-box ZIPs). Loaded once,
indexed in memory.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache


@dataclass(frozen=True)
class PostcodeRecord:
    postcode: str
    latitude: float
    longitude: float
    city: str
    state: str
    county: str
    timezone: str | None


@dataclass(frozen=True)
class PostcodeIndex:
    by_postcode: dict[str, PostcodeRecord]
    by_county: dict[tuple[str, str], list[str]]
    grid: dict[tuple[int, int], list[PostcodeRecord]]  # 1-degree cells
    fine: dict[tuple[int, int], list[PostcodeRecord]]  # FINE_CELLS_PER_DEGREE cells


def _county_key(county: str, state: str) -> tuple[str, str]:
    name = county.strip().lower()
    for suffix in (" county", " parish", " borough", " census area", " municipality"):
        if name.endswith(suffix):
            name = name[: -len(suffix)]
    return name.replace("-", " ").replace(".", ""), state.strip().upper()


FINE_CELLS_PER_DEGREE = 10


def _fine_cell(latitude: float, longitude: float) -> tuple[int, int]:
    return (math.floor(latitude * FINE_CELLS_PER_DEGREE),
            math.floor(longitude * FINE_CELLS_PER_DEGREE))  # fmt: skip


@lru_cache(maxsize=1)
def postcode_index() -> PostcodeIndex:
    """The in-memory index, built on first use (about 0.5 s)."""
    import zipcodes

    by_postcode: dict[str, PostcodeRecord] = {}
    by_county: dict[tuple[str, str], list[str]] = defaultdict(list)
    grid: dict[tuple[int, int], list[PostcodeRecord]] = defaultdict(list)
    fine: dict[tuple[int, int], list[PostcodeRecord]] = defaultdict(list)
    for row in zipcodes.list_all():
        try:
            latitude, longitude = float(row["lat"]), float(row["long"])
        except (TypeError, ValueError):
            continue
        record = PostcodeRecord(
            postcode=row["zip_code"],
            latitude=latitude,
            longitude=longitude,
            city=row.get("city") or "",
            state=row.get("state") or "",
            county=row.get("county") or "",
            timezone=row.get("timezone") or None,
        )
        by_postcode[record.postcode] = record
        if record.county:
            by_county[_county_key(record.county, record.state)].append(record.postcode)
        grid[(math.floor(latitude), math.floor(longitude))].append(record)
        fine[_fine_cell(latitude, longitude)].append(record)
    return PostcodeIndex(by_postcode, dict(by_county), dict(grid), dict(fine))


def lookup(postcode: str) -> PostcodeRecord | None:
    """The record of a 5-digit ZIP code (ZIP+4 accepted), or None."""
    return postcode_index().by_postcode.get(postcode.strip()[:5])


def in_county(county: str, state: str) -> list[str]:
    """ZIP codes of a county, e.g. ("Miami-Dade County", "FL"); empty if unknown."""
    return sorted(postcode_index().by_county.get(_county_key(county, state), []))


def nearest(latitude: float, longitude: float) -> PostcodeRecord | None:
    """The ZIP code whose centroid is nearest to a point (within about 1 degree).

    Searches square rings of 0.1-degree cells outward from the point's cell and stops
    as soon as no unsearched cell can hold a nearer centroid: a few dozen centroids
    in a city instead of the thousands of a 3 x 3-degree block."""
    fine = postcode_index().fine
    cell_lat, cell_lon = _fine_cell(latitude, longitude)
    step = 1.0 / FINE_CELLS_PER_DEGREE
    cos_lat = max(math.cos(math.radians(latitude)), 1e-6)
    best: tuple[float, PostcodeRecord] | None = None
    for ring in range(FINE_CELLS_PER_DEGREE + 1):
        for d_lat in range(-ring, ring + 1):
            edge = d_lat in (-ring, ring)
            for d_lon in range(-ring, ring + 1) if edge else (-ring, ring):
                for record in fine.get((cell_lat + d_lat, cell_lon + d_lon), ()):
                    # Equirectangular distance is enough to rank neighbours.
                    dy = record.latitude - latitude
                    dx = (record.longitude - longitude) * cos_lat
                    score = dx * dx + dy * dy
                    if best is None or score < best[0]:
                        best = (score, record)
        # Cells beyond this ring are at least ring * step away (less in longitude).
        reach = ring * step * cos_lat
        if best is not None and best[0] <= reach * reach:
            break
    return best[1] if best else None
