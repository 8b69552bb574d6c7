"""The audit log for admins: filter and read; there is no way to change a row."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, request

from carenet.accounts.access import permission
from carenet.audit import service
from carenet.audit.schemas import AuditFilterSchema

blueprint = Blueprint("audit", __name__, url_prefix="/admin")


@blueprint.get("/audit")
@permission("list", "audit_event")
def audit_log() -> Any:
    query = AuditFilterSchema().load({k: v for k, v in request.args.items() if v != ""})
    result = service.search_events(query["criteria"], query["page"])
    return render_template(
        "admin/audit.html",
        result=result,
        criteria=query["criteria"],
        choices=service.known_values(),
    )
