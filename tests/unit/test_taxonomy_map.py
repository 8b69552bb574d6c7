"""carenet categories for terms of other taxonomies (``taxonomy_map``, seed_data/taxonomy_map.csv
and an admin's file named by CARENET_TAXONOMY_MAP)."""

from __future__ import annotations

import csv
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from carenet.directory.hsds.legacy import categories_for_airs_code
from carenet.directory.hsds.taxonomy_map import (
    SEED_MAP,
    TaxonomyMapError,
    categories_for_term,
    vocabulary_of,
)
from carenet.directory.taxonomy import BY_SLUG


@pytest.fixture(autouse=True)
def _no_admin_map(monkeypatch):
    monkeypatch.delenv("CARENET_TAXONOMY_MAP", raising=False)


def test_the_shipped_file_names_only_carenet_categories_and_no_airs_term_names():
    rows = list(csv.DictReader(SEED_MAP.open(encoding="utf-8")))
    # an empty category: a narrower key that maps to nothing (residential care under housing)
    assert rows and all(r["carenet_category"] in {*BY_SLUG, ""} for r in rows)
    assert all(r["carenet_category"] or r["vocabulary"] == "airs" for r in rows)
    # the DC directory's own eligibility vocabulary beside AIRS and Open Eligibility
    assert {r["vocabulary"] for r in rows} == {"airs", "open-eligibility", "Service Eligibility"}
    # AIRS rows hold codes or prefixes only (the taxonomy's term names are proprietary).
    airs = [r["code_prefix_or_term"] for r in rows if r["vocabulary"] == "airs"]
    assert all(c.replace("-", "").replace(".", "").isalnum() and c[:2].isupper() for c in airs)
    assert all(" " not in c for c in airs)


@pytest.mark.parametrize(
    ("vocabulary", "code", "name", "expected"),
    [
        ("AIRS", "BD-5000.3500-100", None, ("meal-delivery",)),
        ("211 LA County", "BD-1800.2000", None, ("food-pantry",)),
        ("airs/211", "PN-8100.0200-180", None, ("support-groups", "safety")),
        ("AIRS", "YB-8000", None, ()),
        ("AIRS", None, "Food Pantries", ()),  # AIRS is matched by code only
        ("Open Eligibility", None, "Food Pantry", ("food-pantry",)),
        ("open-eligibility", None, "food pantry", ("food-pantry",)),
        ("Open Eligibility", None, "Help Pay for Utilities", ("utilities",)),
        ("Open Eligibility", None, "Safe Housing", ("housing", "safety")),
        ("Open Eligibility", None, "Quantum Physics", ()),
        ("AIRS", "DT-8800.9300-930", None, ("financial-help",)),  # tax preparation sites
        ("AIRS", "BH-8400.3000", None, ("housing",)),  # permanent supportive housing
        ("AIRS", "BH-8400.6000-060", None, ()),  # a care facility: no carenet category
        ("AIRS", "PH-7000.3300-040", None, ("in-home-help",)),  # in-home respite
        ("AIRS", "PH-7000.6000-060", None, ()),  # out-of-home respite
        ("Service Category", None, "Help Pay for Gas", ("transportation",)),  # DC's OE terms
        ("Service Eligibility", None, "Survivors of Intimate Partner Violence", ("safety",)),
        ("Service Eligibility", None, "Homeless", ()),  # who it is for, not what it gives
        ("Service Category", None, "Transportation for Healthcare", ("transportation",)),
        (None, "BT-4500.6500", None, ("transportation",)),  # no vocabulary: an AIRS-like code
        (None, None, "Food Delivery", ("meal-delivery",)),  # no vocabulary: a known term name
        ("Some County Taxonomy", "x1", "Emergency Shelter", ("housing",)),
        (None, None, None, ()),
        ("", "", "", ()),
    ],
)
def test_terms_map_by_vocabulary(vocabulary, code, name, expected):
    assert categories_for_term(vocabulary, code, name) == expected


def test_the_airs_table_is_the_one_legacy_uses():
    assert categories_for_airs_code("BH-1800.1500-100") == ("housing", "safety")
    assert categories_for_airs_code("bt-4500.4500 ") == ("transportation",)
    assert categories_for_airs_code("BTX-4500") == ()


def test_vocabulary_names_are_recognised_loosely():
    assert vocabulary_of("Open Eligibility") == "open-eligibility"
    assert vocabulary_of("AIRS/211 LA") == "airs"
    assert vocabulary_of("My Vocabulary") == "myvocabulary"
    assert vocabulary_of("  ") is None


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_an_admin_file_extends_and_overrides(tmp_path, monkeypatch):
    admin = _write(
        tmp_path / "map.csv",
        "# our county's own terms\n"
        "vocabulary,code_prefix_or_term,carenet_category,note\n"
        "County Terms,RIDES,transportation,our code\n"
        "open-eligibility,Food Pantry,meal-delivery,we deliver\n"
        "airs,YB-8000,social-connection,\n"
        "airs,BD-1800,,not food here\n",
    )
    monkeypatch.setenv("CARENET_TAXONOMY_MAP", str(admin))
    assert categories_for_term("County Terms", "rides", None) == ("transportation",)
    assert categories_for_term("Open Eligibility", None, "Food Pantry") == ("meal-delivery",)
    assert categories_for_term("AIRS", "YB-8000.1000", None) == ("social-connection",)
    assert categories_for_term("AIRS", "BD-1800.2000", None) == ()  # mapped to nothing
    assert categories_for_term("AIRS", "BD-5000.3500", None) == ("meal-delivery",)  # kept
    # The file is read again when it changes.
    time.sleep(0.01)
    _write(admin, "vocabulary,code_prefix_or_term,carenet_category,note\nairs,ZZ,housing,\n")
    assert categories_for_term("AIRS", "ZZ-1000", None) == ("housing",)
    assert categories_for_term("Open Eligibility", None, "Food Pantry") == ("food-pantry",)


def test_the_admin_file_is_read_from_the_app_config(app_ctx, tmp_path):
    admin = _write(
        tmp_path / "map.csv", "vocabulary,code_prefix_or_term,carenet_category\nX,y,utilities\n"
    )
    app_ctx.config["TAXONOMY_MAP"] = str(admin)
    assert categories_for_term("X", "Y", None) == ("utilities",)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("vocabulary,code_prefix_or_term,carenet_category\nairs,BT,teleportation\n",
         "line 2: unknown carenet category 'teleportation'"),
        ("vocabulary,term\nairs,BT\n", "missing columns code_prefix_or_term, carenet_category"),
        ("vocabulary,code_prefix_or_term,carenet_category\n,BT,housing\n",
         "line 2: vocabulary and key needed"),
    ],
)  # fmt: skip
def test_a_bad_admin_file_is_refused_with_its_line(tmp_path, monkeypatch, text, message):
    monkeypatch.setenv("CARENET_TAXONOMY_MAP", str(_write(tmp_path / "bad.csv", text)))
    with pytest.raises(TaxonomyMapError, match=message):
        categories_for_term("AIRS", "BT-4500", None)


def test_a_missing_admin_file_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("CARENET_TAXONOMY_MAP", str(tmp_path / "nowhere.csv"))
    with pytest.raises(TaxonomyMapError, match="no such file"):
        categories_for_term("AIRS", "BT-4500", None)


TERM_TEXT = st.one_of(
    st.none(),
    st.text(max_size=30),
    st.sampled_from(["AIRS", "Open Eligibility", "BD-1800.2000", "Food Pantry", "NL", "", " "]),
)


@settings(max_examples=300, deadline=None)
@given(TERM_TEXT, TERM_TEXT, TERM_TEXT)
def test_any_term_maps_to_known_categories_or_none_never_raises(vocabulary, code, name):
    categories = categories_for_term(vocabulary, code, name)
    assert isinstance(categories, tuple) and all(c in BY_SLUG for c in categories)
