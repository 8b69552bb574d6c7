"""A patient's plan: needs → referrals → status and follow-up (settable), and the printed
plan in plain English and Spanish with how to reach each service and when it is open."""

from __future__ import annotations

import re
from datetime import time, timedelta

import pytest
from factories import OrganizationFactory, ServiceFactory
from hypothesis import given, settings
from hypothesis import strategies as st

from carenet.db.types import utcnow
from carenet.directory.search.hours_words import clock, describe
from carenet.directory.search.opening_hours import OpeningRule
from carenet.errors import InvalidInput, NotAllowed, NotFound
from carenet.extensions import db
from carenet.referrals import plan, workflow
from carenet.referrals.models import Referral
from carenet.referrals.overdue import zone
from carenet.referrals.service import ReferralRequest, send_referral
from carenet.referrals.timeutil import local_today


def _clinic_service():
    org = OrganizationFactory(name="Harbor Meals")
    return ServiceFactory(
        organization=org, name="Hot lunches", phones=("305-555-0111",),
        schedules=[{"byday": "MO,TU,WE,TH,FR", "opens_at": time(9), "closes_at": time(17)}],
    )  # fmt: skip


def test_hours_in_words_in_english_and_spanish():
    weekdays = OpeningRule(frozenset(range(5)), None, 9 * 60, 17 * 60)
    saturday = OpeningRule(frozenset({5}), None, 10 * 60, 12 * 60 + 30)
    assert describe([weekdays, saturday]) == [
        "Monday to Friday, 9 AM to 5 PM",
        "Saturday, 10 AM to 12:30 PM",
    ]
    assert describe([weekdays, saturday], "es") == [
        "Lunes a viernes, 9:00 a 17:00",
        "Sábado, 10:00 a 12:30",
    ]
    assert describe([OpeningRule(None, None, 0, 1440)]) == ["Every day, all day"]
    assert describe([OpeningRule(frozenset({0, 2}), None, 720, 780)]) == [
        "Monday and Wednesday, noon to 1 PM"
    ]


@settings(max_examples=100, deadline=None)
@given(
    days=st.frozensets(st.integers(0, 6), min_size=1),
    opens=st.integers(0, 1439),
    closes=st.integers(1, 1440),
    lang=st.sampled_from(["en", "es", "xx"]),
)
def test_any_weekly_rule_reads_as_one_sentence(days, opens, closes, lang):
    lines = describe([OpeningRule(days, None, opens, closes)], lang)
    assert len(lines) == 1 and lines[0] and lines[0][0].isupper()
    assert clock(opens, lang)


def test_the_plan_groups_referrals_under_their_need(net, send):
    coordinator = net.user("coordinator")
    food, rides = send(), send(service="b", category="transportation-insecurity")
    found = plan.patient_plan(coordinator, net.patient)
    by_category = {n.category: [i.referral.id for i in n.items] for n in found.needs}
    assert by_category == {"food-insecurity": [food.id], "transportation-insecurity": [rides.id]}
    with pytest.raises(NotFound):  # another organization's patient
        plan.patient_plan(net.user("coordinator_other"), net.patient)


def test_follow_up_dates_are_checked(net, send):
    coordinator = net.user("coordinator")
    referral = send()
    today = local_today(utcnow(), zone())
    assert plan.set_follow_up(coordinator, referral.id, today + timedelta(days=3)).follow_up_on
    for wrong in (today - timedelta(days=30), today + timedelta(days=400)):
        with pytest.raises(InvalidInput) as refused:
            plan.set_follow_up(coordinator, referral.id, wrong)
        assert list(refused.value.errors) == ["follow_up_on"]
    assert plan.set_follow_up(coordinator, referral.id, None).follow_up_on is None
    with pytest.raises((NotAllowed, NotFound)):  # not the receiving CBO's to set
        plan.set_follow_up(net.user("staff_a"), referral.id, today)
    workflow.transition(net.user("staff_a"), referral.id, "rejected", 1, reason="no-capacity")
    with pytest.raises(InvalidInput):
        plan.set_follow_up(coordinator, referral.id, today)


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html) or re.search(
        r'name="csrf_token" type="hidden" value="([^"]+)"', html
    )
    assert match
    return match.group(1)


def test_the_plan_pages_and_the_printed_plan_in_spanish(app, api_net, signed_in):
    with app.app_context():
        service = _clinic_service()
        db.session.commit()
        day = local_today(utcnow(), zone()) + timedelta(days=2)
        referral = send_referral(
            api_net.user("coordinator"),
            ReferralRequest(api_net.patient, service.id, category="food-insecurity"),
        ).referral
        referral_id = referral.id
    client = signed_in("coordinator")
    page = client.get(f"/patients/{api_net.patient}/plan").get_data(as_text=True)
    assert "Hot lunches" in page and "Food" in page and "Monday to Friday, 9 AM to 5 PM" in page
    saved = client.post(
        f"/referrals/{referral_id}/follow-up",
        data={"csrf_token": _csrf(page), "follow_up_on": day.isoformat(),
              "next": f"/patients/{api_net.patient}/plan"},
    )  # fmt: skip
    assert saved.status_code == 302 and saved.headers["Location"].endswith("/plan")
    with app.app_context():
        assert db.session.get(Referral, referral_id).follow_up_on == day
    printed = client.get(f"/patients/{api_net.patient}/plan/print?lang=es").get_data(as_text=True)
    assert '<html lang="es">' in printed
    expected = (
        "Su plan", "Comida", "Hot lunches", "305-555-0111", "Lunes a viernes, 9:00 a 17:00",
        "Qué pasa ahora", "Enviamos su información", f"le llamará el {day.isoformat()}",
        "1 Main St",
    )  # fmt: skip
    for words in expected:
        assert words in printed, words
    english = client.get(f"/patients/{api_net.patient}/plan/print?lang=en").get_data(as_text=True)
    assert "What happens next" in english and "Monday to Friday, 9 AM to 5 PM" in english
    bad = client.get(f"/patients/{api_net.patient}/plan/print?lang=xx",
                     headers={"Accept": "application/json"})  # fmt: skip
    assert bad.status_code == 400 and "lang" in bad.get_json()["errors"]
    assert (
        signed_in("coordinator_other").get(f"/patients/{api_net.patient}/plan").status_code == 404
    )
