"""AIRS code mapping, schedule text parsing and 211 field cleaning (no database)."""

from __future__ import annotations

from datetime import time

import pytest

from carenet.directory.hsds.legacy import (
    categories_for_airs_code,
    clean_country,
    clean_postcode,
    clean_state,
    language_for,
    parse_clock,
    parse_day_range,
    parse_hours_text,
    parse_weekday,
)


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("BT-4500.6500-500", ("transportation",)),
        ("BT-8300.1000-400", ("transportation",)),
        ("BD-5000.3500", ("meal-delivery",)),
        ("BD-5000.8300", ("food-pantry",)),
        ("BD-1800.2000-640", ("food-pantry",)),
        ("PH-3300.3000", ("in-home-help",)),
        ("PH-7000.3300-040", ("in-home-help",)),
        ("LT-2800.3000", ("in-home-help",)),
        ("PN-8100.1000-250", ("support-groups",)),
        ("PN-8100.0200-180", ("support-groups", "safety")),
        ("BH-1800.1500-100", ("housing", "safety")),
        ("BH-3800.7000", ("housing",)),
        ("BV-8900.9300-180", ("utilities",)),
        ("NL-6000.2000", ("financial-help",)),
        ("TC-5500.8000", ("social-connection",)),
        ("RP-1500.1400-200", ("safety",)),
        ("bt-4500.4500 ", ("transportation",)),
    ],
)
def test_airs_codes_map_to_carenet_categories_by_prefix(code, expected):
    assert categories_for_airs_code(code) == expected


@pytest.mark.parametrize("code", ["YB-8000", "PL-7000", "BT-8750.1400", "PH-1000", "BTX-4500", ""])
def test_airs_codes_outside_the_table_map_to_nothing(code):
    assert categories_for_airs_code(code) == ()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("9:00am", time(9)),
        ("5:00pm", time(17)),
        ("12:00pm", time(12)),
        ("12:00am", time(0)),
        ("8:30 AM", time(8, 30)),
        ("1:50p.m.", time(13, 50)),
        ("17:45", time(17, 45)),
        ("10:00:00", time(10)),
        ("noon", time(12)),
        ("7pm", time(19)),
    ],
)
def test_clock_times_are_read_from_211_text(text, expected):
    assert parse_clock(text) == expected


@pytest.mark.parametrize("text", ["", None, "13:00pm", "25:00", "9:75am", "closed", "by appt"])
def test_unreadable_clock_times_are_none(text):
    assert parse_clock(text) is None


def test_weekday_names_and_ranges():
    assert parse_weekday("Monday") == "MO"
    assert parse_weekday("thur") == "TH"
    assert parse_weekday("Funday") is None
    assert parse_day_range("Mon-Fri") == ["MO", "TU", "WE", "TH", "FR"]
    assert parse_day_range("Tue, Thur") == ["TU", "TH"]
    assert parse_day_range("Fri-Mon") == ["MO", "FR", "SA", "SU"]
    assert parse_day_range("Saturday and Sunday") == ["SA", "SU"]


def test_padded_states_blank_countries_and_zip_plus_four_are_cleaned():
    assert clean_state("FL ") == "FL"
    assert clean_state("   ") is None
    assert clean_country("   ") == "US"
    assert clean_country("us ") == "US"
    assert clean_postcode("33157-1234") == "33157"
    assert clean_postcode(" 33157") == "33157"
    assert clean_postcode("") is None


def test_language_names_become_iso_codes():
    assert language_for("Spanish (limited)") == ("Spanish", "es")
    assert language_for("Creole") == ("Creole", "ht")
    assert language_for("other languages available upon request") is None


def test_hours_free_text_with_split_day_and_shared_days():
    assert parse_hours_text("8:00am-12:00pm; 1:00pm-5:00pm, Mon-Fri") == [
        (["MO", "TU", "WE", "TH", "FR"], time(8), time(12)),
        (["MO", "TU", "WE", "TH", "FR"], time(13), time(17)),
    ]


def test_hours_free_text_with_mis_decoded_dash_and_several_lines():
    assert parse_hours_text("8:30amGÇô5:00pm, Mon-Fri") == [
        (["MO", "TU", "WE", "TH", "FR"], time(8, 30), time(17))
    ]
    text = "Grades 2-5: \\n3:00pm-6:00pm, Mon, Tue, Thur, Fri;\\n2:00pm-6:00pm, Wed"
    assert parse_hours_text(text) == [
        (["MO", "TU", "TH", "FR"], time(15), time(18)),
        (["WE"], time(14), time(18)),
    ]


def test_hours_free_text_without_a_time_range_gives_nothing():
    assert parse_hours_text("Dismissal Bell - 6:00pm, Mon-Fri") == []
    assert parse_hours_text("By appointment") == []
