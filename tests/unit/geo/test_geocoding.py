"""The offline geocoder and ZIP helpers work without any network."""

from __future__ import annotations

import pytest
from geopy.distance import geodesic

from carenet.geo import (
    GeocodeError,
    OfflineGeocoder,
    distance_mi,
    extract_postcode,
    geocode,
    nearest_postcode,
    postcodes_in_county,
    timezone_for_postcode,
    zip_centroid,
)


def test_a_zip_code_resolves_to_its_centroid_with_county_and_timezone():
    point = geocode("33157", geocoder=OfflineGeocoder())
    assert (point.latitude, point.longitude) == pytest.approx((25.6062, -80.3426), abs=1e-4)
    assert point.postcode == "33157"
    assert point.county == "Miami-Dade County"
    assert point.timezone == "America/New_York"


def test_an_address_ending_in_a_zip_resolves_to_that_zip():
    point = geocode("11347 SW 160th Street, Miami, FL 33157-1234", geocoder=OfflineGeocoder())
    assert point.postcode == "33157"


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("00000", "Unknown ZIP code 00000."),
        ("somewhere nice", "Could not find 'somewhere nice'. Add a ZIP code at the end."),
        ("  ", "Give a ZIP code or an address."),
    ],
)
def test_unknown_places_raise_an_error_naming_the_parameter(query, message):
    with pytest.raises(GeocodeError) as caught:
        geocode(query, geocoder=OfflineGeocoder(), field="near")
    assert caught.value.errors == {"near": [message]}


def test_postcode_extraction_ignores_house_numbers():
    assert extract_postcode("12345 Main St, Miami FL") is None
    assert extract_postcode("1 Main St, Miami FL 33101, USA") == "33101"


def test_county_expands_to_its_zip_codes_whatever_the_spelling():
    zips = postcodes_in_county("Miami-Dade County", "FL")
    assert "33157" in zips and "33101" in zips
    assert postcodes_in_county("miami dade", "fl") == zips
    assert postcodes_in_county("Nowhere County", "FL") == []


def test_nearest_postcode_of_a_centroid_is_that_postcode():
    centroid = zip_centroid("33157")
    assert centroid is not None
    assert nearest_postcode(centroid.latitude, centroid.longitude) == "33157"


def test_timezone_differs_across_florida_panhandle():
    assert timezone_for_postcode("32501") == "America/Chicago"  # Pensacola
    assert timezone_for_postcode("33157") == "America/New_York"


def test_distance_is_geodesic_miles():
    expected = geodesic((25.77, -80.19), (26.12, -80.14)).miles
    assert distance_mi(25.77, -80.19, 26.12, -80.14) == pytest.approx(expected)
