"""The coordinator's dashboard: filters (status, mine, overdue, declined), closed referrals
kept for 30 days, paging, patient links, refer elsewhere, the CBO's contact when overdue."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update

from carenet.db.paging import PageRequest
from carenet.db.types import utcnow
from carenet.errors import InvalidInput
from carenet.extensions import db
from carenet.referrals import workflow
from carenet.referrals.dashboard import RECENT_DAYS, DashboardFilter, dashboard
from carenet.referrals.models import Referral


def _ids(board):
    return [r.id for r, _ in board.rows.items]


def _age(referral, days):
    db.session.execute(
        update(Referral)
        .where(Referral.id == referral.id)
        .values(
            created_at=utcnow() - timedelta(days=days), updated_at=utcnow() - timedelta(days=days)
        )
    )
    db.session.commit()


def test_filters_by_status_mine_and_overdue(net, send):
    coordinator, staff = net.user("coordinator"), net.user("staff_a")
    fresh, late, declined = send(), send(service="waitlist"), send()
    workflow.transition(staff, declined.id, "rejected", declined.version, reason="not-eligible")
    _age(late, 10)
    everything = dashboard(coordinator)
    assert set(_ids(everything)) == {fresh.id, late.id, declined.id}
    assert _ids(everything)[0] == late.id  # overdue first
    assert everything.counts["requested"] == 2 and everything.recent["rejected"] == 1
    assert _ids(dashboard(coordinator, filters=DashboardFilter("rejected"))) == [declined.id]
    assert set(_ids(dashboard(coordinator, filters=DashboardFilter("open")))) == {fresh.id, late.id}
    assert _ids(dashboard(coordinator, filters=DashboardFilter(overdue=True))) == [late.id]
    db.session.execute(
        update(Referral).where(Referral.id == fresh.id).values(coordinator_id=net.users["admin"])
    )
    db.session.commit()
    mine = dashboard(coordinator, filters=DashboardFilter(mine=True))
    assert set(_ids(mine)) == {late.id, declined.id}
    assert mine.counts["requested"] == 1  # the counts follow "mine" too


def test_closed_referrals_stay_for_30_days_only(net, send):
    coordinator, staff = net.user("coordinator"), net.user("staff_a")
    recent, old = send(), send()
    for r in (recent, old):
        workflow.transition(staff, r.id, "rejected", r.version, reason="no-capacity")
    _age(old, RECENT_DAYS + 1)
    assert _ids(dashboard(coordinator)) == [recent.id]
    assert _ids(dashboard(coordinator, filters=DashboardFilter("rejected"))) == [recent.id]


def test_pages_reach_every_referral(net, send):
    sent = {send().id for _ in range(5)}
    coordinator = net.user("coordinator")
    seen = set()
    for number in (1, 2, 3):
        page = dashboard(coordinator, PageRequest(number, 2))
        assert page.rows.total == 5
        seen |= set(_ids(page))
    assert seen == sent


@pytest.mark.parametrize("raw", ["nonsense", "REQUESTED", "<script>", "x" * 300])
def test_an_unknown_status_names_the_field(raw):
    with pytest.raises(InvalidInput) as refused:
        DashboardFilter.from_args({"status": raw})
    assert list(refused.value.errors) == ["status"]


def test_declined_means_rejected_and_flags_read_words():
    assert DashboardFilter.from_args({"status": "declined", "mine": "1", "overdue": "on"}) == (
        DashboardFilter("rejected", True, True)
    )
    assert DashboardFilter.from_args({"mine": "no"}) == DashboardFilter()


def test_the_page_links_patients_offers_refer_elsewhere_and_the_contact(app, api_net, signed_in):
    from factories import PhoneFactory

    from carenet.directory.models import Organization
    from carenet.referrals.service import ReferralRequest, send_referral

    with app.app_context():
        coordinator = api_net.user("coordinator")
        declined = send_referral(
            coordinator,
            ReferralRequest(api_net.patient, api_net.services["open"], category="food-insecurity"),
        ).referral
        workflow.transition(
            api_net.user("staff_a"), declined.id, "rejected", declined.version, reason="no-capacity"
        )
        late = send_referral(
            coordinator,
            ReferralRequest(
                api_net.patient, api_net.services["b"], category="transportation-insecurity"
            ),
        ).referral
        _age(late, 10)
        org = db.session.get(Organization, api_net.orgs["cbo_b"])
        org.email = "desk@rides.example.org"
        PhoneFactory(service=None, organization_id=org.id, number="305-555-0142")
        db.session.commit()
    client = signed_in("coordinator")
    page = client.get("/dashboard").get_data(as_text=True)
    assert f'href="/patients/{api_net.patient}"' in page
    assert "Refer elsewhere" in page and "category=food-insecurity" in page
    assert "desk@rides.example.org" in page and "305-555-0142" in page
    assert client.get("/dashboard?status=declined").status_code == 200
    bad = client.get("/dashboard?status=bogus", headers={"Accept": "application/json"})
    assert bad.status_code == 400 and "status" in bad.get_json()["errors"]
