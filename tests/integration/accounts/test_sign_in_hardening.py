"""Issue 13: the redirect after sign-in, throttling (sign-in and re-authentication),
constant-time answers and weak passwords — each measured bypass, through the real app."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from urllib.parse import unquote

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from carenet import cli, create_app
from carenet.accounts import passwords
from carenet.accounts.models import LoginFailure, User
from carenet.audit.models import AuditEvent
from carenet.config import InsecureSettings
from carenet.db.types import as_utc, utcnow
from carenet.extensions import db

PASSWORD = "a long test passphrase"


def _post_login(client, csrf_token, email, password=PASSWORD, **extra):
    data = {"email": email, "password": password, "csrf_token": csrf_token(client, "/login")}
    data.update(extra)
    return client.post("/login", data=data)


# --- (3) the redirect after sign-in ---------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        "/%09/evil.example/x",  # measured: answered Location: //evil.example/x
        "/%0d%0a/evil.example/x",
        "/%2F/evil.example/x",
        "/%5Cevil.example/x",
        "//evil.example/x",
        "https://evil.example/x",
    ],
)
def test_next_from_the_query_never_leaves_the_site(app, world, csrf_token, query):
    client = app.test_client()
    page = client.get(f"/login?next={query}")
    token = csrf_token(client, f"/login?next={query}")
    assert page.status_code == 200
    response = client.post(
        "/login",
        data={
            "email": world.emails["admin"],
            "password": PASSWORD,
            "csrf_token": token,
            "next": unquote(query),
        },
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/users"  # the admin's landing, not ``next``


def test_a_local_next_is_followed(client, world, csrf_token):
    response = _post_login(client, csrf_token, world.emails["admin"], next="/admin/audit?page=2")
    assert response.headers["Location"] == "/admin/audit?page=2"


# --- (10) weak passwords ----------------------------------------------------------------


@pytest.mark.parametrize("weak", ["carenet-demo-2026", "carenetcarenet", "CareNet2026!!"])
def test_the_demo_password_and_the_product_name_are_refused_as_new_passwords(
    app, world, sign_in, csrf_token, weak
):
    client = app.test_client()
    sign_in(client, world.emails["coordinator"])
    response = client.post(
        "/account/password",
        data={
            "current_password": PASSWORD,
            "new_password": weak,
            "csrf_token": csrf_token(client, "/account"),
        },
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    error = "Do not use the name of this service or the demo password."
    assert error in page
    assert page.index("New password") < page.index(error)  # shown at the field it is about
    assert sign_in(app.test_client(), world.emails["coordinator"], weak).status_code == 401


def test_the_command_line_refuses_the_demo_password_naming_the_field(runner, world):
    result = runner.invoke(
        args=["users", "create", "--email", "new@example.org", "--role", "coordinator",
              "--org", "Care Org", "--password-stdin"],
        input="carenet-demo-2026\n",
    )  # fmt: skip
    assert result.exit_code != 0
    assert "Password refused" in result.output
    assert "name of this service or the demo password" in result.output


# --- (4) throttling ------------------------------------------------------------------


def _shift_failures(app, seconds):
    """Make every counted failure ``seconds`` older (time passing, without waiting)."""
    with app.app_context():
        rows = db.session.scalars(select(LoginFailure)).all()
        for row in rows:
            row.created_at = as_utc(row.created_at) - timedelta(seconds=seconds)
        db.session.commit()


def _failures(app, count, account, remote_addr, age_minutes=1.0):
    with app.app_context():
        for number in range(count):
            ago = timedelta(minutes=age_minutes) - timedelta(seconds=number)
            db.session.add(
                LoginFailure(account=account, remote_addr=remote_addr, created_at=utcnow() - ago)
            )
        db.session.commit()


def test_forty_concurrent_wrong_guesses_evaluate_at_most_the_limit(app, world, csrf_token):
    """Measured before: 35 of 40 concurrent guesses were checked against a limit of 5."""
    email = world.emails["coordinator"]
    clients = [app.test_client() for _ in range(40)]
    tokens = [csrf_token(c, "/login") for c in clients]
    start = threading.Barrier(len(clients))
    before = passwords.verifications.value

    def guess(number):
        data = {"email": email, "password": f"wrong guess {number}", "csrf_token": tokens[number]}
        start.wait()
        return clients[number].post("/login", data=data).status_code

    with ThreadPoolExecutor(len(clients)) as pool:
        statuses = list(pool.map(guess, range(len(clients))))
    evaluated = passwords.verifications.value - before
    assert sorted(set(statuses)) == [401, 429], statuses  # never a 500 or 503
    assert statuses.count(401) == evaluated <= 5
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(LoginFailure)) == evaluated
        failed = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "sign_in_failed")
        ).all()
        assert len(failed) == evaluated


def test_waits_grow_for_one_account_at_one_address(app, client, world, sign_in):
    email = world.emails["coordinator"]
    for _ in range(5):
        assert sign_in(client, email, "wrong password here").status_code == 401
    waits = []
    for _ in range(3):
        refused = sign_in(client, email, "wrong password here")
        assert refused.status_code == 429
        waits.append(int(refused.headers["Retry-After"]))
        _shift_failures(app, waits[-1] + 1)  # the wait has passed
        assert sign_in(client, email, "wrong password here").status_code == 401  # counted
    assert [round(w / 60) for w in waits] == [1, 2, 4]
    eighth = sign_in(client, email)  # even the right password waits
    assert eighth.status_code == 429 and round(int(eighth.headers["Retry-After"]) / 60) == 8


def test_an_attacker_at_one_address_does_not_lock_the_user_out_elsewhere(app, world, sign_in):
    """Measured before: five wrong passwords locked the real user out everywhere ~15 min."""
    email = world.emails["coordinator"]
    _failures(app, 12, email, "203.0.113.9")  # as many as one address gets in the window
    attacker = sign_in(app.test_client(), email, REMOTE_ADDR="203.0.113.9")
    assert attacker.status_code == 429 and int(attacker.headers["Retry-After"]) > 600
    assert sign_in(app.test_client(), email, REMOTE_ADDR="198.51.100.7").status_code == 302


def test_failures_from_many_addresses_slow_the_account_for_a_short_while_only(app, world, sign_in):
    email = world.emails["coordinator"]
    _failures(app, 20, email, "203.0.113.9")
    with app.app_context():  # spread over 20 addresses: no address reaches its own limit
        for number, row in enumerate(db.session.scalars(select(LoginFailure)).all()):
            row.remote_addr = f"203.0.113.{number}"
        db.session.commit()
    # the latest failure was 41 s ago
    user = app.test_client()
    slowed = sign_in(user, email, REMOTE_ADDR="198.51.100.7")
    assert slowed.status_code == 429 and int(slowed.headers["Retry-After"]) <= 60
    _shift_failures(app, 60)
    assert sign_in(user, email, REMOTE_ADDR="198.51.100.7").status_code == 302


def test_failures_on_other_accounts_from_one_address_do_not_block_it_below_its_limit(
    app, client, world, sign_in
):
    """Measured before: the per-address block of 5 hit every other account there."""
    for number in range(6):
        sign_in(client, f"typo{number}@example.org", "wrong password here", REMOTE_ADDR="10.7.0.1")
    assert sign_in(client, world.emails["admin"], REMOTE_ADDR="10.7.0.1").status_code == 302


def test_reauthentication_is_throttled_and_audited(app, world, sign_in, csrf_token):
    """Measured before: 30 wrong current passwords, then the right one accepted, unaudited."""
    client = app.test_client()
    sign_in(client, world.emails["cbo_staff"])

    def change(current):
        return client.post(
            "/account/password",
            data={
                "current_password": current,
                "new_password": "violet staple orbit",
                "csrf_token": csrf_token(client, "/account"),
            },
        )

    answers = [change(f"wrong current {n}").status_code for n in range(30)]
    assert answers[:5] == [400] * 5 and set(answers[5:]) == {429}
    refused = change(PASSWORD)
    assert refused.status_code == 429 and "Retry-After" in refused.headers
    assert "Too many failed sign-ins" in refused.get_data(as_text=True)
    with app.app_context():
        rows = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "reauthenticate_failed")
        ).all()
        assert len(rows) == 5
        assert {row.actor_email for row in rows} == {world.emails["cbo_staff"]}
    _shift_failures(app, 16 * 60)
    assert change(PASSWORD).status_code == 302


# --- (8) the same work whatever the account's state ----------------------------------


def test_every_sign_in_answer_does_exactly_one_verification(app, world, sign_in, csrf_token):
    """Measured before: a deactivated account answered in ~28 ms against ~517 ms."""
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == world.emails["cbo_staff"]))
        user.active = False
        db.session.commit()
    cases = {
        "unknown": ("nobody@example.org", PASSWORD, 401),
        "deactivated, right password": (world.emails["cbo_staff"], PASSWORD, 401),
        "deactivated, wrong password": (world.emails["cbo_staff"], "wrong password here", 401),
        "wrong password": (world.emails["coordinator"], "wrong password here", 401),
        "right password": (world.emails["admin"], PASSWORD, 302),
    }
    for case, (email, password, status) in cases.items():
        client = app.test_client()
        token = csrf_token(client, "/login")
        before = passwords.verifications.value
        response = client.post(
            "/login", data={"email": email, "password": password, "csrf_token": token}
        )
        assert response.status_code == status, case
        assert passwords.verifications.value - before == 1, case
        if status == 401:
            assert "E-mail or password is incorrect." in response.get_data(as_text=True)


# --- (9) production unless development is asked for ------------------------------------

LONG_KEY = "0123456789abcdef0123456789abcdef-not-a-real-key"


def _app_without_env_name(monkeypatch, database_url, **config):
    monkeypatch.delenv("CARENET_ENV", raising=False)
    return create_app({"SQLALCHEMY_DATABASE_URI": database_url, **config})


@pytest.mark.parametrize(
    ("key", "named"),
    [
        (None, "CARENET_SECRET_KEY is not set"),
        ("", "CARENET_SECRET_KEY is not set"),
        ("dev-only-not-secret", "CARENET_SECRET_KEY is too short or a known development value"),
        ("short-but-random-Xq9", "CARENET_SECRET_KEY is too short or a known development value"),
    ],
)
def test_without_carenet_env_the_app_is_production_and_refuses_a_weak_key(
    monkeypatch, database_url, key, named
):
    with pytest.raises(InsecureSettings, match=named) as refused:
        _app_without_env_name(monkeypatch, database_url, SECRET_KEY=key)
    assert "CARENET_ENV=development" in str(refused.value)  # and how to ask for development


def test_debug_mode_is_refused_in_production(monkeypatch, database_url):
    monkeypatch.setenv("FLASK_DEBUG", "1")
    with pytest.raises(InsecureSettings, match="FLASK_DEBUG"):
        _app_without_env_name(monkeypatch, database_url, SECRET_KEY=LONG_KEY)


def test_without_carenet_env_a_real_key_gives_secure_cookies_and_hsts(
    monkeypatch, database_url, world, sign_in
):
    """Measured before: CARENET_ENV unset ran development — no Secure, no HSTS."""
    app = _app_without_env_name(monkeypatch, database_url, SECRET_KEY=LONG_KEY)
    try:
        assert app.config["ENV_NAME"] == "production"
        response = sign_in(app.test_client(), world.emails["coordinator"])
        assert "Secure" in response.headers["Set-Cookie"]
        assert "Strict-Transport-Security" in response.headers
    finally:
        with app.app_context():
            db.engine.dispose()


def test_the_wsgi_entry_point_refuses_to_start_without_a_secret(tmp_path):
    """What gunicorn runs (``carenet:create_app()``), with no CARENET_* setting at all."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CARENET_", "FLASK_"))}
    env["CARENET_INSTANCE_DIR"] = str(tmp_path)
    done = subprocess.run(
        [sys.executable, "-c", "from carenet import create_app; create_app()"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode != 0
    assert "CARENET_SECRET_KEY is not set (CARENET_ENV=production)" in done.stderr


def test_the_development_server_asks_for_development(monkeypatch):
    monkeypatch.delenv("CARENET_ENV", raising=False)
    result = CliRunner().invoke(cli.main, ["run", "--help"])
    assert result.exit_code == 0, result.output
    assert os.environ["CARENET_ENV"] == "development"
    monkeypatch.setenv("CARENET_ENV", "production")  # an explicit choice wins
    CliRunner().invoke(cli.main, ["run", "--help"])
    assert os.environ["CARENET_ENV"] == "production"
