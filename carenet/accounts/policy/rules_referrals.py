"""Access rules for patients and referrals (and CBO staff's capacity switch).

Registered in the table of ``carenet.accounts.policy`` (which imports this module).

Minimum necessary: coordinators see their own organization's patients and the
referrals it sends; CBO staff see referrals addressed to their organization and,
only while consent is valid, the patient details on them; program leads and
admins never see a person here. Another organization's record is hidden (404).

Consent withdrawn (docs/security.md, "Consent withdrawn"): while the patient's latest
consent decision is not a valid permit, the receiving CBO sees only the referral's
**stub** (``referral_sight`` → ``STUB``: the fields in ``STUB_FIELDS``, no patient, no
free text, a sensitive category restricted), adds no notes, and may only close it
(``CLOSING_WHILE_WITHDRAWN``, with a coded reason and no note). The sending side always
sees the referral in full.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum
from typing import Any

from carenet.accounts.actor import Actor
from carenet.accounts.policy.core import (
    Decision,
    decide,
    has_any_role,
    rule,
    visible_organization_ids,
)

COORDINATOR = ("coordinator",)
CBO_STAFF = ("cbo_staff", "cbo_admin")


class Sight(Enum):
    """How much of a referral an actor who may see it sees."""

    FULL = "full"
    STUB = "stub"  # the receiving CBO while the patient's consent is withdrawn


# What a stub shows (the API's referral fields; the rest are null): who, what service,
# when, where it stands. ``category`` only when it is not sensitive.
STUB_FIELDS = frozenset(
    {
        "id",
        "status",
        "business_status",
        "status_reason",
        "version",
        "category",
        "category_label",
        "service",
        "sender_organization",
        "recipient_organization",
        "capacity_at_send",
        "follow_up_on",
        "viewed_at",
        "delivered_on",
        "held_from",
        "created_at",
        "updated_at",
        "overdue",
        "allowed_transitions",
        "consent_withdrawn",
        "patient_notice",
    }
)
# The receiving CBO's moves on a stub: it may close the referral, with a coded reason.
CLOSING_WHILE_WITHDRAWN = frozenset({"reject", "fail"})


def coordinator_orgs(user: Actor | None) -> frozenset[str]:
    return visible_organization_ids(user, *COORDINATOR)


def cbo_orgs(user: Actor | None) -> frozenset[str]:
    return visible_organization_ids(user, *CBO_STAFF)


def _role_gate(user: Actor | None, *roles: str) -> Decision:
    return Decision.ALLOW if has_any_role(user, *roles) else Decision.FORBID


@rule("create", "patient")
def _create_patient(user: Actor | None, obj: Any) -> Decision:
    return _role_gate(user, *COORDINATOR)


@rule("list", "patient")
def _list_patients(user: Actor | None, obj: Any) -> Decision:
    return _role_gate(user, *COORDINATOR)


@rule("view", "patient")
def _view_patient(user: Actor | None, patient: Any) -> Decision:
    if patient is None:
        return _role_gate(user, *COORDINATOR)
    return Decision.ALLOW if patient.organization_id in coordinator_orgs(user) else Decision.HIDE


# Consents and screenings are written by the patient's own coordinators.
_edit_patient = rule("edit", "patient")(_view_patient)


@rule("send", "referral")
def _send_referral(user: Actor | None, patient: Any) -> Decision:
    return _view_patient(user, patient)


@rule("view", "referral")
def _view_referral(user: Actor | None, referral: Any) -> Decision:
    if referral is None:
        return _role_gate(user, *COORDINATOR, *CBO_STAFF)
    if referral.sender_organization_id in coordinator_orgs(user):
        return Decision.ALLOW
    if referral.recipient_organization_id in cbo_orgs(user):
        return Decision.ALLOW
    return Decision.HIDE


@rule("manage", "referral")
def _manage_referral(user: Actor | None, referral: Any) -> Decision:
    """The referring side: cancel, follow up."""
    if referral is None:
        return _role_gate(user, *COORDINATOR)
    if referral.sender_organization_id in coordinator_orgs(user):
        return Decision.ALLOW
    return _forbid_or_hide(user, referral)


@rule("respond", "referral")
def _respond_referral(user: Actor | None, referral: Any) -> Decision:
    """The receiving side: accept, decline, start, hold, complete, fail."""
    if referral is None:
        return _role_gate(user, *CBO_STAFF)
    if referral.recipient_organization_id in cbo_orgs(user):
        return Decision.ALLOW
    return _forbid_or_hide(user, referral)


def _consent_in_db(patient_id: str) -> bool:
    from carenet.referrals.consent import has_valid_consent  # models import the policy

    return has_valid_consent(patient_id)


@rule("note", "referral")
def _note_referral(user: Actor | None, referral: Any) -> Decision:
    if referral is None:
        return _view_referral(user, referral)
    return note_decision(user, referral, _consent_in_db)


@rule("view_patient_details", "referral")
def _view_patient_details(user: Actor | None, referral: Any) -> Decision:
    """The sender always; the receiver only while the patient's consent is valid."""
    return patient_details(user, referral, _consent_in_db)


def referral_sight(
    user: Actor | None, referral: Any, consent_valid: Callable[[str], bool]
) -> Sight | None:
    """How much of ``referral`` the user sees: ``None`` (not theirs), ``FULL`` (the sending
    side; the receiving CBO while consent is valid) or ``STUB`` (the receiving CBO while it
    is withdrawn). Asks ``consent_valid(patient_id)`` only when it matters: a list passes a
    lookup of the whole page's consents (one query)."""
    if _view_referral(user, referral) is not Decision.ALLOW or referral is None:
        return None
    if referral.sender_organization_id in coordinator_orgs(user):
        return Sight.FULL
    return Sight.FULL if consent_valid(referral.patient_id) else Sight.STUB


def patient_details(
    user: Actor | None, referral: Any, consent_valid: Callable[[str], bool]
) -> Decision:
    """The ``view_patient_details`` rule: the patient block only in the full view."""
    decision = _view_referral(user, referral)
    if decision is not Decision.ALLOW or referral is None:
        return decision
    return allow_full(referral_sight(user, referral, consent_valid))


def note_decision(
    user: Actor | None, referral: Any, consent_valid: Callable[[str], bool]
) -> Decision:
    """Notes (reading or adding): both sides, but not the receiving CBO on a stub (403)."""
    decision = _view_referral(user, referral)
    if decision is not Decision.ALLOW:
        return decision
    return allow_full(referral_sight(user, referral, consent_valid))


def move_decision(
    user: Actor | None,
    referral: Any,
    side: str,
    action: str,
    consent_valid: Callable[[str], bool],
) -> Decision:
    """A workflow move of ``side`` (``manage`` or ``respond``): the side's rule, and on a
    stub only the closing moves (``CLOSING_WHILE_WITHDRAWN``)."""
    decision = decide(side, user, referral, "referral")
    if decision is not Decision.ALLOW or side != "respond" or action in CLOSING_WHILE_WITHDRAWN:
        return decision
    return allow_full(referral_sight(user, referral, consent_valid))


def allow_full(sight: Sight | None) -> Decision:
    return Decision.ALLOW if sight is Sight.FULL else Decision.FORBID


@rule("set_capacity", "service")
def _set_capacity(user: Actor | None, service: Any) -> Decision:
    if service is None:
        return _role_gate(user, *CBO_STAFF, "admin")
    if has_any_role(user, "admin") or service.organization_id in cbo_orgs(user):
        return Decision.ALLOW
    return Decision.FORBID  # services are public: a 403 reveals nothing


def _forbid_or_hide(user: Actor | None, referral: Any) -> Decision:
    """Forbidden to the other party of the referral, hidden from everyone else."""
    if _view_referral(user, referral) is Decision.ALLOW:
        return Decision.FORBID
    return Decision.HIDE
