"""An expired session keeps the user's place: a form sent after the session ended brings the
user, once signed in again, back to the page of the form with what they had typed filled in.

The typed values never reach the server here: ``static/js/kept-form.js`` keeps them in the
tab's ``sessionStorage`` as the form is sent. The server only remembers *which page* to go
back to — a same-site path in a short-lived cookie (``carenet_restore``, no form data), set
when the access gate turns away a POST for want of a session (``ask_to_sign_in_again``); it
outlives sign-in's fresh session, and the page it names is rendered once with
``data-restore-form`` (``restore_form`` in templates), which tells the script to fill in.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Flask, current_app, flash, g, redirect, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from carenet.security import safe_local_path

COOKIE = "carenet_restore"
COOKIE_SECONDS = 30 * 60  # long enough to sign in again; the values live in the tab anyway


def _form_page() -> str | None:
    """The page the refused form was sent from: the Referer, if it is on this site."""
    referrer = urlsplit(request.referrer or "")
    if not referrer.path or (referrer.netloc and referrer.netloc != request.host):
        return None
    return safe_local_path(referrer.path + (f"?{referrer.query}" if referrer.query else ""))


def ask_to_sign_in_again() -> Response:
    """The reply to a POST from a browser whose session ended: sign in, then back to the form
    (values restored by the script); without a usable Referer, sign in and start again."""
    page = _form_page()
    flash(
        "Your session ended before this was sent. Sign in again: the form will be filled in "
        "as you left it, to check and send again.",
        "warning",
    )
    response = redirect(url_for("accounts.login", next=page) if page else url_for("accounts.login"))
    if page:
        response.set_cookie(
            COOKIE,
            page,
            max_age=COOKIE_SECONDS,
            httponly=True,
            samesite="Lax",
            secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")),
        )
    return response


def _restore_form() -> dict[str, Any]:
    wanted = request.cookies.get(COOKIE)
    if not wanted or request.method != "GET" or not current_user.is_authenticated:
        return {}
    if wanted != request.full_path.rstrip("?"):
        return {}
    g.form_restored = True
    return {"restore_form": wanted}


def _forget(response: Response) -> Response:
    if g.get("form_restored"):
        response.delete_cookie(COOKIE, samesite="Lax")
    return response


def init_app(app: Flask) -> None:
    app.context_processor(_restore_form)
    app.after_request(_forget)
