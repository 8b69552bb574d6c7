"""Access rules for patients and referrals (and CBO staff's capacity switch).

Registered in the table of ``carenet.accounts.policy`` (which imports this module).

Minimum necessary: coordinators see their own organization's patients and the
referrals it sends; CBO staff see referrals addressed to their organization and,
only while consent is valid, the patient details on them; program leads and
admins never see a person here. Another organization's record is hidden (404).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from carenet.accounts.actor import Actor
from carenet.accounts.policy.core import Decision, has_any_role, rule, visible_organization_ids

COORDINATOR = ("coordinator",)
CBO_STAFF = ("cbo_staff", "cbo_admin")


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


@rule("note", "referral")
def _note_referral(user: Actor | None, referral: Any) -> Decision:
    return _view_referral(user, referral)


@rule("view_patient_details", "referral")
def _view_patient_details(user: Actor | None, referral: Any) -> Decision:
    """The sender always; the receiver only while the patient's consent is valid."""
    from carenet.referrals.consent import has_valid_consent  # models import the policy

    return patient_details(user, referral, has_valid_consent)


def patient_details(
    user: Actor | None, referral: Any, consent_valid: Callable[[str], bool]
) -> Decision:
    """The ``view_patient_details`` rule, asking ``consent_valid(patient_id)`` only when it matters.

    A list of referrals passes a lookup of the whole page's consents (one query).
    """
    decision = _view_referral(user, referral)
    if decision is not Decision.ALLOW or referral is None:
        return decision
    if referral.sender_organization_id in coordinator_orgs(user):
        return Decision.ALLOW
    return Decision.ALLOW if consent_valid(referral.patient_id) else Decision.FORBID


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
