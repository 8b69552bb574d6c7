"""In Debian's Chromium: headers, cookie flags, CSP enforcement, and what each demo role can reach.

Serves the app from a thread (werkzeug) on 127.0.0.1 and drives the browser with Playwright.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from live_server import serve_app

from carenet.accounts.seed import DEMO_PASSWORD, seed_demo_users
from carenet.directory.models import Organization, Service
from carenet.directory.service import ensure_taxonomy
from carenet.extensions import db

pytestmark = pytest.mark.browser


@pytest.fixture
def live(app) -> Iterator[dict[str, str]]:
    with app.app_context():
        own = Organization(name="Eastside Pantry", kind="community")
        other = Organization(name="Westside Shelter", kind="community")
        db.session.add_all([own, other])
        db.session.flush()
        pantry = ensure_taxonomy()["food-pantry"]
        mine = Service(organization_id=own.id, name="Eastside groceries", categories=[pantry])
        db.session.add_all([mine, Service(organization_id=own.id, name="Eastside hot meals")])
        theirs = Service(organization_id=other.id, name="Westside beds")
        db.session.add(theirs)
        db.session.commit()
        seed_demo_users()
        ids = {"mine": mine.id, "theirs": theirs.id}
    with serve_app(app) as base:
        yield {"base": base, **ids}


def _sign_in(page, base, email):
    page.goto(f"{base}/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button[type=submit]")


def test_headers_cookies_and_csp_as_the_browser_sees_them(live, browser):
    base = live["base"]
    context = browser.new_context()
    page = context.new_page()
    response = page.goto(f"{base}/login")
    headers = response.headers
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "same-origin"
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert "unsafe-inline" not in headers["content-security-policy"]

    _sign_in(page, base, "cbo.admin@demo.carenet.test")
    assert page.url == f"{base}/inbox"  # each role lands on its own start page
    session = next(c for c in context.cookies() if c["name"] == "session")
    assert session["httpOnly"] is True and session["sameSite"] == "Lax"
    assert session["expires"] > 0  # bounded by the idle timeout, not a browser-lifetime cookie
    assert "session=" not in page.evaluate("document.cookie")
    ran = page.evaluate(
        """() => { const s = document.createElement('script');
                   s.textContent = 'window.injected = 1';
                   document.body.appendChild(s); return window.injected === 1; }"""
    )
    assert ran is False  # CSP refuses inline script

    # what a CBO admin must not see: by link and by guessing ids
    assert page.goto(f"{base}/admin/audit").status == 403
    assert page.goto(f"{base}/admin/users").status == 403
    assert page.goto(f"{base}/curation/services/{live['theirs']}").status == 403
    assert "Westside" not in page.content()
    assert page.goto(f"{base}/curation/services/{live['mine']}").status == 200

    stolen = session
    page.goto(f"{base}/account")
    page.click("text=Sign out")
    assert page.url == f"{base}/"
    thief = browser.new_context()
    thief.add_cookies([stolen])
    thief_page = thief.new_page()
    thief_page.goto(f"{base}/account")
    assert "/login" in thief_page.url  # the copied cookie died with the sign-out
    thief.close()
    context.close()


@pytest.mark.parametrize(
    ("email", "landing", "allowed", "refused"),
    [
        (
            "coordinator@demo.carenet.test",
            "/worklist",
            ["/account"],
            ["/curation/", "/admin/audit"],
        ),
        ("cbo.staff@demo.carenet.test", "/inbox", ["/account"], ["/curation/", "/admin/users"]),
        ("lead@demo.carenet.test", "/reports", ["/account"], ["/curation/stale", "/admin/audit"]),
        ("admin@demo.carenet.test", "/admin/users", ["/admin/audit", "/curation/stale"], []),
    ],
)
def test_each_demo_role_reaches_only_its_pages(live, browser, email, landing, allowed, refused):
    context = browser.new_context()
    page = context.new_page()
    _sign_in(page, live["base"], email)
    assert page.url == live["base"] + landing  # the role's start page (carenet/accounts/landing.py)
    for path in allowed:
        assert page.goto(live["base"] + path).status == 200, path
    for path in refused:
        response = page.goto(live["base"] + path)
        assert response.status == 403, path
        assert "Traceback" not in page.content()
    context.close()
