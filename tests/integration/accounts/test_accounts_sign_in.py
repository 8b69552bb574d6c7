"""Signing in and out: session rotation, logout that kills copied cookies, idle timeout,
throttling, CSRF, cookie flags."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from carenet import create_app
from carenet.accounts.models import LoginFailure, UserSession
from carenet.db.types import utcnow
from carenet.extensions import db

PASSWORD = "a long test passphrase"


def _session_cookie(client):
    cookie = client.get_cookie("session")
    return cookie.value if cookie else None


def test_sign_in_lands_on_the_account_page(client, world, sign_in):
    response = sign_in(client, world.emails["coordinator"])
    assert response.status_code == 302
    assert response.headers["Location"] == "/worklist"  # a coordinator's landing
    page = client.get("/account")
    assert page.status_code == 200
    assert "coordinator@example.org" in page.get_data(as_text=True)
    assert "Care Org" in page.get_data(as_text=True)


def test_wrong_password_is_refused_with_one_message_for_all_cases(client, world, sign_in):
    wrong = sign_in(client, world.emails["coordinator"], "not the right password")
    unknown = sign_in(client, "nobody@example.org", "not the right password")
    for response in (wrong, unknown):
        assert response.status_code == 401
        assert "E-mail or password is incorrect." in response.get_data(as_text=True)
    assert client.get("/account").status_code == 302


def test_next_parameter_only_redirects_within_the_site(client, world, csrf_token):
    for target, expected in (("/admin/audit", "/admin/audit"), ("//evil.test/x", "/admin/users")):
        fresh = client.application.test_client()
        token = csrf_token(fresh, "/login")
        response = fresh.post(
            "/login",
            data={
                "email": world.emails["admin"],
                "password": PASSWORD,
                "csrf_token": token,
                "next": target,
            },
        )
        assert response.headers["Location"] == expected


def test_session_is_rotated_at_sign_in(app, client, world, sign_in):
    client.get("/login")
    before = _session_cookie(client)
    sign_in(client, world.emails["coordinator"])
    after = _session_cookie(client)
    assert before and after and before != after
    sign_in(app.test_client(), world.emails["coordinator"])
    with app.app_context():
        keys = db.session.scalars(select(UserSession.key_hash)).all()
    assert len(set(keys)) == 2  # every sign-in gets a new server-side session


def test_logout_invalidates_a_copied_session_cookie(app, client, world, sign_in, csrf_token):
    sign_in(client, world.emails["coordinator"])
    stolen = _session_cookie(client)
    token = csrf_token(client, "/account")
    response = client.post("/logout", data={"csrf_token": token})
    assert response.status_code == 302
    assert client.get("/account").status_code == 302

    attacker = app.test_client()
    attacker.set_cookie("session", stolen)
    response = attacker.get("/account")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    with app.app_context():
        assert db.session.scalar(select(UserSession.ended_at)) is not None


def test_logout_needs_a_csrf_token(client, world, sign_in):
    sign_in(client, world.emails["coordinator"])
    assert client.post("/logout").status_code == 400
    assert client.get("/account").status_code == 200  # still signed in


def test_login_form_needs_a_csrf_token(client, world):
    response = client.post("/login", data={"email": world.emails["admin"], "password": PASSWORD})
    assert response.status_code == 400
    assert "CSRF" in response.get_data(as_text=True)
    assert client.get("/account").status_code == 302


def test_idle_session_times_out(app, client, world, sign_in):
    sign_in(client, world.emails["coordinator"])
    assert client.get("/account").status_code == 200
    idle = app.config["IDLE_TIMEOUT_MINUTES"] + 1
    with app.app_context():
        db.session.execute(
            update(UserSession).values(last_seen_at=utcnow() - timedelta(minutes=idle))
        )
        db.session.commit()
    response = client.get("/account")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert "Your session has ended" in client.get("/login").get_data(as_text=True)


def test_five_failures_throttle_the_account_at_that_address_even_with_the_right_password(
    client, world, sign_in
):
    email = world.emails["coordinator"]
    for _ in range(5):
        assert sign_in(client, email, "wrong password here").status_code == 401
    response = sign_in(client, email)
    assert response.status_code == 429
    assert "Too many failed sign-ins; try again in 1 minute." in response.get_data(as_text=True)
    assert 50 < int(response.headers["Retry-After"]) <= 60
    assert client.get("/account").status_code == 302


def test_failures_at_other_addresses_do_not_throttle_the_account_here_and_lift_after_the_window(
    app, client, world, sign_in
):
    email = world.emails["coordinator"]
    for _ in range(5):
        sign_in(client, email, "wrong password here", REMOTE_ADDR="10.0.0.1")
    assert sign_in(client, email, REMOTE_ADDR="10.0.0.1").status_code == 429
    assert sign_in(app.test_client(), email, REMOTE_ADDR="10.9.9.9").status_code == 302
    with app.app_context():
        db.session.execute(update(LoginFailure).values(created_at=utcnow() - timedelta(minutes=16)))
        db.session.commit()
    assert sign_in(client, email, REMOTE_ADDR="10.0.0.1").status_code == 302


def test_refused_attempts_while_throttled_do_not_extend_it(app, client, world, sign_in):
    email = world.emails["coordinator"]
    for _ in range(5):
        sign_in(client, email, "wrong password here")
    for _ in range(3):
        assert sign_in(client, email, "wrong password here").status_code == 429
    with app.app_context():
        assert db.session.query(LoginFailure).count() == 5


def test_address_throttle_spans_accounts_past_its_own_higher_limit(app, client, world, sign_in):
    app.config["LOGIN_MAX_FAILURES_PER_ADDRESS"] = 8
    for number in range(8):
        sign_in(client, f"guess{number}@example.org", "wrong password here", REMOTE_ADDR="10.1.1.1")
    blocked = sign_in(client, world.emails["admin"], REMOTE_ADDR="10.1.1.1")
    assert blocked.status_code == 429
    assert sign_in(client, world.emails["admin"], REMOTE_ADDR="10.1.1.2").status_code == 302


def test_address_limit_can_be_set_apart_from_the_account_limit(app, client, world, sign_in):
    app.config["LOGIN_MAX_FAILURES_PER_ADDRESS"] = 8
    for number in range(6):
        sign_in(client, f"typo{number}@example.org", "wrong password here", REMOTE_ADDR="10.4.0.1")
    assert sign_in(client, world.emails["admin"], REMOTE_ADDR="10.4.0.1").status_code == 302


def test_a_successful_sign_in_clears_the_account_count(app, world, sign_in):
    email = world.emails["coordinator"]
    client = app.test_client()
    for _ in range(4):
        sign_in(client, email, "wrong password here", REMOTE_ADDR="10.2.0.1")
    assert sign_in(client, email, REMOTE_ADDR="10.2.0.2").status_code == 302
    other = app.test_client()
    for _ in range(2):
        sign_in(other, email, "wrong password here", REMOTE_ADDR="10.2.0.3")
    assert sign_in(other, email, REMOTE_ADDR="10.2.0.4").status_code == 302


def test_session_cookie_flags_in_development(client, world, sign_in):
    response = sign_in(client, world.emails["coordinator"])
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Expires=" in cookie  # permanent session bounded by the idle timeout


def test_session_cookie_is_secure_outside_development(database_url, world, sign_in):
    app = create_app(
        {
            "ENV_NAME": "production",
            "SQLALCHEMY_DATABASE_URI": database_url,
            "SECRET_KEY": "a production test secret of 32+ characters",
        }
    )
    try:
        client = app.test_client()
        response = sign_in(client, world.emails["coordinator"], **{"wsgi.url_scheme": "https"})
        cookie = response.headers["Set-Cookie"]
        assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
        assert "Strict-Transport-Security" in response.headers
    finally:
        with app.app_context():
            db.engine.dispose()


def test_changing_the_password_signs_out_other_sessions(app, world, sign_in, csrf_token):
    email = world.emails["cbo_staff"]
    here, elsewhere = app.test_client(), app.test_client()
    sign_in(here, email)
    sign_in(elsewhere, email)
    weak = here.post(
        "/account/password",
        data={
            "current_password": PASSWORD,
            "new_password": "password123",
            "csrf_token": csrf_token(here, "/account"),
        },
    )
    assert weak.status_code == 400 and "at least 12 characters" in weak.get_data(as_text=True)
    changed = here.post(
        "/account/password",
        data={
            "current_password": PASSWORD,
            "new_password": "violet staple orbit",
            "csrf_token": csrf_token(here, "/account"),
        },
    )
    assert changed.status_code == 302
    assert here.get("/account").status_code == 200
    assert elsewhere.get("/account").status_code == 302
    assert sign_in(app.test_client(), email, "violet staple orbit").status_code == 302


def test_admin_deactivates_a_user_who_is_signed_out_everywhere(app, world, sign_in, csrf_token):
    from carenet.accounts import service as accounts
    from carenet.accounts import tokens

    victim, admin = app.test_client(), app.test_client()
    sign_in(victim, world.emails["cbo_staff"])
    with app.app_context():
        row, token = tokens.create_api_token(accounts.find_user(world.emails["cbo_staff"]), "t")
        user_id = row.user_id
        db.session.commit()
    sign_in(admin, world.emails["admin"])
    response = admin.post(
        f"/admin/users/{user_id}/deactivate", data={"csrf_token": csrf_token(admin, "/admin/users")}
    )
    assert response.status_code == 302
    assert victim.get("/account").status_code == 302
    api = app.test_client()
    assert api.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    assert sign_in(app.test_client(), world.emails["cbo_staff"]).status_code == 401
    admin.post(
        f"/admin/users/{user_id}/activate", data={"csrf_token": csrf_token(admin, "/admin/users")}
    )
    assert sign_in(app.test_client(), world.emails["cbo_staff"]).status_code == 302


def test_only_admins_deactivate_and_not_themselves(app, world, sign_in, csrf_token):
    with app.app_context():
        from carenet.accounts import service as accounts

        admin_id = accounts.find_user(world.emails["admin"]).id
        staff_id = accounts.find_user(world.emails["cbo_staff"]).id
    admin = app.test_client()
    sign_in(admin, world.emails["admin"])
    own = admin.post(
        f"/admin/users/{admin_id}/deactivate",
        data={"csrf_token": csrf_token(admin, "/admin/users")},
    )
    assert own.status_code == 403
    cbo_admin = app.test_client()
    sign_in(cbo_admin, world.emails["cbo_admin"])
    refused = cbo_admin.post(
        f"/admin/users/{staff_id}/deactivate",
        data={"csrf_token": csrf_token(cbo_admin, "/account")},
    )
    assert refused.status_code == 403


def test_old_failures_are_pruned(app, client, world, sign_in):
    with app.app_context():
        db.session.add(
            LoginFailure(
                account="old@example.org",
                remote_addr="10.9.0.1",
                created_at=utcnow() - timedelta(days=2),
            )
        )
        db.session.commit()
    sign_in(client, world.emails["admin"], "wrong password here")
    with app.app_context():
        accounts = db.session.scalars(select(LoginFailure.account)).all()
    assert accounts == [world.emails["admin"]]
