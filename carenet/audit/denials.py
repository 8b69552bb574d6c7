"""Refused requests on routes that hold PHI are audited: who (or anonymous), which route,
what came of it.

After every request: when the route is guarded by a policy permission on a patient, a
referral (consents, screenings, notes and needs sit under these) or the audit log, and
the answer is a refusal — 401/403/404, or the gate sending an anonymous caller to sign
in — one ``denied`` row is written in a short writing transaction of its own
(``carenet.db.retry.run_in_transaction``), after the request's own transaction is rolled
back. Writing it never turns the response into an error: a failure is logged.

**Anonymous floods.** A refusal of an anonymous caller is counted per address, route and
minute (``audit_denial_window``, one upsert); only the first of each minute writes the
audit row (its detail names the window), so one address can add at most one row per
route per minute however fast it asks; the window's ``count`` holds how many refusals
there were. Signed-in callers' refusals are each audited (their sign-ins are throttled).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from flask import Response, current_app, request
from flask_login import current_user
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from carenet.accounts.access import marker_of
from carenet.audit import service
from carenet.audit.models import DenialWindow
from carenet.db.retry import run_in_transaction
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
        if current_user.is_authenticated:
            service.record_denied(current_user, object_type, object_id, detail)
        else:
            run_in_transaction(lambda: _record_anonymous(object_type, object_id, detail))
    except Exception:  # the refusal stands; a lost audit row is logged, never a 500
        log.exception("could not audit a refused request to %s", request.endpoint)
    return response


def window_of(moment: datetime) -> datetime:
    """The minute ``moment`` falls in (its start, UTC)."""
    return moment.astimezone(UTC).replace(second=0, microsecond=0)


def _record_anonymous(object_type: str, object_id: Any, detail: dict[str, Any]) -> None:
    """Count the refusal in its window; the first of the window writes the audit row."""
    address = (request.remote_addr or "unknown")[:64]
    route = str(detail["route"])[:128]
    window = window_of(datetime.now(UTC))
    dialect = db.session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    values = insert(DenialWindow).values(
        remote_addr=address, route=route, window_start=window, count=1
    )
    upsert = values.on_conflict_do_update(
        index_elements=["remote_addr", "route", "window_start"],
        set_={"count": DenialWindow.count + 1},
    )
    count = db.session.execute(upsert.returning(DenialWindow.count)).scalar_one()
    if count == 1:
        detail = {**detail, "window": window.isoformat(), "counted_in": "audit_denial_window"}
        service.record(current_user, "denied", object_type, object_id, detail)
