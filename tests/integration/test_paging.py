"""Paging everywhere a list can grow: true totals, every row once, controls that keep filters.

Rows come from factory_boy; every test runs on SpatiaLite and PostGIS.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from factories import PASSWORD, PatientFactory, ReferralFactory
from integration.referrals.conftest import Net, build_net, csrf_from
from sqlalchemy import func, select

from carenet.audit.models import AuditEvent
from carenet.db.types import utcnow
from carenet.directory.models import Organization, Service
from carenet.extensions import db
from carenet.referrals.models import Patient

N = 23
OVERDUE = 5


@pytest.fixture
def net(app):
    with app.app_context():
        return build_net()


def _referrals(app, net: Net, n: int = N, overdue: int = OVERDUE) -> list[str]:
    """``n`` open referrals from the coordinator's clinic to CBO A; the first ``overdue`` of
    them requested ten days ago (overdue), the others in the last hour. Their ids."""
    with app.app_context():
        patient = db.session.get(Patient, net.patient)
        care = db.session.get(Organization, net.orgs["care"])
        cbo = db.session.get(Organization, net.orgs["cbo_a"])
        service = db.session.get(Service, net.services["open"])
        now = utcnow()
        made = [
            ReferralFactory(
                need=None,
                patient=patient,
                sender_organization=care,
                recipient_organization=cbo,
                service_id=service.id,
                service_name=service.name,
                coordinator_id=net.users["coordinator"],
                created_at=now
                - (timedelta(days=10, minutes=i) if i < overdue else timedelta(minutes=i)),
                updated_at=now,
            )
            for i in range(n)
        ]
        db.session.commit()
        return [r.id for r in made]


def _client(app, net: Net, name: str):
    client = app.test_client()
    token = csrf_from(client.get("/login").get_data(as_text=True))
    response = client.post(
        "/login", data={"email": net.emails[name], "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code in (302, 303)
    return client


def _token(app, net: Net, name: str) -> dict[str, str]:
    from carenet.accounts import service as accounts
    from carenet.accounts.models import User

    with app.app_context():
        _, token = accounts.create_api_token(db.session.get(User, net.users[name]), "tests")
        db.session.commit()
    return {"Authorization": f"Bearer {token}"}


def _list_audits(app) -> int:
    with app.app_context():
        stmt = select(func.count()).where(AuditEvent.action == "list")
        return int(db.session.scalar(stmt) or 0)


# --- the API ----------------------------------------------------------------------------


def test_api_referral_pages_hold_every_row_once_and_the_true_total(app, net):
    ids = _referrals(app, net)
    client, auth = app.test_client(), _token(app, net, "staff_a")
    seen: list[str] = []
    for number, size in ((1, 10), (2, 10), (3, 3)):
        before = _list_audits(app)
        response = client.get(
            f"/api/v1/referrals?box=inbound&per_page=10&page={number}", headers=auth
        )
        assert response.status_code == 200, response.get_data(as_text=True)
        body = response.get_json()
        assert body["total_items"] == N
        assert body["total_pages"] == 3
        assert body["page_number"] == number
        assert body["size"] == size == len(body["contents"])
        assert body["first_page"] is (number == 1)
        assert body["last_page"] is (number == 3)
        assert body["empty"] is False
        seen += [item["id"] for item in body["contents"]]
        assert _list_audits(app) == before + 1  # one audit row per page
    assert len(seen) == len(set(seen)) == N
    assert set(seen) == set(ids)
    # Overdue first (all five on page 1), then newest first.
    assert set(seen[:OVERDUE]) == set(ids[:OVERDUE])
    assert seen[OVERDUE:] == ids[OVERDUE:]


def test_api_referral_list_is_not_cut_at_a_fixed_length(app, net):
    _referrals(app, net, n=120, overdue=0)
    auth = _token(app, net, "coordinator")
    body = app.test_client().get("/api/v1/referrals?per_page=100&page=2", headers=auth).get_json()
    assert (body["total_items"], body["total_pages"], body["size"]) == (120, 2, 20)


def test_api_a_page_past_the_end_is_empty_with_the_true_total(app, net):
    _referrals(app, net)
    auth = _token(app, net, "staff_a")
    body = (
        app.test_client()
        .get("/api/v1/referrals?box=inbound&per_page=10&page=4", headers=auth)
        .get_json()
    )
    assert body["contents"] == []
    assert body["empty"] is True and body["last_page"] is True
    assert (body["total_items"], body["total_pages"], body["page_number"]) == (N, 3, 4)


def test_api_default_page_size(app, net):
    _referrals(app, net, n=30, overdue=0)
    auth = _token(app, net, "staff_a")
    body = app.test_client().get("/api/v1/referrals?box=inbound", headers=auth).get_json()
    assert (body["total_items"], body["total_pages"], body["size"]) == (30, 2, 25)


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("per_page=0", "per_page"),
        ("per_page=101", "per_page"),
        ("per_page=abc", "per_page"),
        ("per_page=1.5", "per_page"),
        ("per_page=1e2", "per_page"),
        ("per_page=-1", "per_page"),
        ("per_page=inf", "per_page"),
        ("per_page=NaN", "per_page"),
        ("per_page=", "per_page"),
        ("per_page=9999999999999999999999", "per_page"),
        ("page=0", "page"),
        ("page=x", "page"),
        ("page=100001", "page"),
    ],
)
def test_api_bad_paging_is_a_400_naming_the_field(app, net, query, field):
    auth = _token(app, net, "staff_a")
    response = app.test_client().get(f"/api/v1/referrals?box=inbound&{query}", headers=auth)
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"
    assert field in response.get_json()["errors"]


# --- the pages --------------------------------------------------------------------------

_REFERRAL_LINK = re.compile(r'href="/referrals/([0-9a-f-]{36})"')
_PATIENT_LINK = re.compile(r'href="/patients/([0-9a-f-]{36})"')


def _html(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return response.get_data(as_text=True)


def test_patients_page_by_page_with_controls_that_keep_the_search(app, net):
    with app.app_context():
        for _ in range(N):
            PatientFactory(organization=db.session.get(Organization, net.orgs["care"]))
        db.session.commit()
    client = _client(app, net, "coordinator")
    first = _html(client, "/patients?q=person&per_page=10")
    assert "<strong>23</strong> patients · page 1 of 3" in first
    assert 'rel="next"' in first and 'rel="prev"' not in first
    next_link = re.search(r'rel="next" href="([^"]+)"', first).group(1).replace("&amp;", "&")
    assert "q=person" in next_link and "per_page=10" in next_link and "page=2" in next_link
    pages = [_PATIENT_LINK.findall(first)]
    for number in (2, 3):
        html = _html(client, f"/patients?q=person&per_page=10&page={number}")
        assert f"page {number} of 3" in html
        pages.append(_PATIENT_LINK.findall(html))
    assert [len(p) for p in pages] == [10, 10, 3]
    everyone = [pid for page in pages for pid in page]
    assert len(set(everyone)) == N
    assert 'rel="next"' not in html and 'rel="prev"' in html
    # Ana Lopez and Ben Ng as well, without the search: 25.
    assert "<strong>25</strong> patients" in _html(client, "/patients")
    past = _html(client, "/patients?per_page=10&page=9")
    assert "page 9 of 3" in past and _PATIENT_LINK.findall(past) == []
    assert client.get("/patients?per_page=500").status_code == 400


def test_inbox_sections_show_their_first_rows_and_link_to_all(app, net):
    ids = _referrals(app, net)
    client = _client(app, net, "staff_a")
    inbox = _html(client, "/inbox")
    assert "New <small>(18)</small>" in inbox
    assert "Overdue <small>(5)</small>" in inbox
    assert 'href="/inbox/new"' in inbox and "Show all 18 new" in inbox
    assert 'href="/inbox/overdue"' not in inbox  # all five fit
    assert len(_REFERRAL_LINK.findall(inbox)) == OVERDUE + 10
    seen = []
    for number in (1, 2):
        html = _html(client, f"/inbox/new?page={number}&per_page=10")
        assert f"<strong>18</strong> referrals · page {number} of 2" in html
        seen += _REFERRAL_LINK.findall(html)
    assert seen == ids[OVERDUE:]
    assert client.get("/inbox/elsewhere").status_code == 404


def test_dashboard_counts_everything_and_pages_the_rows(app, net):
    ids = _referrals(app, net)
    client = _client(app, net, "coordinator")
    first = _html(client, "/dashboard?per_page=10")
    assert "<strong>23</strong> requested" in first
    # The list holds open referrals and those closed in the last 30 days (docs/coordinator-day.md).
    assert "<strong>23</strong> referrals · page 1 of 3" in first
    seen = []
    for number in (1, 2, 3):
        seen += _REFERRAL_LINK.findall(_html(client, f"/dashboard?per_page=10&page={number}"))
    assert len(seen) == len(set(seen)) == N and set(seen) == set(ids)


def test_patient_page_pages_its_referrals(app, net):
    _referrals(app, net, n=12, overdue=0)
    client = _client(app, net, "coordinator")
    html = _html(client, f"/patients/{net.patient}?per_page=5&page=3")
    assert "<strong>12</strong> referrals · page 3 of 3" in html
    assert len(_REFERRAL_LINK.findall(html)) == 2


def test_audit_log_users_and_stale_services_page(app, net):
    _referrals(app, net, n=3)
    auth = _token(app, net, "staff_a")
    for _ in range(3):  # list events to page through
        app.test_client().get("/api/v1/referrals?box=inbound", headers=auth)
    client = _client(app, net, "admin")
    audit = _html(client, "/admin/audit?action=list&per_page=2")
    total = int(re.search(r"<strong>(\d+)</strong> events", audit).group(1))
    assert total >= 3
    next_link = re.search(r'rel="next" href="([^"]+)"', audit).group(1).replace("&amp;", "&")
    assert "action=list" in next_link and "page=2" in next_link
    users = _html(client, "/admin/users?per_page=3")
    assert "<strong>7</strong> users · page 1 of 3" in users
    emails = [
        e
        for n in (1, 2, 3)
        for e in re.findall(
            r"<td>(\w+@example\.org)</td>", _html(client, f"/admin/users?per_page=3&page={n}")
        )
    ]
    assert len(emails) == len(set(emails)) == 7
    stale = _html(client, "/curation/stale?per_page=2")
    assert "<strong>4</strong> stale services · page 1 of 2" in stale
    services = _html(client, "/curation/?per_page=3&page=2")
    assert "page 2 of 2" in services
    assert client.get("/admin/audit?per_page=0").status_code == 400
