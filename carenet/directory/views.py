"""HTML pages of the directory: a service's page, with its hours in words and a Refer action."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_login import current_user

from carenet.accounts import policy
from carenet.accounts.access import public
from carenet.directory import service as directory
from carenet.directory.models import Schedule
from carenet.directory.search.details import capacity_words, is_stale
from carenet.directory.search.hours_words import describe
from carenet.directory.search.opening_hours import rule_from_schedule
from carenet.directory.search.views import referral_context

blueprint = Blueprint("directory", __name__)


def hours_in_words(schedules: list[Schedule]) -> list[str]:
    """The schedules' opening hours as sentences (local time of the location)."""
    rules = [
        rule_from_schedule(s.freq, s.byday, s.bymonthday, s.opens_at, s.closes_at,
                           s.valid_from, s.valid_to)
        for s in schedules
    ]  # fmt: skip
    return describe(rules)


@blueprint.get("/services/<service_id>")
@public
def service_page(service_id: str) -> str:
    shown = directory.get_service(service_id)
    schedules = list(shown.schedules)
    for sal in shown.service_at_locations:
        schedules += [s for s in sal.location.schedules if s.service_id in (None, shown.id)]
    can_refer = bool(current_user.is_authenticated) and policy.allows(
        "send", current_user, None, "referral"
    )
    return render_template(
        "directory/service.html",
        service=shown,
        hours=hours_in_words(schedules),
        capacity=capacity_words(shown.capacity_status),
        stale=is_stale(shown.last_verified_at),
        can_refer=can_refer,
        context=referral_context(dict(request.args)),
    )
