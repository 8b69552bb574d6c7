"""Place-based matching: geodesic distance from the patient, radius edges, ordering."""

from __future__ import annotations

import pytest
from factories import MIAMI, IndexedServiceFactory
from geopy.distance import geodesic

from search.places import point_at

KM_PER_MILE = 1.609344


def names(page):
    return [r["service"]["name"] for r in page.contents]


def test_radius_edge_in_miles_just_inside_is_found_just_outside_is_not(search):
    IndexedServiceFactory(name="Inside", locations=[point_at(MIAMI, 4.99, 45)])
    IndexedServiceFactory(name="Outside", locations=[point_at(MIAMI, 5.01, 45)])
    assert names(search(lat=MIAMI[0], lon=MIAMI[1], radius_mi=5)) == ["Inside"]


def test_radius_edge_in_kilometres(search):
    IndexedServiceFactory(name="Inside", locations=[point_at(MIAMI, 9.98 / KM_PER_MILE, 200)])
    IndexedServiceFactory(name="Outside", locations=[point_at(MIAMI, 10.02 / KM_PER_MILE, 200)])
    page = search(lat=MIAMI[0], lon=MIAMI[1], radius_mi=10 / KM_PER_MILE)
    assert names(page) == ["Inside"]
    assert page.contents[0]["distance_km"] == pytest.approx(9.98, abs=1e-3)


def test_distances_agree_with_geopy_geodesic(search):
    sites = [point_at(MIAMI, miles, bearing) for miles, bearing in ((0.3, 10), (7.7, 100),
                                                                     (42.0, 300))]  # fmt: skip
    for i, site in enumerate(sites):
        IndexedServiceFactory(name=f"Group {i}", locations=[site])
    page = search(lat=MIAMI[0], lon=MIAMI[1], radius_mi=50)
    assert names(page) == ["Group 0", "Group 1", "Group 2"]
    for result, site in zip(page.contents, sites, strict=True):
        expected = geodesic(MIAMI, site)
        assert result["distance_mi"] == pytest.approx(expected.miles, abs=1e-3)
        assert result["distance_km"] == pytest.approx(expected.km, abs=1e-3)


def test_equal_distances_are_ordered_by_name(search):
    site = point_at(MIAMI, 1)
    IndexedServiceFactory(name="Beta group", locations=[site])
    IndexedServiceFactory(name="Alpha group", locations=[site])
    IndexedServiceFactory(name="Closer group", locations=[point_at(MIAMI, 0.5)])
    assert names(search(lat=MIAMI[0], lon=MIAMI[1])) == ["Closer group", "Alpha group",
                                                          "Beta group"]  # fmt: skip


def test_near_a_zip_code_searches_from_its_centroid(search):
    from carenet.geo import zip_centroid

    centre = zip_centroid("33157")
    IndexedServiceFactory(
        name="By the centroid", locations=[point_at((centre.latitude, centre.longitude), 0.5)]
    )
    page = search(near="33157", radius_mi=1)
    assert names(page) == ["By the centroid"]
    assert page.origin.postcode == "33157"


def test_an_address_ending_in_a_zip_is_geocoded(search):
    IndexedServiceFactory(name="Downtown", locations=[point_at(MIAMI, 1)])
    page = search(near="100 Biscayne Blvd, Miami, FL 33132", radius_mi=5)
    assert names(page) == ["Downtown"]


def test_inactive_services_are_not_found(search):
    IndexedServiceFactory(name="Closed for good", locations=[point_at(MIAMI, 1)], status="defunct")
    assert names(search(lat=MIAMI[0], lon=MIAMI[1])) == []


def test_each_location_of_a_service_is_a_result(search):
    IndexedServiceFactory(name="Two sites", locations=[point_at(MIAMI, 1), *(point_at(MIAMI, 3),)])
    page = search(lat=MIAMI[0], lon=MIAMI[1])
    assert names(page) == ["Two sites", "Two sites"]
    assert page.contents[0]["distance_mi"] < page.contents[1]["distance_mi"]
