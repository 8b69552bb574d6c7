"""A radius area's circle written as EWKT directly is the text shapely writes for it."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from shapely import wkt

from carenet.directory.hsds.conventions import circle_ewkt, circle_polygon, multipolygon_ewkt

latitudes = st.floats(min_value=-90, max_value=90, allow_nan=False)
longitudes = st.floats(min_value=-180, max_value=180, allow_nan=False)
radii = st.floats(min_value=0.001, max_value=500, allow_nan=False)


@settings(max_examples=300, deadline=None)
@given(latitudes, longitudes, radii)
def test_circle_ewkt_is_the_shapely_polygons_text(latitude, longitude, radius_mi):
    text = circle_ewkt(latitude, longitude, radius_mi)
    circle = circle_polygon(latitude, longitude, radius_mi)
    shape = wkt.loads(text.split(";", 1)[1])
    assert list(shape.geoms[0].exterior.coords) == list(circle.exterior.coords)
    if all(min(abs(x), abs(y)) >= 1e-3 for x, y in circle.exterior.coords):
        assert text == multipolygon_ewkt(circle)  # shapely writes 1e-06, -0 where this does not


def test_a_known_circle():
    text = circle_ewkt(25.7, -80.2, 10)
    assert text.startswith("SRID=4326;MULTIPOLYGON (((-80.2 25.8447316, -80.1842373 25.8440338,")
    assert text.endswith("-80.2 25.8447316)))")
