"""Parsing the curation form's hours and phone lines; errors name the line."""

from __future__ import annotations

from datetime import time

import pytest

from carenet.directory.curation import PhoneNumber, WeeklyHours, parse_hours, parse_phones
from carenet.errors import InvalidInput
from carenet.security import content_security_policy, safe_local_path


def test_hours_with_ranges_lists_and_overnight():
    assert parse_hours("MO-FR 09:00-17:00\n\nsa,su 10:00 - 14:00\nFR 22:00-02:00") == [
        WeeklyHours("MO,TU,WE,TH,FR", time(9), time(17)),
        WeeklyHours("SA,SU", time(10), time(14)),
        WeeklyHours("FR", time(22), time(2)),
    ]


@pytest.mark.parametrize(
    "line",
    ["Funday 09:00-17:00", "MO 9-5", "MO 25:00-26:00", "MO 09:00-09:00", "FR-MO 09:00-10:00"],
)
def test_bad_hours_name_the_line(line):
    with pytest.raises(InvalidInput) as refused:
        parse_hours("MO 09:00-17:00\n" + line)
    assert refused.value.detail.startswith("Line 2")
    assert "hours" in refused.value.errors


def test_day_ranges_round_trip():
    from carenet.directory.curation import _day_ranges

    assert _day_ranges("MO,TU,WE,TH,FR,SU") == "MO-FR,SU"
    assert _day_ranges("MO,WE") == "MO,WE"
    assert parse_hours("MO-FR,SU 09:00-10:00")[0].byday == "MO,TU,WE,TH,FR,SU"


def test_phones():
    assert parse_phones("555-123-4567 x12\n+1 (555) 765-4321\n") == [
        PhoneNumber("555-123-4567", "12"),
        PhoneNumber("+1 (555) 765-4321", None),
    ]
    with pytest.raises(InvalidInput, match="Line 1"):
        parse_phones("call us")


def test_safe_local_path():
    assert safe_local_path("/account?x=1") == "/account?x=1"
    for bad in ("https://evil.test/", "//evil.test", "/\\evil.test", "", None, "account"):
        assert safe_local_path(bad) is None


def test_csp_without_and_with_map_tiles():
    plain = content_security_policy()
    assert "img-src 'self' data:;" in plain and "unsafe-inline" not in plain
    tiles = content_security_policy("https://tile.example.org/{z}/{x}/{y}.png")
    assert "img-src 'self' data: https://tile.example.org;" in tiles
    assert "javascript" not in content_security_policy("javascript:alert(1)")
