"""In Debian's Chromium, at desktop and phone width: a program lead's navigation (Reports,
Search — no inbox, no patients) and the reports page: readable at 390 px without sideways
scrolling, axe-core finding no serious or critical violation."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from axe import assert_no_serious_violations
from live_server import serve_app

from carenet.accounts.seed import DEMO_PASSWORD, seed_demo_users
from carenet.demo.history import seed_demo_history
from carenet.directory.seed import seed_directory

pytestmark = pytest.mark.browser


@pytest.fixture
def live(app) -> Iterator[str]:
    with app.app_context():
        seed_directory(echo=lambda _: None)
        seed_demo_users()
        assert seed_demo_history(referrals=300, echo=lambda _: None) is not None
    with serve_app(app) as base:
        yield base


def test_the_program_lead_reads_the_reports_on_a_desk_and_a_phone(live, browser):
    for width in (1280, 390):
        page = browser.new_page(viewport={"width": width, "height": 844})
        page.goto(f"{live}/login")
        page.fill("input[name=email]", "lead@demo.carenet.test")
        page.fill("input[name=password]", DEMO_PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_load_state()
        nav = page.get_by_role("navigation", name="Main")
        links = set(nav.get_by_role("link").all_inner_texts())
        assert {"Reports", "Search"} <= links
        assert not {"Inbox", "Patients", "Users", "Audit log"} & links
        nav.get_by_role("link", name="Reports").click()
        page.wait_for_url(f"{live}/reports*")
        assert nav.get_by_role("link", name="Reports").get_attribute("aria-current") == "page"
        assert page.locator("main h1").count() == 1 and page.locator("main table").count() > 0
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        assert_no_serious_violations(page)
        page.goto(f"{live}/account")
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        assert_no_serious_violations(page)
        page.close()
