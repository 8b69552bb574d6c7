"""Named service areas resolved to ZIP codes offline (``carenet.geo.gazetteer``)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from carenet.geo import postcodes, postcodes_in_county, zip_centroid
from carenet.geo.gazetteer import county_postcodes, resolve_area, state_code


def county_of(code: str) -> str:
    return (postcodes.lookup(code) or postcodes.PostcodeRecord("", 0, 0, "", "", "", None)).county


SAN_MATEO = tuple(postcodes_in_county("San Mateo County", "CA"))
MIAMI_DADE = tuple(postcodes_in_county("Miami-Dade County", "FL"))
BROWARD = tuple(postcodes_in_county("Broward County", "FL"))


@pytest.mark.parametrize(
    "name",
    ["San Mateo County", "San Mateo County, CA", "San Mateo County, California",
     "County of San Mateo", "san mateo county", "  San  Mateo County (CA) "],
)  # fmt: skip
def test_a_county_named_in_words_is_its_zip_codes(name):
    assert resolve_area(name) == SAN_MATEO
    assert "94401" in SAN_MATEO and len(SAN_MATEO) > 30


@pytest.mark.parametrize(
    "name",
    ["Miami-Dade", "Miami-Dade County", "Miami Dade County, FL", "Miami-Dade County, Florida"],
)
def test_miami_dade_in_its_spellings(name):
    assert resolve_area(name) == MIAMI_DADE


def test_a_city_is_the_zip_codes_whose_city_it_is():
    miami = resolve_area("Miami, FL")
    assert miami is not None and "33130" in miami and "33139" not in miami  # Miami Beach is not
    assert resolve_area("City of Miami", "FL") == miami
    assert resolve_area("Miami FL") == miami
    # Every Miami ZIP with a county is in Miami-Dade (PO-box ZIPs have none in the data).
    assert {z for z in miami if county_of(z)} <= set(MIAMI_DADE)
    assert resolve_area("Miami Beach, FL") == tuple(sorted(resolve_area("Miami Beach", "FL")))


def test_a_state_statewide_or_by_name():
    florida = resolve_area("Florida")
    assert florida is not None and len(florida) > 1400
    assert set(MIAMI_DADE) <= set(florida)
    for name in ("Statewide: FL", "Statewide FL", "FL statewide", "State of Florida", "FL"):
        assert resolve_area(name) == florida, name
    assert resolve_area("Statewide", state_hint="FL") == florida
    assert resolve_area("West Virginia") != resolve_area("Virginia")


@pytest.mark.parametrize(
    ("name", "expected"),
    [("ZIP 33130, 33131", ("33130", "33131")), ("33130 33125", ("33125", "33130")),
     ("Zip codes: 33130; 33125-1234", ("33125", "33130")), ("33130", ("33130",))],
)  # fmt: skip
def test_zip_lists(name, expected):
    assert resolve_area(name) == expected


def test_several_places_in_one_name_are_their_union():
    both = tuple(sorted(set(MIAMI_DADE) | set(BROWARD)))
    assert resolve_area("Miami-Dade and Broward Counties") == both
    assert resolve_area("Miami-Dade County; Broward County") == both
    assert resolve_area("Miami-Dade, Broward") == both
    assert resolve_area("Miami-Dade, Broward, FL") == both
    assert resolve_area("Miami-Dade and Nowhere Land") is None  # all or nothing


def test_a_name_in_several_states_needs_a_state():
    assert resolve_area("Orange County") is None
    assert resolve_area("City of Miami") is None  # Miami FL, OK, AZ, ...
    assert resolve_area("Orange County", state_hint="CA") == county_postcodes("Orange", "CA")
    assert resolve_area("Orange County, FL") == county_postcodes("Orange County", "FL")
    assert resolve_area("Orange County, FL", state_hint="CA") == county_postcodes("Orange", "FL")


@pytest.mark.parametrize(
    "name",
    ["", "   ", "Nationwide", "United States", "The Bay Area", "Peninsula", "Peninsula, CA",
     "North County", "extent",
     "Statewide", "12", "3313", "x" * 2000],
)  # fmt: skip
def test_unresolved_names_are_none(name):
    assert resolve_area(name) is None


def test_a_bad_hint_is_ignored():
    assert resolve_area("San Mateo County", state_hint="Atlantis") == SAN_MATEO
    assert resolve_area("Statewide", state_hint="Atlantis") is None


def test_state_codes():
    assert state_code("florida") == "FL"
    assert state_code("District of Columbia") == "DC"
    assert state_code("fl") == "FL"
    assert state_code("Floridia") is None and state_code(None) is None


def test_every_resolved_zip_is_a_real_zip():
    for name in ("San Mateo County", "Miami, FL", "Statewide: FL"):
        codes = resolve_area(name)
        assert codes is not None
        assert all(zip_centroid(code) is not None for code in codes[:50])


PLACE_WORDS = st.sampled_from(
    ["County", "City of", "Statewide:", "FL", "Florida", "Miami", "Dade", ",", " and ", ";",
     "ZIP", "33130", "(", ")", "-", "Counties", "of", "CA", "San Mateo", "St.", ""]
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(st.text(max_size=60), st.lists(PLACE_WORDS, max_size=8).map(" ".join)),
    st.one_of(st.none(), st.text(max_size=20), st.sampled_from(["FL", "CA", "florida", ""])),
)
def test_any_text_resolves_or_not_but_never_raises(name, hint):
    codes = resolve_area(name, hint)
    assert codes is None or (
        codes == tuple(sorted(set(codes))) and all(len(c) == 5 and c.isdigit() for c in codes)
    )
