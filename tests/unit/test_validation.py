"""The shared input rules (carenet/validation.py) and the pure parts of issue 12's fixes."""

from __future__ import annotations

from datetime import UTC, date

import pytest
from marshmallow import Schema, ValidationError

from carenet.errors import InvalidInput
from carenet.reports.suppression import suppress
from carenet.screening import ahc
from carenet.validation import MAX_JSON_DEPTH, AwareDateTime, Date, _check_json, is_clean_text


@pytest.mark.parametrize("text", ["", "Ana", "😀", "é\u202e", "\ufffd"])
def test_clean_text(text):
    assert is_clean_text(text)


@pytest.mark.parametrize("text", ["\x00", "a\x00", "\ud800", "x\udfff"])
def test_unclean_text(text):
    assert not is_clean_text(text)


def test_json_nesting_up_to_the_limit_is_accepted():
    depth = MAX_JSON_DEPTH
    _check_json(b"[" * depth + b"1" + b"]" * depth)
    _check_json(b'{"a":' * depth + b"1" + b"}" * depth)


@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 1, 999, 5000, 100_000])
def test_json_nesting_beyond_the_limit_names_the_body(depth):
    with pytest.raises(InvalidInput) as caught:
        _check_json(b"[" * depth + b"]" * depth)
    assert list(caught.value.errors or {}) == ["body"]


@pytest.mark.parametrize(
    "raw, name",
    [
        (b'{"a": {"b": ["ok", "\\ud800"]}}', "a.b[1]"),
        (b'{"a": {"b\\u0000": 1}}', "a.b\\x00"),
        (b'{"n": NaN}', "n"),
        (b'{"n": 1e999}', "n"),
        (b"[-Infinity]", "[0]"),
    ],
)
def test_bad_json_values_are_named_by_their_path(raw, name):
    with pytest.raises(InvalidInput) as caught:
        _check_json(raw)
    assert list(caught.value.errors or {}) == [name]


class _Dates(Schema):
    day = Date()
    moment = AwareDateTime(default_timezone=UTC)


@pytest.mark.parametrize(
    "data",
    [
        {"day": "9999-12-31"},
        {"day": "0001-01-01"},
        {"day": "1899-12-31"},
        {"moment": "9999-12-31T23:59:59-14:00"},
        {"moment": "0001-01-01T00:00:00+14:00"},
        {"moment": "2101-01-01T00:00"},
        {"moment": "2026-01-01T00:00" + "0" * 100},
    ],
)
def test_dates_out_of_range_are_refused(data):
    with pytest.raises(ValidationError) as caught:
        _Dates().load(data)
    assert set(caught.value.messages) == set(data)


def test_dates_in_range_are_read():
    loaded = _Dates().load({"day": "2100-12-31", "moment": "1900-01-01T00:00:00+14:00"})
    assert loaded["day"] == date(2100, 12, 31)
    assert loaded["moment"].astimezone(UTC).year == 1899  # converting never overflows


def test_an_empty_table_keeps_its_width():
    shown = suppress([], columns=3)
    assert shown.column_totals == ["0", "0", "0"]
    assert shown.grand_total == "0"
    assert shown.cells == []


@pytest.mark.parametrize(
    "value", [{"code": "LA31993-1"}, [["LA31993-1"]], 3, True, 1.5, ["LA31993-1", None]]
)
def test_screening_answers_of_another_shape_name_the_question(value):
    with pytest.raises(InvalidInput) as caught:
        ahc.validate_answers({"71802-3": value})
    assert list(caught.value.errors or {}) == ["71802-3"]
