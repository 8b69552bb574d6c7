"""Refused requests on routes that hold PHI are audited: who (or anonymous), which route,
what came of it.

After every request: when the route is guarded by a policy permission on a patient, a
referral (consents, screenings, notes and needs sit under these) or the audit log, and
the answer is a refusal — 401/403/404, or the gate sending an anonymous caller to sign
in — one ``denied`` row is written in a short writing transaction of its own
(``carenet.db.retry.run_in_transaction``), after the request's own transaction is rolled
back. Writing it never turns the response into an error: a failure is logged.
"""

from __future__ import annotations

import logging

from flask import Response, current_app, request
from flask_login import current_user

from carenet.accounts.access import marker_of
from carenet.audit import service
from carenet.extensions import db

PHI_OBJECT_TYPES = frozenset({"patient", "referral", "audit_event"})
OUTCOMES = {401: "unauthenticated", 403: "forbidden", 404: "not_found"}

log = logging.getLogger(__name__)


def phi_object_type(endpoint: str | None) -> str | None:
    """The PHI object type the endpoint's permission marker names, else None."""
    if endpoint is None:
        return None
    marker = marker_of(current_app.view_functions.get(endpoint))
    if not marker or marker[0] != "permission" or marker[2] not in PHI_OBJECT_TYPES:
        return None
    return marker[2]


def _outcome(response: Response) -> str | None:
    if not current_user.is_authenticated:
        # The gate refuses every anonymous caller of a permission route: 401 or a redirect.
        if response.status_code == 401:
            return "unauthenticated"
        return "sign_in_required" if response.status_code in (302, 303) else None
    return OUTCOMES.get(response.status_code)


def record_denied_request(response: Response) -> Response:
    """``after_request``: audit a refused request to a PHI route (never fails the response)."""
    object_type = phi_object_type(request.endpoint)
    if object_type is None:
        return response
    outcome = _outcome(response)
    if outcome is None:
        return response
    view_args = request.view_args or {}
    object_id = next(iter(view_args.values()), None)
    detail = {
        "route": request.endpoint,
        "method": request.method,
        "path": request.path[:512],
        "status": response.status_code,
        "outcome": outcome,
    }
    try:
        db.session.rollback()  # whatever the refused request left is discarded (as teardown would)
        service.record_denied(current_user, object_type, object_id, detail)
    except Exception:  # the refusal stands; a lost audit row is logged, never a 500
        log.exception("could not audit a refused request to %s", request.endpoint)
    return response
