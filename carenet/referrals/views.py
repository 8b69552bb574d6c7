"""Referral pages: the coordinator's dashboard and send form; the CBO inbox, referral page,
moves, notes and capacity switch."""

from __future__ import annotations

import uuid
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from carenet.accounts.access import permission
from carenet.db.paging import page_request
from carenet.directory.models import Service
from carenet.errors import NotFound
from carenet.extensions import db
from carenet.referrals import capacity, history, patients, schemas, service, workflow
from carenet.referrals.forms import form_data, on_error_back
from carenet.referrals.workflow import REASONS

blueprint = Blueprint(
    "referrals", __name__, static_folder="static", static_url_path="/static/referrals"
)


@blueprint.get("/dashboard")
@permission("manage", "referral")
def dashboard() -> str:
    """The coordinator's open referrals, overdue first, a page at a time, counted by status."""
    found = service.dashboard(current_user, page_request(request.args))
    return render_template("referrals/dashboard.html", rows=found.rows, counts=found.counts)


@blueprint.get("/inbox")
@permission("respond", "referral")
def inbox() -> str:
    """The CBO's referrals: overdue, new, accepted (and under way), waitlist — the first rows
    of each, with a link to all of a section."""
    found = service.inbox(current_user)
    return render_template(
        "referrals/inbox.html",
        sections=found.sections,
        titles=found.titles,
        services=found.services,
        capacities=found.capacities,
    )


@blueprint.get("/inbox/<section>")
@permission("respond", "referral")
def inbox_section(section: str) -> str:
    """All of one inbox section, a page at a time."""
    found = service.inbox_section(current_user, section, page_request(request.args))
    return render_template(
        "referrals/inbox_section.html",
        rows=found,
        section=section,
        title=service.INBOX_SECTIONS[section],
    )


@blueprint.get("/referrals/new")
@permission("send", "referral")
def new_referral() -> str:
    """The send form, reached from a service in search results."""
    patient = patients.get_patient(current_user, request.args.get("patient_id", ""))
    chosen = db.session.get(Service, request.args.get("service_id", ""))
    if chosen is None:
        raise NotFound("No such service.")
    need_id = request.args.get("need_id")
    return render_template(
        "referrals/new.html",
        patient=patient,
        service=chosen,
        need=next((n for n in patient.needs if n.id == need_id), None),
        idempotency_key=str(uuid.uuid4()),  # a double click sends one referral
    )


@blueprint.post("/referrals/new")
@permission("send", "referral")
def send_referral() -> Any:
    back = request.referrer or url_for("patients.patient_list")

    def send() -> Any:
        fields = form_data(schemas.ReferralIn())
        sent = service.send_referral(
            current_user, service.ReferralRequest(**fields), request.form.get("idempotency_key")
        )
        for warning in sent.warnings:
            flash(warning, "warning")
        flash("Referral sent." if sent.created else "This referral was already sent.", "success")
        return redirect(url_for("referrals.referral_page", referral_id=sent.referral.id))

    return on_error_back(send, back)


@blueprint.get("/referrals/<referral_id>")
@permission("view", "referral")
def referral_page(referral_id: str) -> str:
    shown = service.open_referral(current_user, referral_id)
    return render_template(
        "referrals/referral.html",
        shown=shown,
        referral=shown.referral,
        events=history.events_for(shown),
        notes=history.notes_for(shown),
        reasons=REASONS,
    )


@blueprint.post("/referrals/<referral_id>/move")
@permission("view", "referral")
def move(referral_id: str) -> Any:
    back = url_for("referrals.referral_page", referral_id=referral_id)

    def make_move() -> Any:
        fields = form_data(schemas.TransitionForm())
        referral = workflow.transition(
            current_user, referral_id, fields.pop("to"), fields.pop("version"), **fields
        )
        flash(f"The referral is now {referral.status}.", "success")
        return redirect(back)

    return on_error_back(make_move, back)


@blueprint.post("/referrals/<referral_id>/notes")
@permission("note", "referral")
def add_note(referral_id: str) -> Any:
    back = url_for("referrals.referral_page", referral_id=referral_id)

    def note() -> Any:
        history.add_note(current_user, referral_id, request.form.get("body", ""))
        return redirect(back)

    return on_error_back(note, back)


@blueprint.post("/services/<service_id>/capacity")
@permission("set_capacity", "service")
def set_capacity(service_id: str) -> Any:
    def switch() -> Any:
        changed = capacity.set_service_capacity(
            current_user, service_id, request.form.get("capacity_status", "")
        )
        flash(f"{changed.name}: capacity is now {changed.capacity_status}.", "success")
        return redirect(url_for("referrals.inbox"))

    return on_error_back(switch, url_for("referrals.inbox"))
