"""JSON API for patients, consent, screenings and referrals (/api/v1). Handlers stay thin."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request
from flask_login import current_user

from carenet.accounts.access import permission
from carenet.db.paging import PageRequest
from carenet.referrals import capacity, history, patients, schemas, service, workflow
from carenet.referrals import consent as consents
from carenet.screening import service as screening

blueprint = Blueprint("referrals_api", __name__, url_prefix="/api/v1")


def _body(schema: Any) -> dict[str, Any]:
    return schema.load(request.get_json(silent=True) or {})


def referral_body(shown: service.ReferralView) -> dict[str, Any]:
    """The referral as the current user sees it: patient details only when they may see them."""
    return schemas.referral_out(shown)


def _need_body(need: Any) -> dict[str, Any]:
    need.search_categories = screening.category_slugs_for(need.category)
    return schemas.NeedOut().dump(need)


def _consent_body(consent: Any, state: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = schemas.ConsentOut().dump(consent)
    body["state"] = state or consents.consent_state(consent)
    return body


@blueprint.post("/patients")
@permission("create", "patient")
def create_patient() -> Any:
    created = patients.create_patient(current_user, _body(schemas.PatientIn()))
    body = schemas.PatientOut().dump(created.patient)
    body["warnings"] = created.warnings
    body["possible_duplicates"] = [p.id for p in created.duplicates]
    return jsonify(body), 201


@blueprint.get("/patients/<patient_id>")
@permission("view", "patient")
def get_patient(patient_id: str) -> Any:
    patient = patients.get_patient(current_user, patient_id)
    body = schemas.PatientOut().dump(patient)
    body["needs"] = [_need_body(n) for n in patient.needs]
    states = consents.consent_states(patient.consents)
    body["consents"] = [_consent_body(c, s) for c, s in zip(patient.consents, states, strict=True)]
    body["consent_valid"] = consents.has_valid_consent(patient.id)
    return jsonify(body)


@blueprint.post("/patients/<patient_id>/consents")
@permission("edit", "patient")
def record_consent(patient_id: str) -> Any:
    consent = consents.record_consent(current_user, patient_id, **_body(schemas.ConsentIn()))
    return jsonify(_consent_body(consent)), 201


@blueprint.post("/consents/<consent_id>/revoke")
@permission("edit", "patient")
def revoke_consent(consent_id: str) -> Any:
    consent = consents.revoke_consent(current_user, consent_id, **_body(schemas.RevokeIn()))
    return jsonify(_consent_body(consent))


@blueprint.post("/patients/<patient_id>/screenings")
@permission("edit", "patient")
def record_screening(patient_id: str) -> Any:
    recorded = screening.record_screening(
        current_user, patient_id, _body(schemas.ScreeningIn())["answers"]
    )
    return jsonify(
        {
            "id": recorded.screening.id,
            "instrument": recorded.screening.instrument,
            "answers": recorded.result.answers,
            "positive_domains": list(recorded.result.needs),
            "safety_score": recorded.result.safety_score,
            "needs": [_need_body(n) for n in recorded.open_needs],
        }
    ), 201


@blueprint.post("/referrals")
@permission("send", "referral")
def send_referral() -> Any:
    sent = service.send_referral(
        current_user,
        service.ReferralRequest(**_body(schemas.ReferralIn())),
        request.headers.get("Idempotency-Key"),
    )
    body = referral_body(service.view_of(current_user, sent.referral))
    body["warnings"] = sent.warnings
    response = jsonify(body)
    response.status_code = 201 if sent.created else 200
    response.headers["Location"] = f"/api/v1/referrals/{sent.referral.id}"
    if not sent.created:
        response.headers["Idempotent-Replayed"] = "true"
    return response


@blueprint.get("/referrals")
@permission("view", "referral")
def list_referrals() -> Any:
    args = schemas.ReferralListIn().load(
        {**request.args.to_dict(), "status": request.args.getlist("status")}
    )
    found = service.referral_list(
        current_user,
        args["box"],
        args.get("status"),
        args.get("patient_id"),
        PageRequest(args["page"], args["per_page"]),
    )
    items = [referral_body(shown) for shown in found.items]  # overdue first, then newest
    return jsonify(found.envelope(items))


@blueprint.get("/referrals/<referral_id>")
@permission("view", "referral")
def get_referral(referral_id: str) -> Any:
    shown = service.open_referral(current_user, referral_id)
    body = referral_body(shown)
    body["notes"] = schemas.NoteOut(many=True).dump(history.notes_for(shown))
    return jsonify(body)


@blueprint.get("/referrals/<referral_id>/events")
@permission("view", "referral")
def referral_events(referral_id: str) -> Any:
    events = history.events_of(current_user, referral_id)
    return jsonify({"contents": schemas.EventOut(many=True).dump(events)})


@blueprint.post("/referrals/<referral_id>/transitions")
@permission("view", "referral")
def transition(referral_id: str) -> Any:
    fields = _body(schemas.TransitionIn())
    referral = workflow.transition(
        current_user, referral_id, fields.pop("to"), fields.pop("version"), **fields
    )
    return jsonify(referral_body(service.view_of(current_user, referral)))


@blueprint.post("/referrals/<referral_id>/notes")
@permission("note", "referral")
def add_note(referral_id: str) -> Any:
    note = history.add_note(current_user, referral_id, _body(schemas.NoteIn())["body"])
    return jsonify(schemas.NoteOut().dump(note)), 201


@blueprint.post("/services/<service_id>/capacity")
@permission("set_capacity", "service")
def set_capacity(service_id: str) -> Any:
    changed = capacity.set_service_capacity(
        current_user, service_id, _body(schemas.CapacityIn())["capacity_status"]
    )
    return jsonify({"id": changed.id, "capacity_status": changed.capacity_status})
