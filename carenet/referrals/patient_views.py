"""Coordinator pages: patients, a patient's needs, consent, screening and services for a need."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from carenet.accounts.access import permission
from carenet.db.paging import page_request
from carenet.directory.search import SearchParams, search_services
from carenet.directory.search.params import parse_radius_mi
from carenet.errors import InvalidInput, NotFound
from carenet.referrals import consent as consents
from carenet.referrals import history, patients, schemas, service
from carenet.referrals.forms import form_data, on_error_back
from carenet.screening import ahc
from carenet.screening import service as screening

blueprint = Blueprint("patients", __name__)


@blueprint.get("/patients")
@permission("list", "patient")
def patient_list() -> str:
    query = request.args.get("q", "").strip()
    return render_template(
        "referrals/patients.html",
        patients=patients.list_patients(current_user, query or None, page_request(request.args)),
        query=query,
    )


@blueprint.route("/patients/new", methods=["GET", "POST"])
@permission("create", "patient")
def new_patient() -> Any:
    if request.method == "GET":
        return render_template("referrals/patient_new.html")

    def create() -> Any:
        created = patients.create_patient(current_user, form_data(schemas.PatientIn()))
        for warning in created.warnings:
            flash(warning, "warning")
        return redirect(url_for("patients.patient_page", patient_id=created.patient.id))

    return on_error_back(create, url_for("patients.new_patient"))


@blueprint.get("/patients/<patient_id>")
@permission("view", "patient")
def patient_page(patient_id: str) -> str:
    patient = patients.get_patient(current_user, patient_id)
    referrals = service.list_referrals(
        current_user, "outbound", patient_id=patient.id, wanted=page_request(request.args)
    )
    return render_template(
        "referrals/patient.html",
        patient=patient,
        consents=list(
            zip(patient.consents, consents.consent_states(patient.consents), strict=True)
        ),
        consent_valid=consents.has_valid_consent(patient.id),
        referrals=referrals,
        history=history.patient_history(patient),
        needs=patient.needs,
        methods=("verbal", "written", "electronic"),
    )


@blueprint.post("/patients/<patient_id>/consents")
@permission("edit", "patient")
def record_consent(patient_id: str) -> Any:
    back = url_for("patients.patient_page", patient_id=patient_id)

    def record() -> Any:
        consents.record_consent(current_user, patient_id, **form_data(schemas.ConsentIn()))
        flash("Consent recorded.", "success")
        return redirect(back)

    return on_error_back(record, back)


@blueprint.post("/consents/<consent_id>/revoke")
@permission("edit", "patient")
def revoke_consent(consent_id: str) -> Any:
    def revoke() -> Any:
        consent = consents.revoke_consent(current_user, consent_id, **form_data(schemas.RevokeIn()))
        flash("Consent revoked: community organizations no longer see this patient.", "success")
        return redirect(url_for("patients.patient_page", patient_id=consent.patient_id))

    return on_error_back(revoke, request.referrer or url_for("patients.patient_list"))


@blueprint.route("/patients/<patient_id>/screening", methods=["GET", "POST"])
@permission("edit", "patient")
def screening_form(patient_id: str) -> Any:
    patient = patients.get_patient(current_user, patient_id)
    if request.method == "GET":
        return render_template("screening/form.html", patient=patient, questions=ahc.QUESTIONS)
    back = url_for("patients.screening_form", patient_id=patient_id)

    def record() -> Any:
        answers = {
            q.code: (request.form.getlist(q.code) if q.multiple else request.form.get(q.code, ""))
            for q in ahc.QUESTIONS
        }
        recorded = screening.record_screening(current_user, patient_id, answers)
        found = ", ".join(recorded.result.needs) or "no needs"
        flash(f"Screening saved: {found}.", "success")
        return redirect(url_for("patients.patient_page", patient_id=patient_id))

    return on_error_back(record, back)


@blueprint.post("/needs/<need_id>/status")
@permission("edit", "patient")
def need_status(need_id: str) -> Any:
    def change() -> Any:
        need = screening.set_need_status(current_user, need_id, request.form.get("status", ""))
        return redirect(url_for("patients.patient_page", patient_id=need.patient_id))

    return on_error_back(change, request.referrer or url_for("patients.patient_list"))


@blueprint.get("/patients/<patient_id>/needs/<need_id>/services")
@permission("view", "patient")
def services_for_need(patient_id: str, need_id: str) -> str:
    """One click from a need: services of matching categories near the patient."""
    patient = patients.get_patient(current_user, patient_id)
    need = next((n for n in patient.needs if n.id == need_id), None)
    if need is None:
        raise NotFound("No such need.")
    if patient.latitude is None:
        raise InvalidInput("This patient has no address on the map; add a ZIP code first.")
    radius = parse_radius_mi(request.args.get("radius_mi"))  # InvalidInput: a 400
    page = search_services(
        SearchParams(
            latitude=patient.latitude,
            longitude=patient.longitude,
            radius_mi=radius,
            categories=tuple(screening.category_slugs_for(need.category)),
            per_page=50,
        ),
        show_confidential=True,
    )
    return render_template(
        "referrals/need_services.html", patient=patient, need=need, page=page, radius=radius
    )
