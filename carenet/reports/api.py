"""JSON and CSV API of the reports: ``GET /api/v1/reports/<name>`` and ``<name>.csv``."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request
from flask_login import current_user

from carenet.accounts.access import permission
from carenet.audit import service as audit
from carenet.extensions import db
from carenet.reports.csv_export import to_csv
from carenet.reports.schemas import ReportArgs, ReportTableOut, args_from
from carenet.reports.service import run_report

blueprint = Blueprint("reports_api", __name__, url_prefix="/api/v1/reports")


@blueprint.get("/<name>")
@permission("view", "aggregate_report")
def report(name: str) -> Any:
    if name.endswith(".csv"):
        return report_csv(name.removesuffix(".csv"))
    table = run_report(db.session(), name, ReportArgs().load(args_from(request.args)))
    return jsonify(ReportTableOut().dump(table))


def report_csv(name: str) -> Response:
    """The report as a CSV download (the same cells as the page); the export is audited."""
    table = run_report(db.session(), name, ReportArgs().load(args_from(request.args)))
    audit.record_read(
        current_user,
        "aggregate_report",
        table.name,
        action="export",
        detail=args_from(request.args),
    )
    response = Response(to_csv(table), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{table.name}.csv"'
    return response
