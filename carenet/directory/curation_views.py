"""Curation pages: a CBO admin's services, editing one, "verified today", stale services."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import Length

from carenet.accounts.access import permission
from carenet.db.paging import page_request
from carenet.directory import curation
from carenet.directory.models import CAPACITY_STATUSES
from carenet.errors import InvalidInput
from carenet.html_forms import HtmlForm
from carenet.security import safe_local_path

blueprint = Blueprint("curation", __name__, url_prefix="/curation")


class ServiceForm(HtmlForm):
    capacity_status = SelectField("Capacity", choices=list(CAPACITY_STATUSES))
    description = TextAreaField(
        "Description", validators=[Length(max=10000)], render_kw={"rows": 5, "cols": 70}
    )
    url = StringField("Website", validators=[Length(max=512)], render_kw={"size": 60})
    email = StringField("E-mail", validators=[Length(max=255)], render_kw={"size": 40})
    hours = TextAreaField(
        "Weekly hours (one line each, e.g. MO-FR 09:00-17:00)", render_kw={"rows": 4, "cols": 40}
    )
    phones = TextAreaField(
        "Phone numbers (one per line, e.g. 555-123-4567 x12)", render_kw={"rows": 3, "cols": 40}
    )


class VerifyForm(HtmlForm):
    """Only the CSRF token: the button stamps "verified today"."""


@blueprint.get("/")
@permission("list", "service")
def services() -> Any:
    found = curation.curatable_services(
        current_user, request.args.get("organization") or None, page_request(request.args)
    )
    return render_template("directory/curation_list.html", services=found, verify=VerifyForm())


@blueprint.get("/stale")
@permission("list", "stale_service")
def stale() -> Any:
    return render_template(
        "directory/curation_stale.html",
        services=curation.stale_services(current_user, wanted=page_request(request.args)),
        days=curation.STALE_AFTER_DAYS,
        verify=VerifyForm(),
    )


@blueprint.route("/services/<service_id>", methods=["GET", "POST"])
@permission("edit", "service")
def edit_service(service_id: str) -> Any:
    service = curation.service_for_curation(current_user, service_id)
    form = ServiceForm(data=curation.describe(service))
    if request.method == "GET" or not form.validate_on_submit():
        return _edit_page(service, form), 400 if form.errors else 200
    try:
        changes = curation.ServiceChanges(
            capacity_status=form.capacity_status.data,
            hours=curation.parse_hours(form.hours.data or ""),
            phones=curation.parse_phones(form.phones.data or ""),
            description=form.description.data or "",
            url=form.url.data or "",
            email=form.email.data or "",
        )
        curation.update_service(current_user, service_id, changes)
    except InvalidInput as refused:
        for field, messages in (refused.errors or {}).items():
            getattr(form, field).errors = list(messages)
        return _edit_page(service, form), 400
    flash(f"Saved {service.name}.", "info")
    return redirect(url_for("curation.edit_service", service_id=service_id))


@blueprint.post("/services/<service_id>/verify")
@permission("verify", "service")
def verify_service(service_id: str) -> Any:
    service = curation.verify_service(current_user, service_id)
    flash(f"{service.name} is marked verified today.", "info")
    back = safe_local_path(request.form.get("back"))
    return redirect(back or url_for("curation.edit_service", service_id=service_id))


def _edit_page(service: Any, form: ServiceForm) -> str:
    return render_template(
        "directory/curation_edit.html", service=service, form=form, verify=VerifyForm()
    )
