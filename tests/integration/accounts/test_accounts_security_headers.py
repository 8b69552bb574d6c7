"""Security headers on every response; errors never show a trace or SQL."""

from __future__ import annotations

from sqlalchemy import text

from carenet import create_app
from carenet.accounts.access import public
from carenet.extensions import db

EXPECTED = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


def _check(response):
    for name, value in EXPECTED.items():
        assert response.headers.get(name) == value, name
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self';" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp and "default-src 'self'" in csp


def test_headers_on_pages_errors_api_and_static_files(client, world):
    for path in ("/", "/login", "/no-such-page", "/api/v1/me", "/static/css/carenet.css"):
        _check(client.get(path))


def test_signed_in_pages_are_not_cached(client, world, sign_in):
    assert "no-store" not in client.get("/").headers.get("Cache-Control", "")
    sign_in(client, world.emails["coordinator"])
    assert client.get("/account").headers["Cache-Control"] == "no-store"


def test_map_tile_host_is_allowed_for_images(database_url):
    app = create_app(
        {
            "ENV_NAME": "test",
            "SQLALCHEMY_DATABASE_URI": database_url,
            "SECRET_KEY": "x",
            "MAP_TILE_URL": "https://{s}.tiles.example.org/{z}/{x}/{y}.png",
        }
    )
    try:
        csp = app.test_client().get("/login").headers["Content-Security-Policy"]
        assert "img-src 'self' data: https://*.tiles.example.org;" in csp
    finally:
        with app.app_context():
            db.engine.dispose()


def test_unexpected_errors_show_a_friendly_page_without_trace_or_sql(app, client):
    def broken():
        db.session.execute(text("SELECT no_such_column FROM no_such_table"))

    app.add_url_rule("/broken", "broken", public(broken))
    app.add_url_rule("/api/v1/broken", "api_broken", public(broken))
    page = client.get("/broken")
    assert page.status_code == 500
    body = page.get_data(as_text=True)
    assert "Something went wrong" in body
    assert "no_such_table" not in body and "Traceback" not in body
    api = client.get("/api/v1/broken")
    assert api.status_code == 500 and api.mimetype == "application/problem+json"
    assert "no_such_table" not in api.get_data(as_text=True)
    _check(api)
