"""Issue 13: the redirect after sign-in, throttling (sign-in and re-authentication),
constant-time answers and weak passwords — each measured bypass, through the real app."""

from __future__ import annotations

from urllib.parse import unquote

import pytest

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
    assert response.headers["Location"] == "/account"


def test_a_local_next_is_followed(client, world, csrf_token):
    response = _post_login(client, csrf_token, world.emails["admin"], next="/admin/audit?page=2")
    assert response.headers["Location"] == "/admin/audit?page=2"
