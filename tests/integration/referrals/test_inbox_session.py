"""An expired session keeps the user's place (server side): a form sent after the session
ended goes to sign-in, which comes back to the form's page, marked for the browser to fill the
kept values in again (the browser half: tests/e2e/cbo/test_cbo_journeys_browser.py)."""

from __future__ import annotations

from datetime import timedelta

from factories import PASSWORD
from integration.referrals.conftest import csrf_from

from carenet.accounts.models import UserSession
from carenet.db.types import utcnow
from carenet.extensions import db
from carenet.referrals.service import ReferralRequest, send_referral


def test_a_form_sent_after_the_session_ended_comes_back_after_sign_in(app, api_net, signed_in):
    with app.app_context():
        referral = send_referral(
            api_net.user("coordinator"),
            ReferralRequest(api_net.patient, api_net.services["open"], category="food-insecurity"),
        ).referral.id
    staff = signed_in("staff_a")
    page = f"/referrals/{referral}"
    token = csrf_from(staff.get(page).get_data(as_text=True))
    with app.app_context():  # the session goes idle past the timeout
        db.session.execute(
            db.update(UserSession).values(last_seen_at=utcnow() - timedelta(hours=3))
        )
        db.session.commit()
    sent = staff.post(
        f"{page}/notes",
        data={"body": "Called the client", "csrf_token": token},
        headers={"Referer": f"http://localhost{page}"},
    )
    assert sent.status_code == 302
    assert sent.location.endswith(f"/login?next=/referrals/{referral}")
    assert f"carenet_restore={page}" in sent.headers.get("Set-Cookie", "")
    login = staff.get(sent.location).get_data(as_text=True)
    assert "Your session ended before this was sent" in login
    assert "Called the client" not in login  # the typed text never reaches the server
    back = staff.post(
        sent.location,
        data={
            "email": api_net.emails["staff_a"],
            "password": PASSWORD,
            "csrf_token": csrf_from(login),
        },
    )
    assert back.status_code == 302 and back.location.endswith(page)
    html = staff.get(page).get_data(as_text=True)
    assert f'data-restore-form="{page}"' in html
    assert "data-restore-form" not in staff.get(page).get_data(as_text=True)  # once


def test_a_foreign_referer_is_not_a_place_to_return_to(app, api_net, signed_in):
    staff = signed_in("staff_a")
    token = csrf_from(staff.get("/inbox").get_data(as_text=True))
    with app.app_context():
        db.session.execute(db.update(UserSession).values(ended_at=utcnow()))
        db.session.commit()
    sent = staff.post(
        "/referrals/x/notes",
        data={"body": "x", "csrf_token": token},
        headers={"Referer": "https://evil.example/referrals/x"},
    )
    assert sent.status_code == 302 and sent.location.endswith("/login")
    assert "carenet_restore" not in sent.headers.get("Set-Cookie", "")
