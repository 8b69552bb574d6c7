"""Regression tests of issue 12's findings: bad input is a 400 (or 413) naming what is
wrong, never a 500 — on both backends. The fuzz test (test_fuzz_inputs.py) looks wider."""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from seeded_world import World, seed

from carenet.extensions import db
from carenet.referrals.models import Referral
from carenet.reports.service import REPORTS, release_months
from carenet.validation import DEFAULT_MAX_CONTENT_LENGTH, MAX_JSON_DEPTH

EXTREME = "9999-12-31T23:59:59-14:00"


@pytest.fixture
def world(app: Flask) -> World:
    return seed(app)


def _auth(world: World, role: str) -> dict[str, str]:
    return world.headers[role]


def _problem(response: Any, status: int = 400) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["status"] == status
    return body


def _names(response: Any, *fields: str) -> None:
    errors = _problem(response)["errors"]
    for name in fields:
        assert name in errors, errors


def _post_json(client: FlaskClient, path: str, headers: dict[str, str], raw: bytes) -> Any:
    return client.post(path, data=raw, content_type="application/json", headers=headers)


# --- size, nesting, malformed JSON ------------------------------------------------------


def test_a_body_over_the_limit_is_413_problem_for_the_api_and_a_page_for_html(app, world):
    assert app.config["MAX_CONTENT_LENGTH"] == DEFAULT_MAX_CONTENT_LENGTH
    client = app.test_client()
    big = json.dumps({"body": "x" * (DEFAULT_MAX_CONTENT_LENGTH + 1)}).encode()
    referral = world.ids["referral_id"][0]
    response = _post_json(
        client, f"/api/v1/referrals/{referral}/notes", _auth(world, "coordinator"), big
    )
    _problem(response, 413)

    form = b"body=" + b"x" * (DEFAULT_MAX_CONTENT_LENGTH + 1)
    response = client.post(
        f"/referrals/{referral}/notes",
        data=form,
        content_type="application/x-www-form-urlencoded",
        headers=_auth(world, "coordinator"),
    )
    assert response.status_code == 413
    assert response.mimetype == "text/html"


def test_the_size_limit_is_configurable(app, world):
    app.config["MAX_CONTENT_LENGTH"] = 1000
    response = _post_json(
        app.test_client(),
        "/api/v1/referrals",
        _auth(world, "coordinator"),
        json.dumps({"category": "x" * 2000}).encode(),
    )
    _problem(response, 413)


@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 1, 5000])
def test_json_nested_too_deep_is_400_naming_the_body(app, world, depth):
    raw = b"[" * depth + b"]" * depth
    response = _post_json(app.test_client(), "/api/v1/patients", _auth(world, "coordinator"), raw)
    body = _problem(response)
    assert "body" in body["errors"]
    assert str(MAX_JSON_DEPTH) in body["errors"]["body"][0]


def test_json_nested_within_the_limit_reaches_the_schema(app, world):
    raw = json.dumps({"given_name": [[[["deep"]]]]}).encode()
    response = _post_json(app.test_client(), "/api/v1/patients", _auth(world, "coordinator"), raw)
    _names(response, "given_name")


@pytest.mark.parametrize("raw", [b"{", b'{"a": 1,}', b"\xff\xfe{", b'{"v": ' + b"9" * 5000 + b"}"])
def test_malformed_json_is_400_naming_the_body(app, world, raw):
    response = _post_json(app.test_client(), "/api/v1/patients", _auth(world, "coordinator"), raw)
    _names(response, "body")


@pytest.mark.parametrize("literal", [b"NaN", b"Infinity", b"-Infinity", b"1e999"])
def test_non_finite_json_numbers_are_400_naming_the_field(app, world, literal):
    referral = world.ids["referral_id"][0]
    raw = b'{"to": "accepted", "version": ' + literal + b"}"
    response = _post_json(
        app.test_client(),
        f"/api/v1/referrals/{referral}/transitions",
        _auth(world, "cbo_staff"),
        raw,
    )
    _names(response, "version")


def test_a_huge_integer_version_is_400(app, world):
    referral = world.ids["referral_id"][0]
    raw = json.dumps({"to": "accepted", "version": 10**30}).encode()
    response = _post_json(
        app.test_client(),
        f"/api/v1/referrals/{referral}/transitions",
        _auth(world, "cbo_staff"),
        raw,
    )
    _names(response, "version")


# --- text: lone surrogates and NUL ------------------------------------------------------


@pytest.mark.parametrize("text", ["\ud800", "Ana\udfff", "A\x00na"])
def test_bad_text_in_a_json_string_is_400_naming_the_field(app, world, text):
    raw = json.dumps(
        {"given_name": text, "family_name": "Lopez", "birth_date": "1950-03-04"}
    ).encode()
    response = _post_json(app.test_client(), "/api/v1/patients", _auth(world, "coordinator"), raw)
    _names(response, "given_name")


def test_bad_text_in_a_nested_json_key_is_400_naming_its_path(app, world):
    patient = world.ids["patient_id"][0]
    raw = b'{"answers": {"71802-3\\u0000": "LA31993-1"}}'
    response = _post_json(
        app.test_client(),
        f"/api/v1/patients/{patient}/screenings",
        _auth(world, "coordinator"),
        raw,
    )
    errors = _problem(response)["errors"]
    assert any(name.startswith("answers.71802-3") for name in errors), errors


def test_nul_in_a_query_parameter_is_400_naming_it(app, world):
    response = app.test_client().get("/api/v1/services/search?near=33130&q=food%00")
    _names(response, "q")


def test_nul_in_a_form_field_is_400_on_the_page(app, world):
    referral = world.ids["referral_id"][0]
    response = app.test_client().post(
        f"/referrals/{referral}/notes",
        data={"body": "call\x00back"},
        headers=_auth(world, "coordinator"),
    )
    assert response.status_code == 400
    assert b"body" in response.data


def test_nul_in_a_path_parameter_is_400(app, world):
    response = app.test_client().get(
        "/api/v1/patients/abc%00def", headers=_auth(world, "coordinator")
    )
    _names(response, "patient_id")


def test_invalid_utf8_in_a_query_is_read_as_replacement_characters(app, world):
    response = app.test_client().get("/api/v1/services/search?near=33130&q=%ED%A0%80")
    assert response.status_code == 200


# --- timestamps and dates -----------------------------------------------------------------


@pytest.mark.parametrize("value", [EXTREME, "0001-01-01T00:00:00+14:00", "1899-12-31T00:00"])
def test_consent_timestamps_out_of_range_are_400(app, world, value):
    patient = world.ids["patient_id"][0]
    client = app.test_client()
    for name in ("starts_at", "expires_at"):
        raw = json.dumps({"method": "verbal", name: value}).encode()
        response = _post_json(
            client, f"/api/v1/patients/{patient}/consents", _auth(world, "coordinator"), raw
        )
        _names(response, name)


def test_consent_timestamps_within_range_are_taken(app, world):
    patient = world.ids["patient_id"][0]
    raw = json.dumps(
        {"method": "verbal", "starts_at": "2026-01-01T00:00:00-14:00", "historical": True}
    ).encode()
    response = _post_json(
        app.test_client(),
        f"/api/v1/patients/{patient}/consents",
        _auth(world, "coordinator"),
        raw,
    )
    assert response.status_code == 201, response.get_json()


@pytest.mark.parametrize(
    "query, field",
    [("to=9999-12-31", "to"), ("from=0001-01-01", "from"), (f"to={EXTREME}", "to")],
)
def test_report_dates_out_of_range_are_400(app, world, query, field):
    response = app.test_client().get(
        f"/api/v1/reports/time-to-close?{query}", headers=_auth(world, "program_lead")
    )
    _names(response, field)


@pytest.mark.parametrize("value", ["9999-12-31T23:59:59-14:00", "0001-01-01T00:00", "1800-01-01"])
def test_search_open_at_out_of_range_is_400(app, world, value):
    response = app.test_client().get(
        "/api/v1/services/search", query_string={"near": "33130", "open_at": value}
    )
    _names(response, "open_at")


@pytest.mark.parametrize("name", ["since", "until"])
def test_audit_dates_out_of_range_are_400(app, world, name):
    response = app.test_client().get(
        f"/admin/audit?{name}=9999-12-31", headers=_auth(world, "admin")
    )
    assert response.status_code == 400


def test_follow_up_and_birth_dates_out_of_range_are_400(app, world):
    client = app.test_client()
    coordinator = _auth(world, "coordinator")
    raw = json.dumps(
        {
            "patient_id": world.ids["patient_id"][0],
            "service_id": world.ids["service_id"][0],
            "category": "food-insecurity",
            "follow_up_on": "9999-12-31",
        }
    ).encode()
    _names(_post_json(client, "/api/v1/referrals", coordinator, raw), "follow_up_on")
    raw = json.dumps(
        {"given_name": "Ana", "family_name": "Old", "birth_date": "0001-01-01"}
    ).encode()
    _names(_post_json(client, "/api/v1/patients", coordinator, raw), "birth_date")


# --- numbers --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, value",
    [
        ("page", "1e999"),
        ("per_page", "nan"),
        ("radius_mi", "inf"),
        ("radius_mi", "1e999"),
        ("lat", "nan"),
        ("age", "1e999"),
        ("page", "99999999999999999999999"),
    ],
)
def test_search_numbers_must_be_finite_and_in_range(app, world, name, value):
    query: dict[str, str] = {"lat": "25.77", "lon": "-80.19", name: value}
    response = app.test_client().get("/api/v1/services/search", query_string=query)
    _names(response, name)


# --- screening answers ------------------------------------------------------------------


@pytest.mark.parametrize(
    "answer",
    [{"code": "LA31993-1"}, [["LA31993-1"]], [{"a": 1}], 7, True, ["LA31993-1", "LA31994-9"]],
)
def test_screening_answers_of_the_wrong_shape_are_400_naming_the_question(app, world, answer):
    patient = world.ids["patient_id"][0]
    raw = json.dumps({"answers": {"71802-3": answer}}).encode()
    response = _post_json(
        app.test_client(),
        f"/api/v1/patients/{patient}/screenings",
        _auth(world, "coordinator"),
        raw,
    )
    _names(response, "71802-3")


def test_screening_multiple_answers_with_a_nested_list_is_400(app, world):
    patient = world.ids["patient_id"][0]
    raw = json.dumps({"answers": {"96778-6": ["LA28580-1", ["LA31996-4"]]}}).encode()
    response = _post_json(
        app.test_client(),
        f"/api/v1/patients/{patient}/screenings",
        _auth(world, "coordinator"),
        raw,
    )
    _names(response, "96778-6")


# --- reports that match nothing -------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(REPORTS))
def test_a_report_filtered_to_nothing_is_an_empty_table(app, world, name):
    with app.app_context():  # what the scheduled `carenet reports release` does
        release_months(db.session())  # the world's referrals are this month's: nothing ends
    client = app.test_client()
    lead = _auth(world, "program_lead")
    response = client.get(f"/api/v1/reports/{name}?zip=99999", headers=lead)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    table = response.get_json()
    # A trend keeps one row per released month (docs/reports.md), every count 0; the others
    # have no rows at all.
    for row in table["rows"]:
        assert set(row[1:]) <= {"0"}, row
    if name != "unmet-needs-trend":
        assert table["rows"] == []
    if table["totals"] is None:  # no month of the window released yet: the note names them
        assert "pending" in table["note"]
    else:
        assert len(table["totals"]) == len(table["headers"])
    response = client.get(f"/api/v1/reports/{name}.csv?zip=99999", headers=lead)
    assert response.status_code == 200


def test_the_report_page_filtered_to_nothing_is_shown(app, world):
    client, lead = app.test_client(), _auth(world, "program_lead")
    assert client.get("/reports?zip=99999", headers=lead).status_code == 200
    assert client.get("/reports?cbo=nobody", headers=lead).status_code == 200
    # Reports are released with one filter at a time (docs/reports.md): two are a 400, not a 500.
    assert client.get("/reports?zip=99999&cbo=nobody", headers=lead).status_code == 400


# --- referral category and text sizes ---------------------------------------------------


def _referral(world: World, **fields: Any) -> bytes:
    body = {"patient_id": world.ids["patient_id"][0], "service_id": world.ids["service_id"][0]}
    return json.dumps({**body, **fields}).encode()


@pytest.mark.parametrize("category", ["teleportation", "Food insecurity", "x" * 100_000, 12])
def test_a_referral_category_outside_the_vocabulary_is_400(app, world, category):
    client = app.test_client()
    raw = _referral(world, category=category)
    _names(_post_json(client, "/api/v1/referrals", _auth(world, "coordinator"), raw), "category")
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(Referral)) == 1


def test_a_ten_megabyte_category_is_refused_before_it_is_read(app, world):
    raw = _referral(world, category="x" * 10_000_000)
    response = _post_json(app.test_client(), "/api/v1/referrals", _auth(world, "coordinator"), raw)
    _problem(response, 413)


def test_a_referral_category_of_the_vocabulary_is_sent(app, world):
    raw = _referral(world, category="utility-insecurity")
    response = _post_json(app.test_client(), "/api/v1/referrals", _auth(world, "coordinator"), raw)
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["category"] == "utility-insecurity"


@pytest.mark.parametrize(
    "path_of, field, body",
    [
        ("/api/v1/referrals", "note", {"category": "food-insecurity", "note": "x" * 5001}),
        ("/api/v1/referrals", "patient_id", {"patient_id": "x" * 65}),
        ("notes", "body", {"body": "x" * 5001}),
        ("revoke", "note", {"note": "x" * 2001}),
        ("patients", "given_name", {"given_name": "x" * 129}),
    ],
)
def test_free_text_over_its_limit_is_400(app, world, path_of, field, body):
    paths = {
        "notes": f"/api/v1/referrals/{world.ids['referral_id'][0]}/notes",
        "revoke": f"/api/v1/consents/{world.ids['consent_id'][0]}/revoke",
        "patients": "/api/v1/patients",
    }
    path = paths.get(path_of, path_of)
    raw = _referral(world, **body) if path == "/api/v1/referrals" else json.dumps(body).encode()
    response = _post_json(app.test_client(), path, _auth(world, "coordinator"), raw)
    _names(response, field)
