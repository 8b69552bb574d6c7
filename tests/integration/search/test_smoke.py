from search.builders import MIAMI, make_service, point_at


def test_a_place_based_service_within_the_radius_is_found(search):
    make_service("Near group", point_at(MIAMI, 2))
    make_service("Far group", point_at(MIAMI, 30))
    page = search(lat=MIAMI[0], lon=MIAMI[1], radius_mi=10)
    assert [r["service"]["name"] for r in page.contents] == ["Near group"]
