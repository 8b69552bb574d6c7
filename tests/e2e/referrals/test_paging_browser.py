"""A paged list in Chromium at a phone's width: the controls fit and "Next" moves on."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from factories import OrganizationFactory, PatientFactory, UserFactory
from live_server import serve_app

from carenet.extensions import db

pytestmark = pytest.mark.browser

PASSWORD = "a long browser passphrase"


@pytest.fixture
def live(app) -> Iterator[str]:
    with app.app_context():
        care = OrganizationFactory(name="Mercy Clinic", kind="care")
        for _ in range(23):
            PatientFactory(organization=care)
        UserFactory(
            email="coord@example.org", password=PASSWORD, role="coordinator", organization=care
        )
        db.session.commit()
    with serve_app(app) as base:
        yield base


def test_the_patients_pager_fits_a_phone_and_pages(live, browser):
    page = browser.new_page(viewport={"width": 390, "height": 844})
    page.goto(f"{live}/login")
    page.fill("input[name=email]", "coord@example.org")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()
    page.goto(f"{live}/patients?per_page=10")
    pager = page.locator("nav.pager").first
    assert "23 patients · page 1 of 3" in pager.inner_text()
    box = pager.bounding_box()
    assert box and box["x"] >= 0 and box["x"] + box["width"] <= 390
    first = page.locator("tbody a").all_inner_texts()
    pager.locator("a[rel=next]").click()
    page.wait_for_selector("nav.pager >> text=page 2 of 3")
    second = page.locator("tbody a").all_inner_texts()
    assert len(first) == len(second) == 10 and not set(first) & set(second)
    assert page.locator("nav.pager a[rel=prev]").first.is_visible()
    if os.environ.get("CARENET_SCREENSHOT"):
        page.screenshot(path=os.environ["CARENET_SCREENSHOT"], full_page=True)
    page.close()
