"""PUT /fhir/Task/{id}: the owner (or the requester, to cancel) moves the referral through
the workflow (``referrals.workflow.transition``), so a forbidden move is a 4xx and the move
is the same event, audit row and e-mail as in the web UI.

What a Task update may change: ``status`` (one move of the workflow), ``statusReason`` (the
coded reason a move needs), ``note`` (the move's note), ``restriction.period.end`` (the
follow-up date on accepting) and, on completion, ``output`` → the Procedure delivered: a
contained Procedure (``outcome.text`` or ``code.text``, ``performedDateTime``) or an output
whose reference has a display, or ``valueString``. Everything else is the referral's and
must not differ. The version: ``If-Match: W/"n"`` (else ``meta.versionId``); stale → 412.
"""

from __future__ import annotations

import re
from typing import Any

from carenet.accounts.actor import Actor
from carenet.errors import Conflict, DomainError
from carenet.extensions import db
from carenet.fhir import map_referral
from carenet.fhir.codes import STATUS_REASON_SYSTEM
from carenet.fhir.fhir_input import codes, items, load, obj, reference, resource_of, text
from carenet.fhir.outcome import FhirError, from_domain
from carenet.fhir.reading import facts_for, gone
from carenet.referrals import service as referrals
from carenet.referrals import workflow
from carenet.referrals.models import Referral
from carenet.referrals.schemas import TransitionIn

ETAG = re.compile(r'^(?:W/)?"(\d{1,9})"$')
# Who asked, as an EHR may name them: carenet knows the organization (checked), not the person.
REQUESTERS = ("Organization", "PractitionerRole", "Practitioner")
TRANSITION_PATHS = {
    "to": "Task.status",
    "reason": "Task.statusReason",
    "note": "Task.note",
    "outcome": "Task.output",
    "delivered_on": "Task.output",
    "follow_up_on": "Task.restriction.period.end",
    "version": "Task.meta.versionId",
    "consent": "Task.for",
}


def _version(if_match: str | None, resource: dict[str, Any], current: int) -> int:
    if if_match:
        found = ETAG.match(if_match.strip())
        if not found:
            raise FhirError(400, 'If-Match must be W/"<version>".', "If-Match")
        return int(found.group(1))
    version_id = obj(resource.get("meta"), "Task.meta").get("versionId")
    if version_id is None:
        return current
    if not (isinstance(version_id, str) and version_id.isdigit() and len(version_id) < 10):
        raise FhirError(400, "Task.meta.versionId must be a version number.", "Task.meta.versionId")
    return int(version_id)


def _reason(resource: dict[str, Any]) -> str | None:
    concept = resource.get("statusReason")
    if concept is None:
        return None
    for system, code in codes(concept, "Task.statusReason"):
        if system in (None, STATUS_REASON_SYSTEM) and code in workflow.REASONS:
            return code
    raise FhirError(
        422,
        f"Task.statusReason: a code of {STATUS_REASON_SYSTEM}: {', '.join(workflow.REASONS)}.",
        "Task.statusReason",
    )


def _note(resource: dict[str, Any]) -> str | None:
    notes = items(resource.get("note"), "Task.note")
    if not notes:
        return None
    return text(obj(notes[-1], "Task.note[0]").get("text"), "Task.note.text")


def _delivered(procedure: dict[str, Any]) -> str | None:
    performed = procedure.get("performedDateTime")
    if performed is None:
        period = obj(procedure.get("performedPeriod"), "Task.contained.performedPeriod")
        performed = period.get("end") or period.get("start")
    value = text(performed, "Task.contained.performedDateTime")
    return value[:10] if value else None


def _delivered_what(procedure: dict[str, Any], outcome: Any) -> str | None:
    """What was delivered: the Procedure's outcome, else its code's text or display."""
    if outcome is not None:
        return text(outcome, "Task.contained.outcome.text")
    code = obj(procedure.get("code"), "Task.contained.code")
    if code.get("text") is not None:
        return text(code.get("text"), "Task.contained.code.text")
    for i, coding in enumerate(items(code.get("coding"), "Task.contained.code.coding")):
        display = obj(coding, f"Task.contained.code.coding[{i}]").get("display")
        if display is not None:
            return text(display, f"Task.contained.code.coding[{i}].display")
    return None


def _contained(resource: dict[str, Any], local_id: str) -> dict[str, Any] | None:
    for i, item in enumerate(items(resource.get("contained"), "Task.contained")):
        item = obj(item, f"Task.contained[{i}]")
        if item.get("resourceType") == "Procedure" and item.get("id") == local_id:
            return item
    return None


def _output(resource: dict[str, Any]) -> tuple[str | None, str | None]:
    """(outcome, delivered on) from Task.output."""
    for i, output in enumerate(items(resource.get("output"), "Task.output")):
        output = obj(output, f"Task.output[{i}]")
        if isinstance(output.get("valueString"), str):
            return output["valueString"], None
        target = obj(output.get("valueReference"), f"Task.output[{i}].valueReference")
        local = target.get("reference")
        if isinstance(local, str) and local.startswith("#"):
            procedure = _contained(resource, local[1:])
            if procedure is None:
                raise FhirError(422, f"{local} names no contained Procedure.", "Task.output")
            outcome = obj(procedure.get("outcome"), "Task.contained.outcome").get("text")
            return _delivered_what(procedure, outcome), _delivered(procedure)
        if isinstance(target.get("display"), str):
            return target["display"], None
    return None, None


def _unchanged(resource: dict[str, Any], referral: Referral, facts: Any) -> None:
    """The parties and the request are the referral's: an update may not move them."""
    fixed = {
        "Task.owner": ("owner", ("Organization",), referral.recipient_organization_id),
        "Task.requester": ("requester", REQUESTERS, referral.sender_organization_id),
        "Task.focus": ("focus", ("ServiceRequest",), facts.service_request_id),
    }
    for path, (key, types, expected) in fixed.items():
        if resource.get(key) is None:
            continue
        found = reference(resource.get(key), path, types)
        if found is not None and found[0] == types[0] and found[1] != expected:
            raise FhirError(422, f"{path} cannot change.", path)
    if resource.get("intent", "order") != "order":
        raise FhirError(422, "Task.intent cannot change.", "Task.intent")


def update_task(
    actor: Actor, task_id: str, body: Any, if_match: str | None
) -> tuple[dict[str, Any], int]:
    resource = resource_of(body, "Task")
    if resource.get("id") != task_id:
        raise FhirError(400, "Task.id must be the id in the URL.", "Task.id")
    referral = db.session.get(Referral, task_id, populate_existing=True)
    if referral is None:
        raise gone("Task", task_id)
    try:
        shown = referrals.view_of(actor, referrals.get_referral(actor, task_id))
    except DomainError as exc:
        raise gone("Task", task_id) from exc
    facts = facts_for([referral])[referral.id]
    _unchanged(resource, referral, facts)
    version = _version(if_match, resource, referral.version)
    if version != referral.version:
        raise FhirError(
            412, f"Version {version} is stale: the Task is at {referral.version}.", "If-Match"
        )
    status = text(resource.get("status"), "Task.status", required=True) or ""
    if status == referral.status:
        return map_referral.task_resource(shown, facts), referral.version
    fields = _fields(resource, status, version)
    try:
        moved = workflow.transition(
            actor, task_id, fields.pop("to"), fields.pop("version"), **fields
        )
    except Conflict as exc:
        if str(exc.detail).startswith("Stale") or "changed by someone else" in exc.detail:
            raise FhirError(412, exc.detail, "If-Match") from exc
        raise FhirError(409, exc.detail, "Task.status") from exc
    except DomainError as exc:
        raise from_domain(exc, "Task", TRANSITION_PATHS) from exc
    shown = referrals.view_of(actor, moved)
    return map_referral.task_resource(shown, facts), moved.version


def _fields(resource: dict[str, Any], status: str, version: int) -> dict[str, Any]:
    outcome, delivered = _output(resource) if status == "completed" else (None, None)
    restriction = obj(resource.get("restriction"), "Task.restriction")
    follow_up = obj(restriction.get("period"), "Task.restriction.period").get("end")
    raw: dict[str, Any] = {
        "to": status,
        "version": version,
        "reason": _reason(resource),
        "note": _note(resource),
        "outcome": outcome,
        "delivered_on": delivered,
        "follow_up_on": follow_up[:10]
        if isinstance(follow_up, str) and status == "accepted"
        else None,
    }
    fields: dict[str, Any] = load(
        TransitionIn(), {k: v for k, v in raw.items() if v is not None}, TRANSITION_PATHS, "Task"
    )
    return {k: v for k, v in fields.items() if v is not None or k in ("to", "version")}
