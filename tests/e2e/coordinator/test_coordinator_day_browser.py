"""The care coordinator's day in Debian's Chromium, on both backends: land on the worklist
and see a CBO's response; search → Refer → pick the patient → sent; a patient's need → the
search centred on them → Refer; a possible duplicate → create anyway; the plan printed in
Spanish. At 390 px no page of theirs scrolls sideways; axe-core finds no serious or
critical violation on them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, time
from typing import Any

import pytest
from axe import assert_no_serious_violations
from factories import (
    ConsentFactory,
    NeedFactory,
    OrganizationFactory,
    PatientFactory,
    ServiceFactory,
    UserFactory,
)
from live_server import serve_app

from carenet.directory.search.index import refresh_services
from carenet.directory.service import ensure_taxonomy
from carenet.extensions import db

pytestmark = pytest.mark.browser

PASSWORD = "a long browser passphrase"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def live(app) -> Iterator[dict[str, Any]]:
    with app.app_context():
        ensure_taxonomy()
        care = OrganizationFactory(name="Mercy Clinic", kind="care")
        pantry_org = OrganizationFactory(name="Eastside Pantry", email="desk@eastside.example.org")
        pantry = ServiceFactory(
            organization=pantry_org, name="Eastside groceries", categories=("food-pantry",),
            languages=("es",), phones=("305-555-0123",),
            schedules=[{"byday": "MO,TU,WE,TH,FR", "opens_at": time(9), "closes_at": time(17)}],
            eligibility_description="Anyone in Miami-Dade",
        )  # fmt: skip
        kids = ServiceFactory(
            organization=pantry_org, name="Kids snack club", categories=("food-pantry",),
            maximum_age=17,
        )  # fmt: skip
        refresh_services([pantry.id, kids.id])
        coordinator = UserFactory(
            email="coord@example.org", password=PASSWORD, role="coordinator", organization=care
        )
        staff = UserFactory(
            email="staff@example.org", password=PASSWORD, role="cbo_staff", organization=pantry_org
        )
        ana = PatientFactory(organization=care, given_name="Ana", family_name="Lopez",
                             birth_date=date(1946, 3, 4), postal_code="33130",
                             created_by_id=coordinator.id)  # fmt: skip
        ConsentFactory(patient=ana, recorded_by_id=coordinator.id)
        need = NeedFactory(patient=ana, category="food-insecurity")
        db.session.commit()
        ids = {"pantry": pantry.id, "ana": ana.id, "need": need.id, "staff": staff.id}
    with serve_app(app) as base:
        yield {"base": base, **ids}


def _signed_in(browser, base, email, viewport=DESKTOP):
    context = browser.new_context(viewport=viewport)
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if "Content Security" in m.text else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.goto(f"{base}/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()
    return context, page, problems


def _fits(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"{page.url} is {width} px wide at 390 px"


def _send_from_search(page, base, pantry_id) -> None:
    page.goto(f"{base}/search?near=33130&category=food-pantry")
    page.wait_for_selector("text=Eastside groceries")
    result = page.locator("li.result", has_text="Eastside groceries")
    text = result.inner_text()
    assert "Monday to Friday, 9 AM to 5 PM" in text and "305-555-0123" in text
    assert "Speaks Spanish" in text and "Eligibility: Anyone in Miami-Dade" in text
    result.locator("a.refer").click()
    page.wait_for_selector("#patient-picker")
    page.fill("#patient-q", "Lopez")
    page.wait_for_selector("#picker-results a.pick")  # the type-ahead
    page.click("#picker-results a.pick")
    page.wait_for_selector("#referral-form")
    page.fill("textarea[name=note]", "Call after 5pm")
    page.click("#referral-form button[type=submit]")
    page.wait_for_selector("text=Referral sent.")


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "390px"])
def test_search_refer_pick_the_patient_send(live, browser, viewport):
    context, page, problems = _signed_in(browser, live["base"], "coord@example.org", viewport)
    assert page.url.endswith("/worklist")  # a coordinator lands on the worklist
    if viewport is PHONE:
        _fits(page)
    page.goto(f"{live['base']}/search?near=33130&category=food-pantry")
    if viewport is PHONE:
        _fits(page)
        # The results come before the map's markers in tab order.
        order = page.evaluate(
            """() => { const all = [...document.querySelectorAll('a, [tabindex="0"]')];
                 const refer = all.findIndex(e => e.classList.contains('refer'));
                 const marker = all.findIndex(e => e.classList.contains('map-marker'));
                 return [refer, marker]; }"""
        )
        assert order[0] >= 0 and (order[1] == -1 or order[0] < order[1]), order
    _send_from_search(page, live["base"], live["pantry"])
    assert "/referrals/" in page.url
    # The same referral again: the form shows the open one first.
    page.goto(f"{live['base']}/referrals/new?service_id={live['pantry']}&patient_id={live['ana']}")
    assert page.locator("#existing-referral a").count() == 1
    assert not problems, problems
    context.close()


def test_a_need_opens_the_search_near_the_patient_then_refers(live, browser):
    context, page, problems = _signed_in(browser, live["base"], "coord@example.org")
    page.goto(f"{live['base']}/patients/{live['ana']}")
    page.click("text=Find services nearby")
    page.wait_for_selector("#patient-context")
    assert "near=33130" in page.url and "age=" in page.url
    assert page.locator("li.result", has_text="Eastside groceries").count() == 1
    assert page.locator("li.result", has_text="Kids snack club").count() == 0  # she is 80
    page.locator("li.result", has_text="Eastside groceries").locator("a.refer").click()
    page.wait_for_selector("#referral-form")
    assert "Ana Lopez" in page.inner_text("#referral-form")
    assert page.locator("#referral-form input[name=need_id]").count() == 1
    page.click("#referral-form button[type=submit]")
    page.wait_for_selector("text=Referral sent.")
    assert not problems, problems
    context.close()


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "390px"])
def test_a_possible_duplicate_is_shown_then_created_anyway(live, browser, viewport):
    context, page, problems = _signed_in(browser, live["base"], "coord@example.org", viewport)
    page.goto(f"{live['base']}/patients/new")
    page.fill("input[name=given_name]", "ANA")
    page.fill("input[name=family_name]", "López")
    page.fill("input[name=birth_date]", "1946-04-03")  # day and month swapped
    page.fill("input[name=postal_code]", "33130")
    page.click("#patient-form button[type=submit]")
    page.wait_for_selector("#possible-duplicates")
    assert page.locator(f"#possible-duplicates a[href='/patients/{live['ana']}']").count() == 1
    if viewport is PHONE:
        _fits(page)
    assert_no_serious_violations(page)
    page.click("#create-anyway")
    page.wait_for_selector("h1:has-text('ANA López')")
    assert not problems, problems
    context.close()


def test_the_plan_prints_in_spanish_and_the_worklist_shows_the_cbo_response(live, browser):
    coord_ctx, coord, problems = _signed_in(browser, live["base"], "coord@example.org")
    _send_from_search(coord, live["base"], live["pantry"])
    referral_url = coord.url
    coord.goto(f"{live['base']}/worklist")  # the visit before the CBO's answer
    staff_ctx, staff, _ = _signed_in(browser, live["base"], "staff@example.org")
    assert staff.url.endswith("/inbox")
    staff.goto(referral_url)
    staff.locator("#move-accepted button, #move-in-progress button").first.click()
    staff.wait_for_load_state()

    coord.goto(f"{live['base']}/worklist")
    changes = coord.inner_text("#worklist-changes")
    assert "Eastside groceries" in changes and "Ana Lopez" in changes
    assert_no_serious_violations(coord)

    coord.goto(f"{live['base']}/patients/{live['ana']}/plan")
    coord.fill(".follow-up-form input[name=follow_up_on]", date.today().isoformat())
    coord.click(".follow-up-form button")
    coord.wait_for_selector("text=Follow-up date saved.")
    assert_no_serious_violations(coord)
    coord.click("a.print-plan[hreflang=es]")
    coord.wait_for_selector("h1:has-text('Su plan')")
    printed = coord.inner_text("main")
    assert "Lunes a viernes, 9:00 a 17:00" in printed and "305-555-0123" in printed
    assert "Qué pasa ahora" in printed
    coord.emulate_media(media="print")
    assert coord.locator(".no-print").first.is_hidden()
    coord.goto(f"{live['base']}/worklist")
    assert "today" in coord.inner_text("#worklist-follow-ups")
    assert not problems, problems
    coord_ctx.close()
    staff_ctx.close()


def test_every_coordinator_page_fits_390px_and_passes_axe(live, browser):
    context, page, problems = _signed_in(browser, live["base"], "coord@example.org", PHONE)
    base = live["base"]
    for path in (
        "/worklist",
        "/search?near=33130",
        "/search?near=33130&category=food-pantry",
        f"/patients/{live['ana']}",
        f"/patients/{live['ana']}/edit",
        f"/patients/{live['ana']}/plan",
        f"/patients/{live['ana']}/plan/print?lang=es",
        "/patients",
        "/dashboard",
        f"/referrals/new?service_id={live['pantry']}",
        f"/services/{live['pantry']}",
    ):
        page.goto(base + path)
        page.wait_for_load_state()
        _fits(page)
        assert_no_serious_violations(page)
    assert not problems, problems
    context.close()
