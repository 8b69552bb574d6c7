"""Build seed_data/services.json from the Open211 Miami data package (CC BY-SA 4.0).

Usage: .venv/bin/python seed_data/build_seed.py [MIAMI_DATA_FOLDER]

Reads the HSDS 1.x tabular package through carenet's own importer code (ids
become stable UUIDs, AIRS codes become carenet categories), keeps the services
with a carenet category whose site lies in one of four ZIP-code areas, and adds
what 211 does not publish, derived by the rules written in seed_data/README.md:
service areas of delivered services, capacity, free, confidential, ages. The
derivations are deterministic (a hash of the service id), so re-running the
script gives the same file.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
import sys
from collections import Counter, defaultdict
from pathlib import Path

import zipcodes

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from carenet.directory.hsds.conventions import derived_id, property_attribute  # noqa: E402
from carenet.directory.hsds.tabular import read_tabular  # noqa: E402
from carenet.geo import distance_mi, zip_centroid  # noqa: E402

DEFAULT_SOURCE = Path("/work/shared/data/directories/miami-open211/data")
OUT = Path(__file__).resolve().parent / "services.json"
ASSURED = "2019-07-29"  # date of the Open211 Miami data package
DELIVERED = ("transportation", "meal-delivery", "in-home-help")
FOUR = ("transportation", "meal-delivery", "in-home-help", "support-groups")
AREAS: dict[str, set[str]] = {
    "North Miami-Dade": {
        "33014", "33054", "33055", "33056", "33138", "33147", "33150", "33160",
        "33161", "33162", "33167", "33168", "33169", "33179", "33180", "33181",
    },
    "Central Miami": {str(z) for z in range(33125, 33138)} | {"33142", "33144", "33145"},
    "South Miami-Dade": {
        "33030", "33031", "33032", "33033", "33034", "33035", "33143", "33146", "33155",
        "33156", "33157", "33158", "33170", "33173", "33176", "33177", "33183", "33186",
        "33187", "33189", "33190", "33193", "33196",
    },
    "Florida Keys": {"33001", "33036", "33037", "33040", "33041", "33042", "33043", "33050",
                     "33051", "33070"},
}  # fmt: skip
OLDER_ADULTS_CODE = "YB-8000"  # AIRS target-population code (the code only, no term name)


def bucket(service_id: str, salt: str) -> int:
    """A stable number 0..99 from the service id (deterministic 'randomness')."""
    return int(hashlib.sha256(f"{salt}:{service_id}".encode()).hexdigest(), 16) % 100


def area_of(zip5: str | None) -> str | None:
    return next((name for name, zips in AREAS.items() if zip5 in zips), None)


def county_of(zip5: str) -> tuple[str, str] | None:
    found = zipcodes.matching(zip5)
    if not found or not found[0].get("county"):
        return None
    return found[0]["county"], found[0]["state"]


def nearby_zips(zip5: str, miles: float) -> list[str]:
    """ZIP codes of the same county whose centroid is within ``miles`` of ``zip5``'s."""
    base, county = zip_centroid(zip5), county_of(zip5)
    if base is None or county is None:
        return [zip5]
    out = []
    for row in zipcodes.filter_by(county=county[0], state=county[1]):
        if row.get("zip_code_type") != "STANDARD" or not row.get("lat"):
            continue
        if (
            distance_mi(base.latitude, base.longitude, float(row["lat"]), float(row["long"]))
            <= miles
        ):
            out.append(row["zip_code"])
    return sorted(set(out) | {zip5})


def service_area(service: dict, zip5: str, categories: list[str], location: dict) -> dict | None:
    """carenet's derived reach of a delivered service (not published by 211)."""
    sid = service["id"]
    county = county_of(zip5)
    if "meal-delivery" in categories and county:
        extent = f"county:{county[0]}, {county[1]}"
        name = f"Meals delivered in {county[0]}"
    elif "transportation" in categories and location.get("latitude") and bucket(sid, "r") < 50:
        radius = 10 + bucket(sid, "radius") % 3 * 5
        feature = {
            "type": "Feature",
            "geometry": {
                "type": "Point",
                "coordinates": [float(location["longitude"]), float(location["latitude"])],
            },
            "properties": {"radius_mi": radius},
        }
        return {
            "id": derived_id(sid, "seed-area"),
            "name": f"Rides within {radius} miles of the base",
            "extent": json.dumps(feature, separators=(",", ":")),
            "extent_type": "geojson",
        }
    elif "transportation" in categories and county:
        extent = f"county:{county[0]}, {county[1]}"
        name = f"Rides anywhere in {county[0]}"
    else:
        zips = nearby_zips(zip5, 8.0)
        extent = "postcodes:" + " ".join(zips)
        name = "Home visits in ZIP codes within about 8 miles of the office"
    return {
        "id": derived_id(sid, "seed-area"),
        "name": name,
        "extent": extent,
        "extent_type": "text",
    }


def capacity(sid: str) -> str:
    b = bucket(sid, "capacity")
    if b < 72:
        return "capacity"
    if b < 86:
        return "waitlist"
    if b < 94:
        return "no-capacity"
    return "additional-assessment-required"


def main(source: Path) -> None:
    older = {
        r["service_id"]
        for r in csv.DictReader((source / "services_taxonomy.csv").open(encoding="utf-8"))
        if r["taxonomy_id"].startswith(OLDER_ADULTS_CODE)
    }
    older_ids = {derived_id("hsds1", "service", s) for s in older}
    chosen, table = [], defaultdict(Counter)
    for item in read_tabular(source).items:
        service = item.obj
        service.pop("_warnings", None)
        service.pop("hsds_type", None)
        categories = [a["taxonomy_term"]["code"] for a in service["attributes"]]
        sals = service["service_at_locations"]
        addresses = [a for sal in sals for a in sal["location"].get("addresses", [])]
        zip5 = addresses[0]["postal_code"] if addresses else None
        area = area_of(zip5)
        if not categories or not area or not service.get("organization"):
            continue
        sid = service["id"]
        if any(c in DELIVERED for c in categories):
            service["service_areas"] = [
                service_area(service, zip5, categories, sals[0]["location"])
            ]
        confidential = "safety" in categories and "housing" in categories
        fees = service.get("fees_description") or ""
        if fees:
            free = bool(re.search(r"(?i)\bfree\b|no (fee|charge|cost)", fees))
        else:  # 211 Miami publishes no fees: most listed CBO services are free, some are not
            free = bucket(sid, "free") < 70
        service["attributes"] += [
            property_attribute(sid, "service", "capacity_status", capacity(sid)),
            property_attribute(sid, "service", "free", str(free).lower()),
            property_attribute(sid, "service", "confidential", str(confidential).lower()),
        ]
        if sid in older_ids:
            service["minimum_age"] = 60
        service["assured_date"] = ASSURED
        chosen.append(service)
        for category in categories:
            table[area][category] += 1
    chosen.sort(key=lambda s: s["id"])
    with OUT.open("w", encoding="utf-8") as handle:
        handle.write(
            "[\n" + ",\n".join(json.dumps(s, ensure_ascii=False) for s in chosen) + "\n]\n"
        )
    print(f"{len(chosen)} services written to {OUT}")
    for area, counts in table.items():
        print(area, dict(sorted(counts.items())))
        missing = [c for c in FOUR if not counts[c]]
        if missing:
            print(f"  WARNING: {area} has no site for {missing}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_SOURCE)
