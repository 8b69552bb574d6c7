"""Geocoding (geopy geocoders and offline ZIP centroids), distances and areas."""

from __future__ import annotations

from geopy.distance import geodesic

from carenet.geo import postcodes
from carenet.geo.geocoding import (
    GeocodeError,
    GeoPoint,
    OfflineGeocoder,
    extract_postcode,
    geocode,
    make_geocoder,
    zip_centroid,
)

METERS_PER_MILE = 1609.344


def distance_mi(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Geodesic (WGS84 ellipsoid) distance in miles."""
    return float(geodesic((lat1, lon1), (lat2, lon2)).miles)


def postcodes_in_county(county: str, state: str) -> list[str]:
    """ZIP codes of a county ("Miami-Dade County", "FL"); empty if unknown."""
    return postcodes.in_county(county, state)


def nearest_postcode(latitude: float, longitude: float) -> str | None:
    """The ZIP code whose centroid is nearest to the point (an approximation of 'which ZIP')."""
    record = postcodes.nearest(latitude, longitude)
    return record.postcode if record else None


def timezone_for_postcode(postcode: str) -> str | None:
    """The IANA time zone of a ZIP code, or None."""
    record = postcodes.lookup(postcode)
    return record.timezone if record else None


__all__ = [
    "METERS_PER_MILE",
    "GeoPoint",
    "GeocodeError",
    "OfflineGeocoder",
    "distance_mi",
    "extract_postcode",
    "geocode",
    "make_geocoder",
    "nearest_postcode",
    "postcodes_in_county",
    "timezone_for_postcode",
    "zip_centroid",
]
