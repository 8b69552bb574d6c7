"""The reports API and page: access, parameters, CSV equal to the page, no PHI."""

from __future__ import annotations

import csv
import io
import re
from functools import cache
from html import unescape

import pytest

from carenet.accounts import passwords
from carenet.accounts import service as accounts
from carenet.audit.models import AuditEvent
from carenet.directory.models import Organization
from carenet.extensions import db
from carenet.reports.service import release_months

PASSWORD = "a long test passphrase"
RANGE = "from=2026-01-01&to=2026-03-31"


@cache
def _hash() -> str:
    return passwords.hash_password(PASSWORD)


@pytest.fixture
def people(app, history_builder):
    """The history, a network with a program lead, and a coordinator of the care clinic."""
    with app.app_context():
        found = history_builder()
        network = Organization(name="Network", kind="network")
        db.session.add(network)
        db.session.flush()
        accounts.create_user(
            "lead@example.org", "", "program_lead", network.id, password_hash=_hash()
        )
        accounts.create_user(
            "coord@example.org", "", "coordinator", found.care, password_hash=_hash()
        )
        db.session.commit()
        return found


def _sign_in(client, email):
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    response = client.post(
        "/login", data={"email": email, "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 302
    return client


@pytest.fixture
def lead(app, people):
    with app.app_context():
        release_months(db.session())  # the scheduled job, as of now
    return _sign_in(app.test_client(), "lead@example.org")


def test_json_report(lead):
    response = lead.get(f"/api/v1/reports/unmet-needs?{RANGE}&group_by=domain")
    assert response.status_code == 200
    body = response.get_json()
    assert body["report"] == "unmet-needs"
    assert body["headers"][:3] == ["Domain", "Needs identified", "Met"]
    assert [row[0] for row in body["rows"]] == [
        "Food insecurity",
        "Housing instability",
        "Transportation insecurity",
    ]
    assert body["rows"][1] == ["Housing instability", "<11", "0", "<11", "0", "—"]


def test_every_report_has_a_csv_equal_to_the_page(lead):
    page = lead.get(f"/reports?{RANGE}&group_by=zip").get_data(as_text=True)
    for name in (
        "unmet-needs",
        "unmet-needs-trend",
        "referral-outcomes",
        "reasons",
        "time-to-close",
        "service-gaps",
    ):
        response = lead.get(f"/api/v1/reports/{name}.csv?{RANGE}&group_by=zip")
        assert response.status_code == 200, name
        assert response.mimetype == "text/csv"
        assert f'filename="{name}.csv"' in response.headers["Content-Disposition"]
        from_csv = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
        assert from_csv == _page_table(page, name), name


def _page_table(html: str, name: str) -> list[list[str]]:
    match = re.search(
        rf'<table class="report-table" data-report="{name}">(.*?)</table>', html, re.S
    )
    assert match, name
    rows = []
    for row in re.findall(r"<tr>(.*?)</tr>", match.group(1), re.S):
        cells = re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)
        if len(cells) > 1 or "Nothing in this period" not in row:
            rows.append([unescape(c) for c in cells])
    return rows


def test_csv_export_is_audited(app, lead):
    lead.get(f"/api/v1/reports/reasons.csv?{RANGE}")
    with app.app_context():
        event = db.session.scalar(db.select(AuditEvent).where(AuditEvent.action == "export"))
        assert (event.object_type, event.object_id) == ("aggregate_report", "reasons")


@pytest.mark.parametrize(
    "query, field",
    [
        ("from=2026-13-01", "from"),
        ("from=2026-03-01&to=2026-01-01", "from"),
        ("group_by=patient", "group_by"),
        ("period=fortnight", "period"),
        ("zip=331", "zip"),
    ],
)
def test_bad_parameters_are_a_400_naming_the_field(lead, query, field):
    response = lead.get(f"/api/v1/reports/unmet-needs?{query}")
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"
    assert field in response.get_json()["errors"]


def test_needs_cannot_be_grouped_by_cbo(lead):
    response = lead.get(f"/api/v1/reports/unmet-needs?{RANGE}&group_by=cbo")
    assert response.status_code == 400
    assert "group_by" in response.get_json()["errors"]


def test_unknown_report_is_404(lead):
    assert lead.get("/api/v1/reports/patients").status_code == 404


def test_dashboard_page_has_charts_and_no_person(lead):
    response = lead.get(f"/reports?{RANGE}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert html.count("<svg") >= 3 and 'href="/static/css/reports.css"' in html
    # Charts are plain SVG: no inline script or style (the CSP allows neither); the only
    # script is the site-wide external one that keeps a form through an expired session.
    scripts = re.findall(r"<script[^>]*>", html)
    assert scripts == ['<script src="/static/js/kept-form.js" defer>'] and "style=" not in html
    for secret in ("Person 0001", "Test Street", "1950-01-0"):
        assert secret not in html


def test_program_lead_cannot_reach_patients_or_referrals(app, lead):
    with app.app_context():
        from carenet.referrals.models import Patient, Referral

        patient_id = db.session.scalar(db.select(Patient.id))
        referral_id = db.session.scalar(db.select(Referral.id))
    for path in (
        f"/api/v1/patients/{patient_id}",
        f"/api/v1/referrals/{referral_id}",
        f"/api/v1/referrals/{referral_id}/events",
        "/api/v1/referrals?box=outbound",
    ):
        assert lead.get(path).status_code in (403, 404), path


def test_others_cannot_reach_reports(app, people):
    anonymous = app.test_client()
    assert anonymous.get("/api/v1/reports/unmet-needs").status_code == 401
    coordinator = _sign_in(app.test_client(), "coord@example.org")
    assert coordinator.get("/api/v1/reports/unmet-needs").status_code == 403
    assert coordinator.get("/api/v1/reports/unmet-needs.csv").status_code == 403
    assert coordinator.get("/reports").status_code == 403


def test_program_lead_reaches_no_patient_level_route(app, lead):
    """Every GET route about patients, needs, screenings, consents or referrals refuses a lead."""
    with app.app_context():
        from carenet.referrals.models import Need, Patient, Referral

        ids = {
            "patient_id": db.session.scalar(db.select(Patient.id)),
            "need_id": db.session.scalar(db.select(Need.id)),
            "referral_id": db.session.scalar(db.select(Referral.id)),
        }
    words = ("patient", "need", "screening", "consent", "referral", "inbox", "dashboard")
    checked = []
    for rule in app.url_map.iter_rules():
        path = rule.rule
        if "GET" not in rule.methods or path.startswith(("/api/v1/reports", "/reports")):
            continue
        if not any(w in path for w in words):
            continue
        values = {
            name: ids.get(name, "00000000-0000-4000-8000-000000000000") for name in rule.arguments
        }
        url = rule.build(values, append_unknown=False)[1]
        status = lead.get(url).status_code
        assert status in (403, 404), f"{url}: {status}"
        checked.append(url)
    assert any("/patients/" in u for u in checked) and any("/referrals/" in u for u in checked)


def test_ranges_are_snapped_to_whole_ended_months_and_echoed(lead):
    body = lead.get("/api/v1/reports/unmet-needs?from=2026-01-10&to=2026-02-03").get_json()
    assert (body["from"], body["to"]) == ("2026-01-01", "2026-02-28")
    assert body["suppressed"] == {"small": "<11", "complementary": "hidden"}
    for row, cells in zip(body["rows"], body["cells"], strict=True):
        for text, cell in zip(row, cells, strict=True):
            if text == "<11":
                assert cell == {"value": None, "suppressed": "small"}
            elif text == "hidden":
                assert cell == {"value": None, "suppressed": "complementary"}


@pytest.mark.parametrize(
    "query, field",
    [
        ("period=week", "period"),
        ("from=2027-06-01&to=2027-06-30", "to"),
        (f"domain=food-insecurity&zip=33101&{RANGE}", "zip"),
    ],  # fmt: skip
)
def test_unreleased_periods_and_details_are_a_400(lead, query, field):
    response = lead.get(f"/api/v1/reports/unmet-needs?{query}")
    assert response.status_code == 400
    assert field in response.get_json()["errors"]
