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
