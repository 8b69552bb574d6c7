"""Coordinator pages: patients, a patient's needs, consent, screening and services for a need."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user

from carenet.accounts.access import permission
from carenet.db.paging import page_request
from carenet.directory.search.params import parse_radius_mi
from carenet.errors import InvalidInput, NotFound
from carenet.referrals import consent as consents
from carenet.referrals import history, patients, referral_form, schemas, service
from carenet.referrals import plan as plans
from carenet.referrals.forms import form_data, on_error_back
from carenet.referrals.models import Patient
from carenet.referrals.referral_form import OPAQUE_ID
from carenet.screening import ahc
from carenet.screening import service as screening
from carenet.security import safe_local_path

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
    """Register a patient. Possible duplicates (a similar name and birth date) are shown
    before anything is created, with links, and an explicit "create anyway". From the
    referral form (``service_id``): back to it with the new patient chosen."""
    service_id = request.values.get("service_id", "")
    if request.method == "GET":
        return render_template("referrals/patient_new.html", values={}, service_id=service_id)
    back = url_for("patients.new_patient", service_id=service_id or None)

    def create() -> Any:
        data = form_data(schemas.PatientIn())
        try:
            created = patients.create_patient(
                current_user, data, allow_duplicates=bool(request.form.get("create_anyway"))
            )
        except patients.PossibleDuplicates as found:
            return render_template(
                "referrals/patient_new.html",
                values=request.form,
                duplicates=found.duplicates,
                service_id=service_id,
            )
        for warning in created.warnings:
            flash(warning, "warning")
        flash(f"{created.patient.name} is registered.", "success")
        if service_id and OPAQUE_ID.match(service_id):
            return redirect(
                url_for(
                    "referrals.new_referral", service_id=service_id, patient_id=created.patient.id
                )
            )
        return redirect(url_for("patients.patient_page", patient_id=created.patient.id))

    return on_error_back(create, back)


@blueprint.get("/patients/lookup")
@permission("list", "patient")
def patient_lookup() -> Any:
    """The patient picker's type-ahead: up to 10 of the organization's patients matching a
    name or birth date, as JSON (id, name, birth date); audited as any patient list."""
    query = referral_form.search_query(request.args)
    response = jsonify(
        {"patients": referral_form.lookup_rows(referral_form.pick(current_user, query))}
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@blueprint.route("/patients/<patient_id>/edit", methods=["GET", "POST"])
@permission("edit", "patient")
def edit_patient(patient_id: str) -> Any:
    """Change a patient's details; a changed address is placed on the map again (offline
    ZIP data; the ZIP code's centre when the street cannot be found)."""
    patient = patients.get_patient(current_user, patient_id)
    if request.method == "GET":
        return render_template("referrals/patient_edit.html", patient=patient)
    back = url_for("patients.edit_patient", patient_id=patient_id)

    def save() -> Any:
        data = form_data(schemas.PatientIn())
        data.pop("organization_id", None)
        changed = patients.edit_patient(current_user, patient_id, data)
        for warning in changed.warnings:
            flash(warning, "warning")
        flash("Patient details saved.", "success")
        return redirect(url_for("patients.patient_page", patient_id=patient_id))

    return on_error_back(save, back)


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


def _search_url(patient: Patient, sdoh_category: str, need_id: str | None) -> str:
    """The full search page centred on the patient's home, the need's categories chosen,
    the patient's age as a filter (services for children are not offered to an 80-year-old),
    and the patient (and need) carried to the Refer links."""
    args: dict[str, Any] = {"patient_id": patient.id}
    if need_id:
        args["need_id"] = need_id
    if patient.postal_code:
        args["near"] = patient.postal_code
    elif patient.latitude is not None and patient.longitude is not None:
        args["lat"], args["lon"] = round(patient.latitude, 3), round(patient.longitude, 3)
    else:
        raise InvalidInput(
            "This patient has no address on the map; add a ZIP code first.",
            {"postal_code": ["Add the patient's ZIP code (Edit patient)."]},
        )
    args["category"] = screening.category_slugs_for(sdoh_category)
    if request.args.get("radius_mi"):
        args["radius_mi"] = parse_radius_mi(request.args.get("radius_mi"))  # bad: a 400
    age = age_on(patient.birth_date, date.today())
    if age is not None:
        args["age"] = min(age, 90)  # past 89, only "old enough" matters (and stays vague)
    return url_for("search.search_page", **args)


def age_on(birth_date: date | None, day: date) -> int | None:
    if birth_date is None:
        return None
    before_birthday = (day.month, day.day) < (birth_date.month, birth_date.day)
    return max(0, day.year - birth_date.year - before_birthday)


def _to_search(patient_id: str, sdoh_category: str, need_id: str | None) -> Any:
    patient = patients.get_patient(current_user, patient_id)
    parse_radius_mi(request.args.get("radius_mi"))  # a bad radius: a 400 naming radius_mi
    try:
        return redirect(_search_url(patient, sdoh_category, need_id))
    except InvalidInput as exc:
        flash(exc.detail, "error")
        return redirect(url_for("patients.edit_patient", patient_id=patient.id))


@blueprint.get("/patients/<patient_id>/needs/<need_id>/services")
@permission("view", "patient")
def services_for_need(patient_id: str, need_id: str) -> Any:
    """One click from a need: the search page near the patient, the need's categories."""
    patient = patients.get_patient(current_user, patient_id)
    need = next((n for n in patient.needs if n.id == need_id), None)
    if need is None:
        raise NotFound("No such need.")
    return _to_search(patient_id, need.category, need.id)


@blueprint.get("/patients/<patient_id>/search")
@permission("view", "patient")
def search_for_patient(patient_id: str) -> Any:
    """The search page for a patient and an SDOH category (refer elsewhere, no need)."""
    category = request.args.get("category", "")
    if not OPAQUE_ID.match(category):
        raise InvalidInput("Say which need.", {"category": ["An SDOH category code."]})
    return _to_search(patient_id, category, None)


@blueprint.get("/patients/<patient_id>/plan")
@permission("view", "patient")
def patient_plan(patient_id: str) -> str:
    """The patient's plan: needs → referrals → status and next follow-up (settable)."""
    return render_template(
        "referrals/plan.html",
        plan=plans.patient_plan(current_user, patient_id),
        category_words=plans.category_words,
        languages=plans.LANGUAGES,
    )


@blueprint.get("/patients/<patient_id>/plan/print")
@permission("view", "patient")
def patient_plan_print(patient_id: str) -> str:
    """The plan for the patient, in plain English or Spanish, ready to print."""
    lang = request.args.get("lang", "en")
    if lang not in plans.LANGUAGES:
        raise InvalidInput("Unknown language.", {"lang": ["One of: " + ", ".join(plans.LANGUAGES)]})
    return render_template(
        "referrals/plan_print.html",
        plan=plans.patient_plan(current_user, patient_id, lang),
        lang=lang,
        text=plans.LABELS[lang],
        category_words=plans.category_words,
        next_step=plans.next_step,
        languages=plans.LANGUAGES,
    )


@blueprint.post("/referrals/<referral_id>/follow-up")
@permission("manage", "referral")
def set_follow_up(referral_id: str) -> Any:
    """Set or clear when the coordinator follows a referral up (the worklist reminds them)."""
    back = safe_local_path(request.form.get("next")) or url_for("referrals.worklist")

    def save() -> Any:
        fields = form_data(plans.FollowUpIn())
        plans.set_follow_up(current_user, referral_id, fields.get("follow_up_on"))
        flash("Follow-up date saved." if fields.get("follow_up_on") else "Follow-up cleared.",
              "success")  # fmt: skip
        return redirect(back)

    return on_error_back(save, back)
