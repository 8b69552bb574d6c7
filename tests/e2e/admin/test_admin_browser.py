"""In Debian's Chromium, at desktop and phone width: an administrator's navigation (Users,
Audit log, Outbox) and those pages — no sideways scrolling at 390 px, axe-core finding no
serious or critical violation; the audit log lists the sign-in just made."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from axe import assert_no_serious_violations
from live_server import serve_app

from carenet.accounts.seed import DEMO_PASSWORD, seed_demo_users

pytestmark = pytest.mark.browser


@pytest.fixture
def live(app) -> Iterator[str]:
    with app.app_context():
        seed_demo_users()
    with serve_app(app) as base:
        yield base


@pytest.mark.parametrize("width", [1280, 390])
def test_the_administrator_pages(live, browser, width):
    page = browser.new_page(viewport={"width": width, "height": 844})
    page.goto(f"{live}/login")
    assert_no_serious_violations(page)  # the sign-in page itself
    page.fill("input[name=email]", "admin@demo.carenet.test")
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()
    nav = page.get_by_role("navigation", name="Main")
    for name, path in (
        ("Users", "/admin/users"),
        ("Audit log", "/admin/audit"),
        ("Outbox", "/admin/outbox"),
    ):
        nav.get_by_role("link", name=name).click()
        page.wait_for_url(f"{live}{path}*")
        assert nav.get_by_role("link", name=name).get_attribute("aria-current") == "page"
        assert page.evaluate("document.documentElement.scrollWidth") <= width, path
        assert_no_serious_violations(page)
        if name == "Users":
            assert "cbo.staff@demo.carenet.test" in page.inner_text("main")
        if name == "Audit log":
            assert "admin@demo.carenet.test" in page.inner_text("main")
    # the skip link is the first Tab stop and lands on the main content
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to main content"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    page.close()
