"""The whole closed loop in Debian's Chromium: the coordinator screens, searches and refers;
the CBO accepts and completes; the coordinator sees it completed.

Serves the app from a thread (werkzeug) on 127.0.0.1 and drives it with Playwright.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from factories import OrganizationFactory, ServiceFactory, UserFactory
from live_server import serve_app

from carenet.directory.search.index import refresh_services
from carenet.directory.service import ensure_taxonomy
from carenet.extensions import db

pytestmark = pytest.mark.browser

PASSWORD = "a long browser passphrase"


@pytest.fixture
def live(app) -> Iterator[str]:
    with app.app_context():
        ensure_taxonomy()
        care = OrganizationFactory(name="Mercy Clinic", kind="care")
        pantry_org = OrganizationFactory(name="Eastside Pantry")
        pantry = ServiceFactory(
            organization=pantry_org, name="Eastside groceries", categories=("food-pantry",)
        )
        refresh_services([pantry.id])
        UserFactory(
            email="coord@example.org", password=PASSWORD, role="coordinator", organization=care
        )
        UserFactory(
            email="staff@example.org", password=PASSWORD, role="cbo_staff", organization=pantry_org
        )
        db.session.commit()
    with serve_app(app) as base:
        yield base


def _signed_in(browser, base, email):
    context = browser.new_context()
    page = context.new_page()
    problems: list[str] = []
    # CSP violations show as console errors; failed requests (but the favicon) as responses.
    page.on("console", lambda m: problems.append(m.text) if "Content Security" in m.text else None)
    page.on(
        "response",
        lambda r: (
            problems.append(f"{r.status} {r.url}")
            if r.status >= 400 and not r.url.endswith("/favicon.ico")
            else None
        ),
    )
    page.goto(f"{base}/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()
    return context, page, problems


def test_the_closed_loop_in_chromium(live, browser):
    coord_ctx, coord, coord_problems = _signed_in(browser, live, "coord@example.org")
    coord.click("text=Patients")
    coord.click("text=New patient")
    coord.fill("input[name=given_name]", "Maya")
    coord.fill("input[name=family_name]", "Reyes")
    coord.fill("input[name=birth_date]", "1955-07-01")
    coord.fill("input[name=postal_code]", "33130")
    coord.click("#patient-form button[type=submit]")
    coord.wait_for_selector("h1:has-text('Maya Reyes')")
    coord.select_option("#consent-form select[name=method]", "verbal")
    coord.click("#consent-form button[type=submit]")
    coord.wait_for_selector("text=Consent recorded.")

    coord.click("text=Screen for social needs")
    coord.check("#q-88122-7 input[value='LA28397-0']")
    coord.check("#q-93030-5 input[value='LA32-8']")
    coord.click("#screening-form button[type=submit]")
    coord.wait_for_selector("text=Screening saved: food-insecurity.")

    coord.click("text=Find services nearby")
    coord.wait_for_selector("text=Eastside groceries")
    coord.click("a.refer")
    coord.fill("textarea[name=note]", "Call after 5pm")
    coord.click("#referral-form button[type=submit]")
    coord.wait_for_selector("text=Referral sent.")
    referral_url = coord.url
    assert "/referrals/" in referral_url

    staff_ctx, staff, staff_problems = _signed_in(browser, live, "staff@example.org")
    staff.click("text=Inbox")
    staff.click("#inbox-new a:has-text('Eastside groceries')")
    staff.wait_for_selector("text=Maya Reyes")
    staff.click("#move-accepted button")
    staff.wait_for_selector("text=The referral is now accepted.")
    staff.click("#move-in-progress button")
    staff.wait_for_selector("text=The referral is now in progress.")
    staff.fill("#move-completed input[name=outcome]", "Two food boxes delivered")
    staff.click("#move-completed button")
    staff.wait_for_selector("text=The referral is now completed.")

    coord.goto(referral_url)
    assert coord.inner_text("h1 .badge") == "completed"
    assert "Two food boxes delivered" in coord.inner_text("#patient")
    history = coord.inner_text("#history")
    assert "in progress → completed" in history  # status words (docs/workflow.md)
    assert not coord_problems and not staff_problems, coord_problems + staff_problems
    coord_ctx.close()
    staff_ctx.close()
