"""API tokens: shown once, stored hashed, usable as Bearer, revocable, last-used stamped."""

from __future__ import annotations

import hashlib
import re

from sqlalchemy import select

from carenet.accounts import service, tokens
from carenet.accounts.models import ApiToken
from carenet.extensions import db


def _make_token(app, email):
    with app.app_context():
        row, text = tokens.create_api_token(service.find_user(email), "test")
        db.session.commit()
        return row.id, text


def test_token_is_stored_only_as_its_sha256(app, world):
    token_id, text = _make_token(app, world.emails["coordinator"])
    with app.app_context():
        row = db.session.get(ApiToken, token_id)
        assert row.token_hash == hashlib.sha256(text.encode()).hexdigest()
        assert text not in (row.token_hash, row.prefix, row.name)
        assert len(text) >= 43  # 32 random bytes, URL-safe base64


def test_bearer_token_authenticates_and_stamps_last_used(app, client, world):
    token_id, text = _make_token(app, world.emails["coordinator"])
    # buffered: the test client closes the response, as a server does once it has sent it;
    # bookkeeping stamps are written then (carenet.db.bookkeeping)
    headers = {"Authorization": f"Bearer {text}"}
    response = client.get("/api/v1/me", headers=headers, buffered=True)
    assert response.status_code == 200
    body = response.get_json()
    assert body["email"] == world.emails["coordinator"]
    assert body["roles"] == ["coordinator"]
    assert "password_hash" not in body
    with app.app_context():
        assert db.session.get(ApiToken, token_id).last_used_at is not None


def test_api_without_credentials_answers_401_problem_json(client, world):
    response = client.get("/api/v1/me")
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    bad = client.get("/api/v1/me", headers={"Authorization": "Bearer not-a-token"})
    assert bad.status_code == 401


def test_revoked_token_stops_working(app, client, world):
    token_id, text = _make_token(app, world.emails["coordinator"])
    headers = {"Authorization": f"Bearer {text}"}
    # token requests are exempt from CSRF: no browser sends a bearer token by itself
    response = client.post(f"/api/v1/tokens/{token_id}/revoke", headers=headers)
    assert response.status_code == 200
    assert response.get_json()["revoked_at"]
    assert client.get("/api/v1/me", headers=headers).status_code == 401


def test_someone_elses_token_is_not_found(app, client, world):
    token_id, _ = _make_token(app, world.emails["coordinator"])
    _, other = _make_token(app, world.emails["cbo_staff"])
    response = client.post(
        f"/api/v1/tokens/{token_id}/revoke", headers={"Authorization": f"Bearer {other}"}
    )
    assert response.status_code == 404
    with app.app_context():
        assert db.session.get(ApiToken, token_id).revoked_at is None


def test_cookie_session_posts_to_the_api_still_need_csrf(app, client, world, sign_in):
    token_id, _ = _make_token(app, world.emails["coordinator"])
    sign_in(client, world.emails["coordinator"])
    assert client.post(f"/api/v1/tokens/{token_id}/revoke").status_code == 400


def test_account_page_shows_a_new_token_once_and_revokes_it(
    app, client, world, sign_in, csrf_token
):
    sign_in(client, world.emails["cbo_staff"])
    page = client.post(
        "/account/tokens", data={"name": "laptop", "csrf_token": csrf_token(client, "/account")}
    )
    assert page.status_code == 200
    text = re.search(r'<code id="new-token">([^<]+)</code>', page.get_data(as_text=True)).group(1)
    api = app.test_client()  # no session cookie: only the token speaks
    assert api.get("/api/v1/me", headers={"Authorization": f"Bearer {text}"}).status_code == 200
    assert text not in client.get("/account").get_data(as_text=True)  # shown once
    with app.app_context():
        token_id = db.session.scalar(select(ApiToken.id))
    client.post(
        f"/account/tokens/{token_id}/revoke", data={"csrf_token": csrf_token(client, "/account")}
    )
    assert api.get("/api/v1/me", headers={"Authorization": f"Bearer {text}"}).status_code == 401


def test_cli_creates_lists_and_revokes_tokens(app, runner, world, client):
    result = runner.invoke(args=["tokens", "create", "--email", world.emails["admin"]])
    assert result.exit_code == 0, result.output
    text = result.stdout.strip().splitlines()[-1]
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {text}"}).status_code == 200
    listing = runner.invoke(args=["tokens", "list", "--email", world.emails["admin"]])
    token_id = listing.output.split("\t")[0]
    assert text not in listing.output
    revoked = runner.invoke(args=["tokens", "revoke", token_id])
    assert revoked.exit_code == 0, revoked.output
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {text}"}).status_code == 401
    unknown = runner.invoke(args=["tokens", "create", "--email", "nobody@example.org"])
    assert unknown.exit_code != 0 and "No user with e-mail 'nobody@example.org'" in unknown.output
