"""In Debian's Chromium, at desktop and phone width, on both backends: a CBO staff member's
day — the inbox filtered, a referral opened, accepted and started in one click, completed
with an outcome; another declined with a reason; one assigned to them; and a note typed while
their session ran out, kept through signing in again. axe-core finds no serious or critical
violation on any page on the way, and no page is wider than the screen."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from axe import assert_no_serious_violations
from factories import (
    PASSWORD,
    ConsentFactory,
    OrganizationFactory,
    PatientFactory,
    ServiceFactory,
    UserFactory,
)
from live_server import serve_app

from carenet.accounts.models import UserSession
from carenet.db.types import utcnow
from carenet.extensions import db
from carenet.referrals.service import ReferralRequest, send_referral

pytestmark = pytest.mark.browser

WIDTHS = {"desktop": 1280, "phone": 390}


@pytest.fixture
def live(app) -> Iterator[dict[str, Any]]:
    with app.app_context():
        care = OrganizationFactory(name="Mercy Clinic", kind="care")
        cbo = OrganizationFactory(name="Eastside Food Bank")
        pantry = ServiceFactory(organization=cbo, name="Eastside Pantry")
        meals = ServiceFactory(organization=cbo, name="Eastside Hot Meals")
        coordinator = UserFactory(email="coord@example.org", role="coordinator", organization=care)
        UserFactory(
            email="staff@example.org", display_name="Sam Staff", role="cbo_staff", organization=cbo
        )
        names = ("Rosa Alvarez", "Tom Becker", "Lena Ortiz")
        referrals = []
        for (given, family), service in zip(
            (n.split() for n in names), (pantry, meals, pantry), strict=True
        ):
            patient = PatientFactory(organization=care, given_name=given, family_name=family)
            ConsentFactory(patient=patient, recorded_by_id=coordinator.id)
            db.session.commit()
            request = ReferralRequest(patient.id, service.id, category="food-insecurity")
            referrals.append(send_referral(coordinator, request).referral.id)
    with serve_app(app) as base:
        yield {"base": base, "referrals": referrals, "app": app}


def _sign_in(page, base: str, email: str = "staff@example.org") -> None:
    page.goto(f"{base}/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()


def _fits(page, width: int) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= width, page.url


def _checked(page, width: int) -> None:
    _fits(page, width)
    assert_no_serious_violations(page)


@pytest.mark.parametrize("screen", WIDTHS)
def test_a_cbo_staff_members_day(live, browser, screen):
    base, width = live["base"], WIDTHS[screen]
    page = browser.new_page(viewport={"width": width, "height": 844})
    _sign_in(page, base)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Inbox").click()
    page.wait_for_url(f"{base}/inbox")
    assert page.get_by_role("link", name="Skip to main content").count() == 1
    _checked(page, width)
    new = page.locator("#inbox-new")
    assert new.locator("tr.unread").count() == 3
    assert "Rosa Alvarez" in new.inner_text() and "food insecurity" in new.inner_text()

    # filter: new and unread, assigned to nobody yet
    page.get_by_label("Status").select_option("new")
    page.get_by_label("Unread only").check()
    page.get_by_role("button", name="Show").click()
    page.wait_for_url("**/inbox?status=new&unread=1")
    assert page.locator("table.inbox-table tbody tr").count() == 3
    _checked(page, width)

    # open Rosa's referral: accept and start in one click, then complete with an outcome
    page.locator("tr", has_text="Rosa Alvarez").get_by_role("link").first.click()
    page.wait_for_url(f"{base}/referrals/*")
    _checked(page, width)
    page.get_by_role("button", name="Accept and start").click()
    page.wait_for_load_state()
    assert "The referral is now in progress." in page.locator(".flashes").inner_text()
    page.get_by_label("What was delivered").fill("Two weeks of groceries")
    page.get_by_role("button", name="Complete").click()
    page.wait_for_load_state()
    assert "The referral is now completed." in page.locator(".flashes").inner_text()
    assert "Two weeks of groceries" in page.locator("#patient").inner_text()
    _checked(page, width)

    # Rosa's referral is read now; Tom's is declined with a reason
    page.goto(f"{base}/inbox?status=new&unread=1")
    assert page.locator("table.inbox-table tbody tr").count() == 2
    page.locator("tr", has_text="Tom Becker").get_by_role("link").first.click()
    page.wait_for_url(f"{base}/referrals/*")
    decline = page.locator("#move-rejected")
    decline.get_by_label("Reason").select_option("not-eligible")
    decline.get_by_role("button", name="Decline").click()
    page.wait_for_load_state()
    assert "The referral is now declined." in page.locator(".flashes").inner_text()
    assert "declined" in page.locator("h1").inner_text() and "rejected" not in page.inner_text(
        "main"
    )
    assert "Reason for declining: Not eligible" in page.locator("#patient").inner_text()

    # Lena's: assigned to me from the inbox row, then found under "Assigned to me"
    page.goto(f"{base}/inbox?status=open")
    row = page.locator("tr", has_text="Lena Ortiz")
    row.get_by_role("button", name="Assign to me").click()
    page.wait_for_load_state()
    assert "Assigned to Sam Staff." in page.locator(".flashes").inner_text()
    page.get_by_label("Assigned to me").check()
    page.get_by_role("button", name="Show").click()
    page.wait_for_url("**/inbox?status=open&mine=1")
    assert page.locator("table.inbox-table tbody tr").all_inner_texts()[0].count("Lena Ortiz") == 1
    assert page.locator("table.inbox-table tbody tr").count() == 1
    _checked(page, width)
    page.get_by_label("Status").select_option("closed")
    page.get_by_label("Assigned to me").uncheck()
    page.get_by_role("button", name="Show").click()
    page.wait_for_url("**/inbox?status=closed")
    closed = page.locator("table.inbox-table tbody").inner_text()
    assert "Rosa Alvarez" in closed and "Tom Becker" in closed and "completed" in closed
    _checked(page, width)
    page.close()


def test_a_note_typed_as_the_session_ends_is_kept_through_sign_in(live, browser):
    base, referral = live["base"], live["referrals"][2]
    page = browser.new_page(viewport={"width": 390, "height": 844})
    _sign_in(page, base)
    page.goto(f"{base}/referrals/{referral}")
    page.get_by_label("Add a note (both organizations see it)").fill("Left a voicemail at 3 PM")
    with live["app"].app_context():  # meanwhile the session passes its idle timeout
        db.session.execute(
            db.update(UserSession).values(last_seen_at=utcnow() - timedelta(hours=2))
        )
        db.session.commit()
    page.get_by_role("button", name="Add note").click()
    page.wait_for_url(lambda url: url.startswith(f"{base}/login?next="))
    assert "Your session ended before this was sent" in page.inner_text("main")
    _checked(page, 390)
    page.fill("input[name=email]", "staff@example.org")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/referrals/{referral}")
    note = page.get_by_label("Add a note (both organizations see it)")
    assert note.input_value() == "Left a voicemail at 3 PM"
    page.get_by_role("button", name="Add note").click()
    page.wait_for_load_state()
    assert "Left a voicemail at 3 PM" in page.locator("#notes").inner_text()
    page.reload()
    assert page.get_by_label("Add a note (both organizations see it)").input_value() == ""
    page.close()
