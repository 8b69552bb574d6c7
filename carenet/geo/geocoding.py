"""Geocoding through geopy-compatible geocoders.

``offline`` (the default) resolves a ZIP code, or an address that ends in a
ZIP code, to the ZIP's centroid from bundled data: no network needed. Any
other ``CARENET_GEOCODER`` value names a geopy geocoder (``nominatim``,
``googlev3``, ...) configured from ``CARENET_GEOCODER_OPTIONS`` (JSON).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from geopy.geocoders import get_geocoder_for_service
from geopy.location import Location as GeopyLocation
from geopy.point import Point

from carenet.errors import InvalidInput
from carenet.geo import postcodes

ZIP_AT_END = re.compile(
    r"(?:^|[\s,])(\d{5})(?:-\d{4})?\s*(?:,?\s*(?:USA?|United States))?\s*$", re.I
)


class GeocodeError(InvalidInput):
    """The place could not be found; ``errors`` names the parameter."""

    title = "Place not found"

    def __init__(self, detail: str, field: str = "near") -> None:
        super().__init__(detail, errors={field: [detail]})


@dataclass(frozen=True)
class GeoPoint:
    latitude: float
    longitude: float
    postcode: str | None = None
    label: str = ""
    county: str | None = None
    state: str | None = None
    timezone: str | None = None


def _from_record(record: postcodes.PostcodeRecord, label: str | None = None) -> GeoPoint:
    return GeoPoint(
        latitude=record.latitude,
        longitude=record.longitude,
        postcode=record.postcode,
        label=label or f"{record.city}, {record.state} {record.postcode}",
        county=record.county or None,
        state=record.state or None,
        timezone=record.timezone,
    )


def zip_centroid(postcode: str) -> GeoPoint | None:
    """The centroid of a US ZIP code, or None when it is unknown."""
    record = postcodes.lookup(postcode)
    return _from_record(record) if record else None


def extract_postcode(text: str) -> str | None:
    """The ZIP code a query ends with ("… Miami, FL 33157"), or None."""
    match = ZIP_AT_END.search(text.strip())
    return match.group(1) if match else None


class OfflineGeocoder:
    """A geopy-compatible geocoder backed by ZIP centroids (no network)."""

    def geocode(
        self, query: str, exactly_one: bool = True, **_: Any
    ) -> GeopyLocation | list[GeopyLocation] | None:
        """As geopy's ``geocode``: one location, or a list of them when not ``exactly_one``."""
        postcode = extract_postcode(query)
        point = zip_centroid(postcode) if postcode else None
        if point is None:
            return None
        location = GeopyLocation(
            point.label,
            Point(point.latitude, point.longitude),
            {
                "postcode": point.postcode,
                "county": point.county,
                "state": point.state,
                "timezone": point.timezone,
            },
        )
        return location if exactly_one else [location]


def make_geocoder(name: str, options: str = "") -> Any:
    """The geocoder named by ``CARENET_GEOCODER``."""
    if name in ("", "offline"):
        return OfflineGeocoder()
    try:
        cls = get_geocoder_for_service(name)
    except Exception as exc:
        raise ValueError(f"unknown CARENET_GEOCODER {name!r}") from exc
    kwargs = json.loads(options) if options else {}
    kwargs.setdefault("user_agent", "carenet")
    return cls(**kwargs)


def geocode(query: str, geocoder: Any | None = None, field: str = "near") -> GeoPoint:
    """Resolve a ZIP code or an address to a point; GeocodeError names ``field`` if not found."""
    text = (query or "").strip()
    if not text:
        raise GeocodeError("Give a ZIP code or an address.", field)
    if geocoder is None:
        geocoder = _configured_geocoder()
    if re.fullmatch(r"\d{5}(-\d{4})?", text):
        point = zip_centroid(text)
        if point is None:
            raise GeocodeError(f"Unknown ZIP code {text}.", field)
        return point
    try:
        found = geocoder.geocode(text, exactly_one=True)
    except Exception as exc:  # a network geocoder failed: say so, never a 500
        raise GeocodeError(f"The geocoder could not look up {text!r}: {exc}", field) from exc
    if found is None:
        hint = "" if extract_postcode(text) else " Add a ZIP code at the end."
        raise GeocodeError(f"Could not find {text!r}.{hint}", field)
    raw = getattr(found, "raw", {}) or {}
    postcode = raw.get("postcode") or extract_postcode(text)
    if postcode is None:
        nearest = postcodes.nearest(found.latitude, found.longitude)
        postcode = nearest.postcode if nearest else None
    return GeoPoint(
        latitude=found.latitude,
        longitude=found.longitude,
        postcode=postcode,
        label=found.address or text,
        county=raw.get("county"),
        state=raw.get("state"),
        timezone=raw.get("timezone"),
    )


def _configured_geocoder() -> Any:
    from flask import current_app, has_app_context

    if not has_app_context():
        return OfflineGeocoder()
    cache = current_app.extensions.setdefault("carenet_geocoder", {})
    if "geocoder" not in cache:
        cache["geocoder"] = make_geocoder(
            current_app.config.get("GEOCODER", "offline"),
            current_app.config.get("GEOCODER_OPTIONS", ""),
        )
    return cache["geocoder"]
