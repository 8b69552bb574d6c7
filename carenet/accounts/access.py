"""Route access markers. Every view and API handler declares who may reach it.

- ``@public``: anyone, signed in or not (the public directory, login, health);
- ``@authenticated``: any signed-in user (their own account page);
- ``@permission(action, object_type)``: whoever the policy allows that action
  on that type of object (``carenet.accounts.policy``); object-level checks
  (this service, that referral) then happen in the service function.

``enforce`` runs before every request and refuses an endpoint with no marker
(deny by default); a test walks ``app.url_map`` so no route goes undeclared.
Framework endpoints (static files) are allowed in ``FRAMEWORK_ENDPOINTS`` only.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum
from typing import Any, TypeVar

from flask import current_app, redirect, request, url_for
from flask_login import current_user
from werkzeug.exceptions import Forbidden

from carenet.accounts import policy
from carenet.accounts.actor import Actor

F = TypeVar("F", bound=Callable[..., Any])

ACCESS_ATTRIBUTE = "carenet_access"
FRAMEWORK_ENDPOINTS = frozenset({"static"})


def public(view: F) -> F:
    """Anyone may call this endpoint (the public directory, login, health)."""
    setattr(view, ACCESS_ATTRIBUTE, ("public",))
    return view


def authenticated(view: F) -> F:
    """Any signed-in user may call this endpoint."""
    setattr(view, ACCESS_ATTRIBUTE, ("authenticated",))
    return view


def permission(action: str, object_type: str) -> Callable[[F], F]:
    """Callers the policy allows ``action`` on ``object_type`` may call this endpoint.

    A marker naming no rule refuses everyone (the policy denies by default); the
    route-matrix test reports such markers. Rules may register after the marker.
    """

    def mark(view: F) -> F:
        setattr(view, ACCESS_ATTRIBUTE, ("permission", action, object_type))
        return view

    return mark


class Verdict(Enum):
    ALLOW = "allow"
    SIGN_IN = "sign in"  # 401: anonymous caller, the route needs a user
    FORBID = "forbid"  # 403: signed in, but the policy says no
    UNDECLARED = "undeclared"  # the route has no marker: refused


def marker_of(view: Any) -> tuple[str, ...] | None:
    return getattr(view, ACCESS_ATTRIBUTE, None)


def is_framework_endpoint(endpoint: str) -> bool:
    return endpoint in FRAMEWORK_ENDPOINTS or endpoint.endswith(".static")


def route_verdict(view: Any, user: Actor) -> Verdict:
    """Whether ``user`` may reach the endpoint whose view function is ``view``."""
    marker = marker_of(view)
    if not marker:
        return Verdict.UNDECLARED
    if marker[0] == "public":
        return Verdict.ALLOW
    if not getattr(user, "is_authenticated", False):
        return Verdict.SIGN_IN
    if marker[0] == "authenticated":
        return Verdict.ALLOW
    if marker[0] == "permission" and policy.allows(marker[1], user, None, marker[2]):
        return Verdict.ALLOW
    return Verdict.FORBID


def enforce() -> Any:
    """``before_request``: refuse a request its route's marker does not admit."""
    endpoint = request.endpoint
    if endpoint is None or is_framework_endpoint(endpoint):
        return None  # no route matched (404/405 follow) or a static file
    # Load the caller now, before the view runs (the loaders' last-seen/last-used stamps
    # are bookkeeping, written after the response: carenet.db.bookkeeping).
    user = current_user._get_current_object()
    verdict = route_verdict(current_app.view_functions.get(endpoint), user)
    if verdict is Verdict.ALLOW:
        return None
    if verdict is Verdict.SIGN_IN:
        return _ask_to_sign_in()
    if verdict is Verdict.UNDECLARED:
        current_app.logger.error("endpoint %s has no access marker; refused", endpoint)
    raise Forbidden("You are not allowed to see this page.")


def _ask_to_sign_in() -> Any:
    from carenet.errors import problem, wants_json

    if wants_json():
        response = problem(401, "Unauthorized", "Sign in or send an API token.")
        response.headers["WWW-Authenticate"] = 'Bearer realm="carenet"'
        return response
    if request.method == "POST":  # a form sent after the session ended: keep the user's place
        from carenet.accounts.kept_form import ask_to_sign_in_again

        return ask_to_sign_in_again()
    return redirect(url_for("accounts.login", next=request.full_path.rstrip("?")))
