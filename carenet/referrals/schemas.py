"""Marshmallow schemas: the one place referral-domain input is validated and output shaped."""

from __future__ import annotations

from datetime import UTC
from typing import Any

from marshmallow import Schema, fields, validate

from carenet.accounts import policy
from carenet.db import paging
from carenet.directory.taxonomy import SDOH_CODES
from carenet.referrals.models import CONSENT_METHODS, NEED_STATUSES, REFERRAL_STATUSES
from carenet.referrals.workflow import REASONS
from carenet.validation import AwareDateTime, Date, PastDate

# A language tag that fits ``patient.preferred_language`` (8 characters): "es", "es-US", "zh-Hant".
LANGUAGE = validate.And(
    validate.Regexp(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$", error="An ISO 639-1 code."),
    validate.Length(max=8, error="At most 8 characters (e.g. es or es-US)."),
)
# Limits of free text (docs/api-referrals.md, "Limits"): ids, notes and outcomes.
ID = validate.Length(min=1, max=64)
TEXT_MAX = 5000
MAX_VERSION = 2**31 - 1


class PatientIn(Schema):
    given_name = fields.String(required=True, validate=validate.Length(min=1, max=128))
    family_name = fields.String(required=True, validate=validate.Length(min=1, max=128))
    birth_date = PastDate(required=True)  # 1900-01-01 to today
    phone = fields.String(load_default=None, validate=validate.Length(max=64))
    email = fields.Email(load_default=None, validate=validate.Length(max=254))
    address_1 = fields.String(load_default=None, validate=validate.Length(max=255))
    city = fields.String(load_default=None, validate=validate.Length(max=128))
    state_province = fields.String(load_default=None, validate=validate.Length(max=64))
    postal_code = fields.String(
        load_default=None, validate=validate.Regexp(r"^\d{5}(-\d{4})?$", error="A US ZIP code.")
    )
    preferred_language = fields.String(load_default=None, validate=LANGUAGE)
    organization_id = fields.String(load_default=None, validate=ID)


class PatientOut(Schema):
    id = fields.String()
    organization_id = fields.String()
    given_name = fields.String()
    family_name = fields.String()
    birth_date = fields.Date()
    phone = fields.String()
    email = fields.String()
    address_1 = fields.String()
    city = fields.String()
    state_province = fields.String()
    postal_code = fields.String()
    latitude = fields.Float()
    longitude = fields.Float()
    preferred_language = fields.String()
    created_at = fields.DateTime()


class ConsentIn(Schema):
    method = fields.String(required=True, validate=validate.OneOf(CONSENT_METHODS))
    scope = fields.String(
        load_default="share-with-cbo", validate=validate.OneOf(["share-with-cbo"])
    )
    starts_at = AwareDateTime(load_default=None, default_timezone=UTC)
    expires_at = AwareDateTime(load_default=None, default_timezone=UTC)
    # Recorded from a paper form: ``starts_at`` (required) is the form's date, and may be
    # before the patient's record was created.
    historical = fields.Boolean(load_default=False)


class RevokeIn(Schema):
    note = fields.String(load_default=None, validate=validate.Length(max=2000))


class ConsentOut(Schema):
    id = fields.String()
    patient_id = fields.String()
    method = fields.String()
    scope = fields.String()
    starts_at = fields.DateTime()
    expires_at = fields.DateTime()
    recorded_by_id = fields.String()
    recorded_at = fields.DateTime()
    revoked_at = fields.DateTime()
    decision = fields.String()
    revokes_id = fields.String()
    historical = fields.Boolean()
    state = fields.String()


class ScreeningIn(Schema):
    # each value: one answer code, or a list of codes (ahc.validate_answers checks them)
    answers = fields.Dict(keys=fields.String(validate=validate.Length(max=16)), required=True)


class NeedOut(Schema):
    id = fields.String()
    category = fields.String()
    status = fields.String(validate=validate.OneOf(NEED_STATUSES))
    created_at = fields.DateTime()
    search_categories = fields.List(fields.String())


class ReferralIn(Schema):
    patient_id = fields.String(required=True, validate=ID)
    service_id = fields.String(required=True, validate=ID)
    need_id = fields.String(load_default=None, validate=ID)
    category = fields.String(load_default=None, validate=validate.OneOf(SDOH_CODES))
    note = fields.String(load_default=None, validate=validate.Length(max=TEXT_MAX))
    follow_up_on = Date(load_default=None)


class TransitionIn(Schema):
    to = fields.String(required=True, validate=validate.OneOf(REFERRAL_STATUSES))
    version = fields.Integer(
        required=True, strict=True, validate=validate.Range(min=0, max=MAX_VERSION)
    )
    reason = fields.String(load_default=None, validate=validate.OneOf(list(REASONS)))
    note = fields.String(load_default=None, validate=validate.Length(max=TEXT_MAX))
    outcome = fields.String(load_default=None, validate=validate.Length(max=TEXT_MAX))
    delivered_on = Date(load_default=None)
    follow_up_on = Date(load_default=None)


class TransitionForm(TransitionIn):
    """The same move posted from an HTML form, where every value is text."""

    version = fields.Integer(required=True, validate=validate.Range(min=0, max=MAX_VERSION))


class ReferralListIn(Schema):
    box = fields.String(load_default="outbound", validate=validate.OneOf(["inbound", "outbound"]))
    status = fields.List(fields.String(validate=validate.OneOf(REFERRAL_STATUSES)))
    patient_id = fields.String(load_default=None)
    page = paging.page_field()
    per_page = paging.per_page_field()


class NoteIn(Schema):
    body = fields.String(required=True, validate=validate.Length(min=1, max=TEXT_MAX))


class EventOut(Schema):
    id = fields.Integer()
    from_status = fields.String()
    to_status = fields.String()
    version = fields.Integer()
    actor_email = fields.String()
    occurred_at = fields.DateTime()
    reason_code = fields.String()
    note = fields.String()


class NoteOut(Schema):
    id = fields.String()
    author_label = fields.String()
    organization_id = fields.String()
    body = fields.String()
    created_at = fields.DateTime()


class CapacityIn(Schema):
    capacity_status = fields.String(required=True, validate=validate.Length(max=64))


WITHDRAWN_NOTICE = (
    "The patient's consent to share their details is not valid (withdrawn or expired): only "
    "the referral's stub is shown — no patient, no notes, no sensitive category. You may "
    "close it with a coded reason."
)


def referral_out(shown: Any) -> dict[str, Any]:
    """The referral as the API shows it, from the actor's view (``service.ReferralView``):
    the patient block only when the caller may see it; on a stub only ``STUB_FIELDS``."""
    referral = shown.referral
    body: dict[str, Any] = {
        "id": referral.id,
        "status": referral.status,
        "business_status": referral.business_status,
        "status_reason": referral.status_reason,
        "version": referral.version,
        "category": shown.category,
        "category_label": shown.category_label,
        "service": {"id": referral.service_id, "name": referral.service_name},
        "sender_organization": {
            "id": referral.sender_organization_id,
            "name": referral.sender_organization.name,
        },
        "recipient_organization": {
            "id": referral.recipient_organization_id,
            "name": referral.recipient_organization.name,
        },
        "coordinator_id": referral.coordinator_id,
        "need_id": shown.need_id,
        "note": shown.note,
        "capacity_at_send": referral.capacity_at_send,
        "follow_up_on": _iso(referral.follow_up_on),
        "viewed_at": _iso(referral.viewed_at),
        "outcome": shown.outcome,
        "delivered_on": _iso(referral.delivered_on),
        "held_from": referral.held_from,
        "created_at": _iso(referral.created_at),
        "updated_at": _iso(referral.updated_at),
        "overdue": shown.overdue,
        "allowed_transitions": sorted(shown.moves),
        "consent_withdrawn": shown.stub,
        "patient": _patient_out(shown.patient),
    }
    if shown.patient is None:
        body["patient_notice"] = WITHDRAWN_NOTICE
    if shown.stub:  # a whitelist: whatever is not named is null
        body = {k: (v if k in policy.STUB_FIELDS else None) for k, v in body.items()}
    return body


def _patient_out(patient: Any) -> dict[str, Any] | None:
    if patient is None:
        return None
    return {
        "id": patient.id,
        "name": patient.name,
        "birth_date": _iso(patient.birth_date),
        "phone": patient.phone,
        "email": patient.email,
        "address": patient.address_line,
        "preferred_language": patient.preferred_language,
    }


def _iso(value: Any) -> str | None:
    return None if value is None else value.isoformat()
