"""Delivered services: the patient's point inside the service's area, whatever the distance."""

from __future__ import annotations

from factories import MIAMI, IndexedServiceFactory

from carenet.geo import zip_centroid
from search.places import point_at

FAR = point_at(MIAMI, 60, 0)  # an office far outside any search radius


def found(page):
    return {r["service"]["name"]: r for r in page.contents}


def square_around(center, half_mi):
    north, south = point_at(center, half_mi, 0)[0], point_at(center, half_mi, 180)[0]
    east, west = point_at(center, half_mi, 90)[1], point_at(center, half_mi, 270)[1]
    return [(west, south), (east, south), (east, north), (west, north)]


def test_polygon_area_containing_the_patient_matches_a_far_office(search):
    IndexedServiceFactory(
        name="Meals",
        locations=[FAR],
        categories=("meal-delivery",),
        areas=({"kind": "polygon", "lonlats": square_around(MIAMI, 3)},),
    )
    IndexedServiceFactory(
        name="Elsewhere",
        locations=[FAR],
        categories=("meal-delivery",),
        areas=({"kind": "polygon", "lonlats": square_around(FAR, 3)},),
    )
    results = found(search(lat=MIAMI[0], lon=MIAMI[1], radius_mi=10))
    assert set(results) == {"Meals"}
    assert results["Meals"]["serves_patient_area"] is True
    assert results["Meals"]["distance_mi"] > 59


def test_radius_area_edges(search):
    center = point_at(MIAMI, 40, 90)
    IndexedServiceFactory(
        name="Rides",
        locations=[center],
        categories=("transportation",),
        areas=({"kind": "radius", "center": center, "radius_mi": 15},),
    )
    inside, outside = point_at(center, 14.9, 270), point_at(center, 15.1, 270)
    assert set(found(search(lat=inside[0], lon=inside[1], radius_mi=1))) == {"Rides"}
    assert set(found(search(lat=outside[0], lon=outside[1], radius_mi=1))) == set()


def test_county_area_matches_a_patient_in_the_county(search):
    IndexedServiceFactory(
        name="County rides",
        locations=[FAR],
        categories=("transportation",),
        areas=({"kind": "county", "county": "Miami-Dade County", "state": "FL"},),
    )
    assert set(found(search(near="33157", radius_mi=1))) == {"County rides"}
    assert set(found(search(near="33301", radius_mi=1))) == set()  # Fort Lauderdale, Broward


def test_zip_list_area_matches_only_those_zip_codes(search):
    IndexedServiceFactory(
        name="Chores",
        locations=[FAR],
        categories=("in-home-help",),
        areas=({"kind": "postcodes", "postcodes": ["33157", "33176"]},),
    )
    assert set(found(search(near="33176", radius_mi=1))) == {"Chores"}
    assert set(found(search(near="33130", radius_mi=1))) == set()


def test_patient_zip_from_coordinates_is_the_nearest_centroid(search):
    IndexedServiceFactory(
        name="Chores",
        locations=[FAR],
        categories=("in-home-help",),
        areas=({"kind": "postcodes", "postcodes": ["33157"]},),
    )
    c = zip_centroid("33157")
    assert set(found(search(lat=c.latitude + 0.001, lon=c.longitude, radius_mi=1))) == {"Chores"}


def test_a_delivered_service_near_but_not_serving_the_patient_says_so(search):
    IndexedServiceFactory(
        name="Nearby meals",
        locations=[point_at(MIAMI, 1)],
        categories=("meal-delivery",),
        areas=({"kind": "polygon", "lonlats": square_around(FAR, 2)},),
    )
    results = found(search(lat=MIAMI[0], lon=MIAMI[1], radius_mi=5))
    assert results["Nearby meals"]["serves_patient_area"] is False


def test_services_serving_the_area_come_first_when_delivery_is_asked(search):
    IndexedServiceFactory(
        name="Close but elsewhere",
        locations=[point_at(MIAMI, 1)],
        categories=("meal-delivery",),
        areas=({"kind": "polygon", "lonlats": square_around(FAR, 2)},),
    )
    IndexedServiceFactory(
        name="Far but delivers here",
        locations=[point_at(MIAMI, 8)],
        categories=("meal-delivery",),
        areas=({"kind": "radius", "center": MIAMI, "radius_mi": 5},),
    )
    page = search(lat=MIAMI[0], lon=MIAMI[1], categories=("meal-delivery",))
    assert [r["service"]["name"] for r in page.contents] == [
        "Far but delivers here", "Close but elsewhere"]  # fmt: skip


def test_a_virtual_service_matches_when_its_area_covers_the_patient(search):
    IndexedServiceFactory(
        name="Phone buddies",
        locations=[],
        categories=("support-groups",),
        areas=({"kind": "county", "county": "Miami-Dade County", "state": "FL"},),
    )
    results = found(search(near="33157", radius_mi=1))
    assert results["Phone buddies"]["location"] is None
    assert results["Phone buddies"]["distance_mi"] is None
    assert results["Phone buddies"]["serves_patient_area"] is True


def test_a_service_with_two_offices_appears_once_for_its_area(search):
    IndexedServiceFactory(
        name="Two offices",
        locations=[FAR, *(point_at(FAR, 5),)],
        categories=("meal-delivery",),
        areas=({"kind": "radius", "center": MIAMI, "radius_mi": 5},),
    )
    page = search(lat=MIAMI[0], lon=MIAMI[1])
    assert [r["service"]["name"] for r in page.contents] == ["Two offices"]
