"""axe-core on the shared pages at desktop and phone width: sign-in, the error page, the
account page and the screening form — no serious or critical violation, nothing wider than
the screen, the skip link first and the navigation named."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from axe import assert_no_serious_violations
from factories import PASSWORD, OrganizationFactory, PatientFactory, UserFactory
from live_server import serve_app

from carenet.extensions import db

pytestmark = pytest.mark.browser


@pytest.fixture
def live(app) -> Iterator[dict[str, str]]:
    with app.app_context():
        care = OrganizationFactory(name="Mercy Clinic", kind="care")
        patient = PatientFactory(organization=care, given_name="Rosa", family_name="Alvarez")
        UserFactory(email="coord@example.org", role="coordinator", organization=care)
        db.session.commit()
        patient_id = patient.id
    with serve_app(app) as base:
        yield {"base": base, "patient": patient_id}


@pytest.mark.parametrize("width", [1280, 390])
def test_shared_pages_pass_axe_and_fit(live, browser, width):
    base = live["base"]
    page = browser.new_page(viewport={"width": width, "height": 844})

    def check(path: str, status: int = 200) -> None:
        response = page.goto(base + path)
        assert response is not None and response.status == status, path
        assert page.evaluate("document.documentElement.scrollWidth") <= width, path
        first = page.locator("a").first
        assert (
            first.inner_text() == "Skip to main content" and first.get_attribute("href") == "#main"
        )
        assert page.locator("main#main").count() == 1
        assert_no_serious_violations(page)

    check("/login")
    page.fill("input[name=email]", "coord@example.org")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()
    assert page.get_by_role("navigation", name="Main").get_by_role("link", name="Search").count()
    check("/account")
    check(f"/patients/{live['patient']}/screening")
    check("/no-such-page", 404)
    page.close()
