"""Possible duplicates are shown before a patient is created (same name and birth date,
and close variants), with a "create anyway"; a second open referral of the same patient to
the same service is shown, with a link, before it is sent."""

from __future__ import annotations

import re
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from carenet.extensions import db
from carenet.referrals import patients
from carenet.referrals.models import Patient, Referral


@pytest.mark.parametrize(
    ("given_name", "family_name", "birth_date"),
    [
        ("Ana", "Lopez", date(1950, 3, 4)),  # the same
        ("ANA", "lopez", date(1950, 3, 4)),  # case
        ("Ána", "López", date(1950, 3, 4)),  # accents
        ("Ana", "Lopez", date(1950, 4, 3)),  # day and month swapped
        ("Anna", "Lopes", date(1950, 3, 4)),  # a letter or two
        ("Lopez", "Ana", date(1950, 3, 4)),  # given and family swapped
        ("A", "Lopez", date(1950, 3, 4)),  # an initial
    ],
)
def test_close_variants_are_possible_duplicates(net, given_name, family_name, birth_date):
    found = patients.find_duplicates(net.orgs["care"], given_name, family_name, birth_date)
    assert [p.id for p in found] == [net.patient]


@pytest.mark.parametrize(
    ("given_name", "family_name", "birth_date"),
    [
        ("Ana", "Lopez", date(1951, 3, 4)),  # another year
        ("Bruno", "Lopez", date(1950, 3, 4)),  # another given name
        ("Ana", "Smith", date(1950, 3, 4)),  # another family name
    ],
)
def test_other_people_are_not(net, given_name, family_name, birth_date):
    assert patients.find_duplicates(net.orgs["care"], given_name, family_name, birth_date) == []


@settings(max_examples=60, deadline=None)
@given(
    a=st.text(max_size=40), b=st.text(max_size=40), c=st.text(max_size=40), d=st.text(max_size=40)
)
def test_similar_names_never_fails_and_is_symmetric_for_equal_input(a, b, c, d):
    patients.similar_names(a, b, c, d)
    assert patients.similar_names(a, b, a, b)


def csrf_from(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html) or re.search(
        r'name="csrf_token" type="hidden" value="([^"]+)"', html
    )
    assert match, html[:300]
    return match.group(1)


def _form(client, path):
    return csrf_from(client.get(path).get_data(as_text=True))


def test_the_page_shows_duplicates_before_creating_then_creates_anyway(app, api_net, signed_in):
    client = signed_in("coordinator")
    token = _form(client, "/patients/new")
    data = {"csrf_token": token, "given_name": "ána", "family_name": "LOPEZ",
            "birth_date": "1950-04-03", "postal_code": "33130"}  # fmt: skip
    shown = client.post("/patients/new", data=data)
    page = shown.get_data(as_text=True)
    assert shown.status_code == 200 and "may already be registered" in page
    assert f'href="/patients/{api_net.patient}"' in page
    assert 'value="LOPEZ"' in page  # the form keeps what was typed
    with app.app_context():
        count = db.session.scalar(select(func.count()).select_from(Patient))
    assert count == 2  # nothing created yet
    created = client.post("/patients/new", data={**data, "create_anyway": "1"})
    assert created.status_code == 302 and "/patients/" in created.headers["Location"]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Patient)) == 3


def test_from_the_referral_form_a_new_patient_returns_to_it(app, api_net, signed_in):
    client = signed_in("coordinator")
    service_id = api_net.services["open"]
    token = _form(client, f"/patients/new?service_id={service_id}")
    created = client.post(
        "/patients/new",
        data={"csrf_token": token, "service_id": service_id, "given_name": "Zoe",
              "family_name": "Park", "birth_date": "1990-01-20"},
    )  # fmt: skip
    assert created.status_code == 302
    assert created.headers["Location"].startswith(f"/referrals/new?service_id={service_id}")
    assert "patient_id=" in created.headers["Location"]


def test_a_second_open_referral_to_the_same_service_is_shown_first(app, api_net, signed_in):
    client = signed_in("coordinator")
    service_id, patient_id = api_net.services["open"], api_net.patient
    form_path = f"/referrals/new?service_id={service_id}&patient_id={patient_id}"
    form = client.get(form_path).get_data(as_text=True)
    assert "already has an open referral" not in form
    key = re.search(r'name="idempotency_key" value="([^"]+)"', form).group(1)
    data = {"csrf_token": csrf_from(form), "idempotency_key": key, "patient_id": patient_id,
            "service_id": service_id, "category": "food-insecurity"}  # fmt: skip
    first = client.post("/referrals/new", data=data)
    assert first.status_code == 302 and "/referrals/" in first.headers["Location"]
    first_id = first.headers["Location"].rstrip("/").split("/")[-1]

    again = client.get(form_path).get_data(as_text=True)
    assert "already has an open referral" in again and f'href="/referrals/{first_id}"' in again
    key2 = re.search(r'name="idempotency_key" value="([^"]+)"', again).group(1)
    refused = client.post("/referrals/new", data={**data, "idempotency_key": key2})
    assert refused.status_code == 302
    assert refused.headers["Location"].startswith("/referrals/new?")
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Referral)) == 1
    anyway = client.post(
        "/referrals/new", data={**data, "idempotency_key": key2, "send_anyway": "1"}
    )
    assert anyway.status_code == 302 and anyway.headers["Location"] != first.headers["Location"]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Referral)) == 2


def test_the_picker_finds_patients_by_name_and_birth_date(app, api_net, signed_in):
    client = signed_in("coordinator")
    service_id = api_net.services["open"]
    for query in ("lopez", "Ana Lopez", "1950-03-04", "03/04/1950"):
        page = client.get(f"/referrals/new?service_id={service_id}&patient_q={query}")
        html = page.get_data(as_text=True)
        assert page.status_code == 200 and f"patient_id={api_net.patient}" in html, query
        rows = client.get(f"/patients/lookup?q={query}").get_json()["patients"]
        assert [r["id"] for r in rows] == [api_net.patient], query
        assert set(rows[0]) == {"id", "name", "birth_date"}
    assert client.get("/patients/lookup?q=nobody").get_json() == {"patients": []}
    # Another organization's coordinator never finds them; CBO staff may not look.
    other = signed_in("coordinator_other").get("/patients/lookup?q=lopez").get_json()
    assert other == {"patients": []}
    assert signed_in("staff_a").get("/patients/lookup?q=lopez").status_code == 403
    too_long = client.get("/patients/lookup?q=" + "x" * 101, headers={"Accept": "application/json"})
    assert too_long.status_code == 400 and "patient_q" in too_long.get_json()["errors"]
