"""Reading HSDS JSON without a database: streamed arrays, positions, conventions."""

from __future__ import annotations

import json

import pytest

from carenet.directory.hsds.conventions import (
    RecordRejected,
    category_attribute,
    circle_polygon,
    read_attributes,
    read_extent,
)
from carenet.directory.hsds.reading import open_source
from carenet.geo import distance_mi


def test_array_elements_are_streamed_with_their_line_numbers(tmp_path, monkeypatch):
    monkeypatch.setattr("carenet.directory.hsds.reading.CHUNK", 16)  # force many refills
    path = tmp_path / "a.json"
    path.write_text('[\n  {"id": "1",\n   "name": "a"},\n\n  {"id": "2", "name": "b"}\n]\n')
    items = list(open_source(path).items)
    assert [(i.obj["id"], i.position) for i in items] == [("1", "line 2"), ("2", "line 5")]


def test_api_page_contents_are_records(tmp_path):
    path = tmp_path / "page.json"
    path.write_text(json.dumps({"total_items": 2, "contents": [{"id": "1"}, {"id": "2"}]}))
    assert [i.position for i in open_source(path).items] == ["contents[0]", "contents[1]"]


def test_broken_array_element_reports_line_and_column(tmp_path, monkeypatch):
    monkeypatch.setattr("carenet.directory.hsds.reading.CHUNK", 8)
    path = tmp_path / "b.json"
    path.write_text('[{"id": "1"},\n {"id": "2",, "x": 1}]')
    items = list(open_source(path).items)
    assert items[0].obj == {"id": "1"}
    assert (items[1].position, items[1].error) == (
        "line 2, column 13",
        "broken JSON: Expecting property name enclosed in double quotes",
    )


def test_truncated_file_is_reported(tmp_path):
    path = tmp_path / "c.json"
    path.write_text('[{"id": "1"}, {"id": ')
    assert list(open_source(path).items)[-1].error.startswith("broken JSON")


def test_unknown_carenet_term_is_a_warning_and_foreign_terms_are_derived_categories():
    warnings: list[str] = []
    unknown = read_attributes([{"taxonomy_term": {"id": "carenet-categories:x"}}], "s", warnings)
    assert unknown.categories == [] and unknown.derived == []
    assert warnings == ["s: unknown taxonomy term 'carenet-categories:x'; ignored"]
    foreign = [{"taxonomy_term": {"id": "t1", "code": "code", "taxonomy": "other"}}]
    assert read_attributes(foreign, "service", []).categories == []
    by_slug = [{"taxonomy_term": {"id": "t2", "code": "meal-delivery"}}]
    found = read_attributes(by_slug, "service", [])
    assert (found.categories, found.derived) == ([], ["meal-delivery"])  # carenet's reading
    ours = [category_attribute("s1", "service", "transportation")]  # exported: UUID term ids
    assert read_attributes(ours, "service", []).categories == ["transportation"]


def test_extent_conventions():
    assert read_extent("county:Miami-Dade County, FL", "text", "a") == {
        "kind": "county",
        "county": "Miami-Dade County",
        "state": "FL",
    }
    assert read_extent("postcodes:33125 33101", "text", "a")["postcodes"] == ["33101", "33125"]
    assert read_extent("the whole city", "text", "a") is None
    with pytest.raises(RecordRejected, match="radius_mi 900 is outside 0..500"):
        feature = {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [-80, 25]},
            "properties": {"radius_mi": 900},
        }
        read_extent(json.dumps(feature), "geojson", "a")


def test_radius_circle_has_64_vertices_at_the_radius():
    circle = circle_polygon(25.76, -80.19, 10.0)
    assert len(circle.exterior.coords) == 65
    for lon, lat in list(circle.exterior.coords)[:-1:8]:
        assert distance_mi(25.76, -80.19, lat, lon) == pytest.approx(10.0, rel=0.01)
