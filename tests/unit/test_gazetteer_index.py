"""The gazetteer's shipped index (``carenet/geo/data/gazetteer.json.gz``) is what the
installed ``zipcodes`` data gives, and its ZIP facts are ``carenet.geo``'s."""

from __future__ import annotations

from carenet.geo import gazetteer, timezone_for_postcode, zip_centroid
from carenet.geo.postcodes import postcode_index


def _plain(index: gazetteer._Index) -> dict[str, object]:
    def lists(table: dict) -> dict:
        return {k: lists(v) if isinstance(v, dict) else list(v) for k, v in table.items()}

    return {
        "by_state": lists(index.by_state),
        "counties": lists(index.counties),
        "cities": lists(index.cities),
        "state_names": index.state_names,
        "facts": lists(index.facts),
    }


def test_the_shipped_index_is_the_one_built_from_the_zipcodes_data():
    assert gazetteer.INDEX_FILE.exists()
    assert _plain(gazetteer._index()) == _plain(gazetteer._build_index())


def test_zip_facts_are_the_centroid_and_zone_of_carenet_geo():
    codes = list(postcode_index().by_postcode) + ["99999", "00000", "3313", ""]
    for code in codes:
        point = zip_centroid(code)
        expected = (point.latitude, point.longitude) if point else (None, None)
        assert gazetteer.zip_facts(code) == (
            *expected,
            timezone_for_postcode(code) if point else None,
        )
    assert gazetteer.zip_facts("33130-1234") == gazetteer.zip_facts("33130")


def test_a_stale_file_is_ignored(tmp_path, monkeypatch):
    """A file made from another zipcodes version (or unreadable) is not used."""
    stale = tmp_path / "gazetteer.json.gz"
    stale.write_bytes(b"not gzip")
    monkeypatch.setattr(gazetteer, "INDEX_FILE", stale)
    gazetteer._index.cache_clear()
    try:
        assert gazetteer._index().counties["san mateo"]["CA"] == gazetteer.county_postcodes(
            "San Mateo County", "CA"
        )
        gazetteer.write_index(stale)
        monkeypatch.setattr(gazetteer, "_zipcodes_version", lambda: "0.0-other")
        gazetteer._index.cache_clear()
        assert isinstance(gazetteer._index().counties["san mateo"]["CA"], tuple)  # built
    finally:
        gazetteer._index.cache_clear()
