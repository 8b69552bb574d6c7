"""The radius of the coordinator's "services for a need" page: the search's own limits, and
bad input a 400 naming ``radius_mi`` (the error page, or a problem document for JSON) —
never a 500. Both backends."""

from __future__ import annotations

import re
from datetime import date

import pytest

from carenet.accounts.models import Membership, User
from carenet.accounts.passwords import hash_password
from carenet.directory.models import Organization
from carenet.directory.search.params import MAX_RADIUS_MI, MIN_RADIUS_MI
from carenet.directory.service import ensure_taxonomy
from carenet.extensions import db
from carenet.referrals.models import Need, Patient

PASSWORD = "a long test passphrase"
BAD = ["abc", "inf", "-inf", "nan", "1e999", "%00", "-5", "0", "0.05", "100.5", "1000", "1,5"]


@pytest.fixture
def need_page(app):
    """A signed-in coordinator's client and the path of a need's services page."""
    with app.app_context():
        ensure_taxonomy()
        org = Organization(name="Mercy Clinic", kind="care")
        db.session.add(org)
        db.session.flush()
        user = User(email="coordinator@example.org", password_hash=hash_password(PASSWORD),
                    display_name="coordinator")  # fmt: skip
        user.memberships.append(Membership(organization_id=org.id, role="coordinator"))
        db.session.add(user)
        db.session.flush()
        patient = Patient(organization_id=org.id, given_name="Ana", family_name="Lopez",
                          birth_date=date(1950, 3, 4), postal_code="33130",
                          latitude=25.7617, longitude=-80.1918, created_by_id=user.id)  # fmt: skip
        db.session.add(patient)
        db.session.flush()
        need = Need(patient_id=patient.id, category="food-insecurity")
        db.session.add(need)
        db.session.commit()
        path = f"/patients/{patient.id}/needs/{need.id}/services"
    client = app.test_client()
    login = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"(?: type="hidden")? value="([^"]+)"', login).group(1)
    signed_in = client.post(
        "/login",
        data={"email": "coordinator@example.org", "password": PASSWORD, "csrf_token": token},
    )
    assert signed_in.status_code in (302, 303)
    return client, path


def test_a_bad_radius_is_a_400_naming_radius_mi(need_page):
    client, path = need_page
    for value in BAD:
        page = client.get(f"{path}?radius_mi={value}", headers={"Accept": "text/html"})
        assert page.status_code == 400, value
        assert page.mimetype == "text/html"
        assert "radius_mi" in page.get_data(as_text=True), value
        problem = client.get(f"{path}?radius_mi={value}", headers={"Accept": "application/json"})
        assert problem.status_code == 400, value
        assert problem.mimetype == "application/problem+json"
        assert list(problem.get_json()["errors"]) == ["radius_mi"], value


def test_a_radius_within_the_search_limits_is_searched(need_page):
    client, path = need_page
    for value in ("", "10", "2.5", str(MIN_RADIUS_MI), str(MAX_RADIUS_MI), " 25 "):
        page = client.get(f"{path}?radius_mi={value}", follow_redirects=True)
        assert page.status_code == 200, value
    assert client.get(path, follow_redirects=True).status_code == 200  # absent: the default
