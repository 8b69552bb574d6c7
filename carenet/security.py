"""Request-wide security: who the caller is, route access, CSRF, security headers.

``init_app`` wires Flask-Login (cookie sessions backed by a ``user_session``
row, or ``Authorization: Bearer <token>``), the deny-by-default route gate,
CSRF for cookie-authenticated requests, and the headers every response gets.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import timedelta
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

from flask import Flask, Request, Response, current_app, flash, g, request, session
from flask_login import AnonymousUserMixin, current_user

from carenet.accounts import access
from carenet.extensions import csrf, login_manager

if TYPE_CHECKING:
    from carenet.accounts.actor import Actor
    from carenet.accounts.models import User

SESSION_KEY = "session_key"


class Anonymous(AnonymousUserMixin):
    """The caller nobody signed in as: no roles, no organizations."""

    id = None
    email = None
    label = "anonymous"
    roles: frozenset[str] = frozenset()

    def organization_ids(self, *roles: str) -> set[str]:
        return set()


if TYPE_CHECKING:
    # Both kinds of caller are Actors. mypy checks User here; AnonymousUserMixin has no
    # types (so Anonymous passes whatever it has), and tests/unit/accounts/test_actor.py
    # checks that an Anonymous has every member of Actor.
    _anonymous_is_an_actor: type[Actor] = Anonymous
    _user_is_an_actor: type[Actor] = User


def init_app(app: Flask) -> None:
    """Install login handling, the access gate, CSRF and the response headers on ``app``."""
    minutes = int(app.config.get("IDLE_TIMEOUT_MINUTES", 30))
    app.config["PERMANENT_SESSION_LIFETIME"] = timedelta(minutes=minutes)
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False  # checked below, except for token requests

    from carenet.db import bookkeeping, retry

    # First of the request hooks: whether this request's transactions write is decided
    # before the caller is loaded (the loaders' reads are a request's first transaction).
    retry.init_app(app)
    bookkeeping.init_app(app)  # last-seen / last-used stamps, written after the response

    login_manager.anonymous_user = Anonymous
    login_manager.login_view = "accounts.login"
    login_manager.user_loader(_load_session_user)
    login_manager.request_loader(_load_token_user)

    app.before_request(access.enforce)
    app.before_request(_protect_from_csrf)
    app.after_request(_security_headers)
    app.extensions["carenet_csp"] = content_security_policy(app.config.get("MAP_TILE_URL") or "")


def _load_session_user(user_id: str) -> User | None:
    from carenet.accounts import service

    user = service.user_for_session(user_id, session.get(SESSION_KEY))
    if user is None:
        session.clear()  # ended, idle too long or forged: forget it
        if not request.path.startswith("/api/"):
            flash("Your session has ended; please sign in again.", "info")
    else:
        g.authenticated_by = "session"
    return user


def _load_token_user(req: Request) -> User | None:
    from carenet.accounts import tokens

    scheme, _, token = req.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    user = tokens.user_for_token(token.strip())
    if user is not None:
        g.authenticated_by = "token"
    return user


MAX_LOCAL_PATH = 2048
_CONTROL = frozenset({"Cc", "Cf", "Zl", "Zp"})  # controls, format characters, line breaks


def safe_local_path(target: str | None) -> str | None:
    """``target`` if it is a path on this site, else None: the one check of every redirect
    target taken from a request (``next``, ``back``).

    Accepted: an absolute path (``/...``, optionally ``?query`` / ``#fragment``) with no
    scheme and no host, in printable ASCII with no space or backslash. The same holds
    after each of up to three rounds of percent-decoding (for the query, no control
    characters), so ``/%09/evil.example``, ``/%2F/evil.example`` and
    ``/%5Cevil.example`` are refused like the characters they encode. Refused:
    ``//host``, ``/\\host``, ``https:...``, ``javascript:...``, control characters (a
    tab, CR or LF is dropped by browsers and servers, turning ``/\t/evil`` into
    ``//evil``), non-ASCII (look-alike slashes), more than 2048 characters.
    """
    if not target or len(target) > MAX_LOCAL_PATH or not _plain_path(target, target):
        return None
    text = target
    for _ in range(3):  # each level of percent-decoding
        decoded = unquote(text)
        if decoded == text:
            return target
        if not _plain_path(decoded, re.split(r"[?#]", decoded, maxsplit=1)[0]):
            return None
        text = decoded
    return None  # still encoded after three rounds: nobody needs that


def _plain_path(text: str, strict: str) -> bool:
    """Whether ``text`` is a local path: ``strict`` (its head, or all of it) printable
    ASCII without space or backslash, the rest free of control characters."""
    if not text.startswith("/") or text.startswith("//"):
        return False
    if any(not ("!" <= char <= "~") or char == "\\" for char in strict):
        return False
    if any(unicodedata.category(char) in _CONTROL for char in text):
        return False
    parts = urlsplit(text)
    return not parts.scheme and not parts.netloc


def authenticated_by_token() -> bool:
    return bool(current_user.is_authenticated) and g.get("authenticated_by") == "token"


def _protect_from_csrf() -> None:
    if not current_app.config.get("WTF_CSRF_ENABLED", True):
        return
    if request.method not in current_app.config["WTF_CSRF_METHODS"]:
        return
    if "Authorization" in request.headers and authenticated_by_token():
        return  # a bearer token is not sent by browsers on their own: no CSRF risk
    csrf.protect(apply_exemptions=True)


def content_security_policy(map_tile_url: str = "") -> str:
    """The CSP header value: our own origin only, plus the map tile host if one is set."""
    images = "'self' data:"
    parts = urlsplit(map_tile_url)
    if parts.scheme in ("http", "https") and parts.netloc:
        images += f" {parts.scheme}://{parts.netloc.replace('{s}', '*')}"
    return (
        "default-src 'self'; script-src 'self'; style-src 'self'; "
        f"img-src {images}; connect-src 'self'; object-src 'none'; "
        "frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
    )


def _security_headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault(
        "Content-Security-Policy",
        current_app.extensions.get("carenet_csp") or content_security_policy(),
    )
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=(self)")
    if current_app.config.get("ENV_NAME") not in ("development", "test"):
        headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    user = g.get("_login_user")
    if user is not None and user.is_authenticated:
        headers["Cache-Control"] = "no-store"
        if "cookie" not in headers.get("Vary", "").lower():
            headers.add("Vary", "Cookie")
    return response
