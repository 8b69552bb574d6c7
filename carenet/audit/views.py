"""The audit log for admins: filter and read (each viewing is itself audited); there is no
way to change a row."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, request
from flask_login import current_user

from carenet.accounts.access import permission
from carenet.audit import denials, service
from carenet.audit.schemas import AuditFilterSchema

blueprint = Blueprint("audit", __name__, url_prefix="/admin")
# Refused requests to PHI routes, app-wide (carenet/audit/denials.py).
blueprint.after_app_request(denials.record_denied_request)


@blueprint.get("/audit")
@permission("list", "audit_event")
def audit_log() -> Any:
    query = AuditFilterSchema().load({k: v for k, v in request.args.items() if v != ""})
    result = service.view_log(current_user, query["criteria"], query["page"])  # audited
    return render_template(
        "admin/audit.html",
        result=result,
        criteria=query["criteria"],
        choices=service.known_values(),
    )
