"""The program lead's dashboard page: charts and tables of the aggregate reports."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Blueprint, render_template, request

from carenet.accounts.access import permission
from carenet.extensions import db
from carenet.reports import charts
from carenet.reports.query import GROUPS, RELEASE_PERIODS
from carenet.reports.schemas import ReportArgs, args_from
from carenet.reports.service import dashboard, filter_choices

blueprint = Blueprint("reports", __name__)


@blueprint.get("/reports")
@permission("view", "aggregate_report")
def dashboard_page() -> Any:
    args = args_from(request.args)
    query = ReportArgs().load(args)
    found = dashboard(db.session(), query)
    last = (query.end - timedelta(days=1)).date()
    return render_template(
        "reports/dashboard.html",
        query=query,
        last_day=last,
        args=args,
        found=found,
        choices=filter_choices(db.session()),
        groups=GROUPS,
        periods=RELEASE_PERIODS,
        snapped=(query.start.date(), last) != (found.first, found.last),
        trend_chart=charts.stacked_columns(found.trend),
        reasons_chart=charts.horizontal_bars(found.reason_totals),
        times_chart=charts.median_whiskers(found.completion_times),
    )
