"""Referral pages: the coordinator's dashboard and send form; the CBO inbox, referral page,
moves, notes and capacity switch."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from carenet.accounts.access import permission
from carenet.db.paging import page_request
from carenet.errors import NotFound
from carenet.referrals import (
    capacity,
    history,
    notifications,
    referral_form,
    schemas,
    service,
    workflow,
)
from carenet.referrals import dashboard as dashboards
from carenet.referrals import inbox as inboxes
from carenet.referrals import worklist as worklists
from carenet.referrals.forms import form_data, on_error_back
from carenet.referrals.workflow import REASONS
from carenet.security import safe_local_path

blueprint = Blueprint(
    "referrals", __name__, static_folder="static", static_url_path="/static/referrals"
)


@blueprint.get("/dashboard")
@permission("manage", "referral")
def dashboard() -> str:
    """The coordinator's referrals (open, and closed in the last 30 days), filtered by status,
    mine, overdue; overdue first, a page at a time, counted by status."""
    filters = dashboards.DashboardFilter.from_args(request.args)
    found = dashboards.dashboard(current_user, page_request(request.args), filters)
    return render_template(
        "referrals/dashboard.html",
        found=found,
        rows=found.rows,
        counts=found.counts,
        statuses=dashboards.STATUS_CHOICES,
        status_word=dashboards.status_word,
        recent_days=dashboards.RECENT_DAYS,
    )


@blueprint.get("/worklist")
@permission("manage", "referral")
def worklist() -> str:
    """The coordinator's morning: changes since the last visit, overdue, follow-ups due."""
    found = worklists.worklist(current_user, request.args.get("scope", "mine"))
    return render_template("referrals/worklist.html", work=found)


@blueprint.get("/inbox")
@permission("respond", "referral")
def inbox() -> str:
    """The CBO's referrals. No filter: the overview (overdue, new, accepted and under way,
    waitlist — the first rows of each, with a link to all of a section). A filter (status,
    assigned to me, unread): one list of them, a page at a time."""
    wanted = inboxes.parse_filter(request.args)
    if wanted.is_overview and "page" not in request.args:
        found = inboxes.inbox(current_user)
        return render_template(
            "referrals/inbox.html",
            sections=found.sections,
            titles=found.titles,
            services=found.services,
            capacities=found.capacities,
            wanted=wanted,
            statuses=inboxes.STATUS_FILTERS,
        )
    rows = inboxes.inbox_list(current_user, wanted, page_request(request.args))
    return render_template(
        "referrals/inbox_section.html",
        rows=rows,
        section=wanted.status,
        title=inboxes.STATUS_FILTERS[wanted.status],
        wanted=wanted,
        statuses=inboxes.STATUS_FILTERS,
    )


@blueprint.get("/inbox/<section>")
@permission("respond", "referral")
def inbox_section(section: str) -> str:
    """All of one inbox section, a page at a time (also under the "mine" and "unread"
    filters)."""
    if section not in inboxes.INBOX_SECTIONS:
        raise NotFound("No such part of the inbox.")
    wanted = inboxes.parse_filter(request.args, status=section)
    found = inboxes.inbox_list(current_user, wanted, page_request(request.args))
    return render_template(
        "referrals/inbox_section.html",
        rows=found,
        section=section,
        title=inboxes.INBOX_SECTIONS[section],
        wanted=wanted,
        statuses=inboxes.STATUS_FILTERS,
    )


@blueprint.get("/referrals/new")
@permission("send", "referral")
def new_referral() -> str:
    """The send form, from a search result, a service page or a patient's need: the service
    chosen; the patient given or picked (by name or birth date) or created; an open referral
    of the same patient to the same service shown first. One idempotency key per form: a
    double click sends one referral."""
    form = referral_form.form_for(current_user, request.args)
    return render_template("referrals/new.html", form=form)


@blueprint.post("/referrals/new")
@permission("send", "referral")
def send_referral() -> Any:
    back = request.referrer or url_for("patients.patient_list")

    def send() -> Any:
        fields = form_data(schemas.ReferralIn())
        if not request.form.get("send_anyway"):
            twin = dashboards.open_referral_for(
                current_user, fields["patient_id"], fields["service_id"]
            )
            key = request.form.get("idempotency_key")
            if twin is not None and twin.idempotency_key != key:  # (a double click: sent once)
                # the form shows the open one, with a link and "send another anyway"
                flash("This patient already has an open referral to this service.", "warning")
                return redirect(referral_form.form_url(request.form))
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
    inboxes.mark_read(current_user, shown.referral)
    return render_template(
        "referrals/referral.html",
        shown=shown,
        referral=shown.referral,
        events=history.events_for(shown),
        notes=history.notes_for(shown),
        reasons=REASONS,
        assignee=inboxes.assignee_of(shown.referral.id),
        staff=inboxes.assignable_staff(current_user, shown.referral),
    )


@blueprint.post("/referrals/<referral_id>/move")
@permission("view", "referral")
def move(referral_id: str) -> Any:
    back = url_for("referrals.referral_page", referral_id=referral_id)

    def make_move() -> Any:
        fields = form_data(schemas.TransitionForm())
        to, version = fields.pop("to"), fields.pop("version")
        if to == "accepted" and request.form.get("then_start") == "1":  # one click: both moves
            referral = workflow.accept_and_start(
                current_user, referral_id, version, fields.get("note"), fields.get("follow_up_on")
            )
        else:
            referral = workflow.transition(current_user, referral_id, to, version, **fields)
        flash(f"The referral is now {notifications.status_words(referral.status)}.", "success")
        return redirect(back)

    return on_error_back(make_move, back)


@blueprint.post("/referrals/<referral_id>/assign")
@permission("respond", "referral")
def assign(referral_id: str) -> Any:
    """Assign a referral to a staff member of the receiving organization ("me": the user;
    empty: nobody); back to the page it was sent from (``next``, a path on this site)."""
    back = safe_local_path(request.form.get("next")) or url_for(
        "referrals.referral_page", referral_id=referral_id
    )

    def give() -> Any:
        chosen = request.form.get("assignee", "")
        chosen = current_user.id if chosen == "me" else chosen
        assignee = inboxes.assign(current_user, referral_id, chosen)
        flash(f"Assigned to {assignee.label}." if assignee else "Nobody is assigned.", "success")
        return redirect(back)

    return on_error_back(give, back)


@blueprint.post("/referrals/<referral_id>/notes")
@permission("note", "referral")
def add_note(referral_id: str) -> Any:
    back = url_for("referrals.referral_page", referral_id=referral_id)

    def note() -> Any:
        history.add_note(current_user, referral_id, request.form.get("body", ""))
        return redirect(back)

    return on_error_back(note, back)


@blueprint.app_template_filter("status_words")
def status_words(status: str | None) -> str:
    """A referral status in the words people read ("declined" for ``rejected``)."""
    return notifications.status_words(status)


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
