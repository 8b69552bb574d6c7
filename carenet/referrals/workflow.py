"""The referral workflow: FHIR Task statuses of the SDOH Clinical Care guide (STU 3).

The transition table below is the one place the workflow is defined; every
move is a function that checks the actor's side, the current state and the
caller's version, then writes the new state (a conditional UPDATE on
``version``: a stale caller changes nothing and gets 409), an append-only
event, an audit row and the outbox e-mails in one transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask import current_app
from sqlalchemy import update

from carenet.accounts import policy
from carenet.accounts.actor import Actor
from carenet.audit import service as audit
from carenet.db.retry import run_in_transaction
from carenet.db.types import utcnow
from carenet.errors import Conflict, InvalidInput, NotAllowed, NotFound
from carenet.extensions import db
from carenet.referrals import notifications
from carenet.referrals.consent import has_valid_consent
from carenet.referrals.models import Need, Referral, ReferralEvent
from carenet.referrals.timeutil import add_business_days, local_today

SENDER = "manage"  # the referring side (policy action on "referral")
RECIPIENT = "respond"  # the receiving CBO

FINAL_STATUSES = frozenset({"completed", "rejected", "failed", "cancelled"})
OPEN_STATUSES = ("requested", "accepted", "in-progress", "on-hold")

REASONS: dict[str, str] = {
    "no-capacity": "No capacity",
    "not-eligible": "Not eligible",
    "outside-service-area": "Outside service area",
    "could-not-contact": "Could not contact",
    "declined-by-client": "Declined by client",
    "duplicate": "Duplicate",
    "other": "Other (see note)",
}
FOLLOW_UP_BUSINESS_DAYS = 5
ALLOW = policy.Decision.ALLOW


@dataclass(frozen=True)
class Move:
    action: str  # the verb of the function that makes this move
    side: str  # SENDER or RECIPIENT
    needs_reason: bool = False


# (from, to) → who may make the move. Edges the drawing leaves open, decided here
# (docs/workflow.md): accepted → failed ("could not contact"); on-hold → failed;
# on-hold resumes only to the state it came from; the referring side may cancel
# from any non-final state.
TRANSITIONS: dict[tuple[str, str], Move] = {
    ("requested", "accepted"): Move("accept", RECIPIENT),
    ("requested", "rejected"): Move("reject", RECIPIENT, needs_reason=True),
    ("requested", "cancelled"): Move("cancel", SENDER, needs_reason=True),
    ("accepted", "in-progress"): Move("start", RECIPIENT),
    ("accepted", "on-hold"): Move("hold", RECIPIENT, needs_reason=True),
    ("accepted", "failed"): Move("fail", RECIPIENT, needs_reason=True),
    ("accepted", "cancelled"): Move("cancel", SENDER, needs_reason=True),
    ("in-progress", "completed"): Move("complete", RECIPIENT),
    ("in-progress", "on-hold"): Move("hold", RECIPIENT, needs_reason=True),
    ("in-progress", "failed"): Move("fail", RECIPIENT, needs_reason=True),
    ("in-progress", "cancelled"): Move("cancel", SENDER, needs_reason=True),
    ("on-hold", "accepted"): Move("resume", RECIPIENT),
    ("on-hold", "in-progress"): Move("resume", RECIPIENT),
    ("on-hold", "failed"): Move("fail", RECIPIENT, needs_reason=True),
    ("on-hold", "cancelled"): Move("cancel", SENDER, needs_reason=True),
}


def moves_from(status: str) -> dict[str, Move]:
    """Target status → move, for every edge leaving ``status``."""
    return {to: move for (frm, to), move in TRANSITIONS.items() if frm == status}


def available_moves(
    actor: Actor, referral: Referral, consent_valid: Callable[[str], bool] | None = None
) -> dict[str, Move]:
    """The moves this actor may make on this referral now (for buttons and the API); on a
    stub (consent withdrawn) the receiving CBO may only close it. ``consent_valid``: a
    page's consent lookup (default: ask the database when it matters)."""
    lookup = consent_valid or has_valid_consent
    found = {}
    for to, move in moves_from(referral.status).items():
        if move.action == "resume" and referral.held_from != to:
            continue
        if policy.move_decision(actor, referral, move.side, move.action, lookup) is ALLOW:
            found[to] = move
    return found


# --- the moves -----------------------------------------------------------------


def accept_referral(
    actor: Actor,
    referral_id: str,
    version: int,
    note: str | None = None,
    follow_up_on: date | None = None,
) -> Referral:
    """The CBO takes the referral on; the follow-up date defaults to 5 business days."""
    today = local_today(utcnow(), current_app.config.get("DEFAULT_TIMEZONE", "UTC"))
    follow_up = follow_up_on or add_business_days(today, FOLLOW_UP_BUSINESS_DAYS)
    if follow_up < today:
        raise InvalidInput("The follow-up date is in the past.", {"follow_up_on": ["In the past."]})
    return _move(
        actor,
        referral_id,
        "accepted",
        version,
        note=note,
        changes={"follow_up_on": follow_up, "business_status": "accepted"},
    )


def accept_and_start(
    actor: Actor,
    referral_id: str,
    version: int,
    note: str | None = None,
    follow_up_on: date | None = None,
) -> Referral:
    """One click for a CBO that starts at once: ``requested → accepted → in-progress`` in one
    transaction — two events (versions ``version + 1`` and ``+ 2``) and two audit rows, as if
    made one after the other, but one e-mail to the coordinator (in progress). Either both
    moves happen or neither."""
    changes = {"follow_up_on": _follow_up(follow_up_on), "business_status": "accepted"}

    def both() -> Referral:
        _try_move(actor, referral_id, "accepted", version, None, note, changes, notify=False)
        return _try_move(actor, referral_id, "in-progress", version + 1, None, None, {})

    referral = run_in_transaction(
        both, conflict="The referral is being changed by someone else; reload and try again."
    )
    db.session.refresh(referral)
    return referral


def _follow_up(follow_up_on: date | None) -> date:
    today = local_today(utcnow(), current_app.config.get("DEFAULT_TIMEZONE", "UTC"))
    follow_up = follow_up_on or add_business_days(today, FOLLOW_UP_BUSINESS_DAYS)
    if follow_up < today:
        raise InvalidInput("The follow-up date is in the past.", {"follow_up_on": ["In the past."]})
    return follow_up


def reject_referral(
    actor: Actor, referral_id: str, version: int, reason: str | None, note: str | None = None
) -> Referral:
    """The CBO declines the referral, with a coded reason."""
    return _move(actor, referral_id, "rejected", version, reason=reason, note=note)


def start_referral(
    actor: Actor, referral_id: str, version: int, note: str | None = None
) -> Referral:
    """The CBO starts delivering the service."""
    return _move(actor, referral_id, "in-progress", version, note=note)


def hold_referral(
    actor: Actor, referral_id: str, version: int, reason: str | None, note: str | None = None
) -> Referral:
    """Pause an accepted or in-progress referral; it resumes to where it was."""
    return _move(actor, referral_id, "on-hold", version, reason=reason, note=note)


def resume_referral(
    actor: Actor, referral_id: str, version: int, note: str | None = None
) -> Referral:
    """Take a referral off hold, back to the state it was held from."""
    referral = _load(actor, referral_id)
    if referral.status != "on-hold" or referral.held_from is None:
        raise Conflict(f"A referral that is {referral.status} cannot be resumed.")
    return _move(actor, referral_id, referral.held_from, version, note=note)


def complete_referral(
    actor: Actor,
    referral_id: str,
    version: int,
    outcome: str | None,
    delivered_on: date | None = None,
    note: str | None = None,
) -> Referral:
    """The CBO confirms the service was delivered: what, and when."""
    if not (outcome or "").strip():
        raise InvalidInput("Say what was delivered.", {"outcome": ["Required to complete."]})
    today = local_today(utcnow(), current_app.config.get("DEFAULT_TIMEZONE", "UTC"))
    delivered = delivered_on or today
    if delivered > today:
        raise InvalidInput("The delivery date is in the future.", {"delivered_on": ["Future."]})
    return _move(
        actor,
        referral_id,
        "completed",
        version,
        note=note,
        changes={
            "outcome": (outcome or "").strip(),
            "delivered_on": delivered,
            "business_status": "service-delivered",
        },
    )


def fail_referral(
    actor: Actor, referral_id: str, version: int, reason: str | None, note: str | None = None
) -> Referral:
    """The CBO could not deliver an accepted referral (e.g. could not contact the client)."""
    return _move(actor, referral_id, "failed", version, reason=reason, note=note)


def cancel_referral(
    actor: Actor, referral_id: str, version: int, reason: str | None, note: str | None = None
) -> Referral:
    """The referring side withdraws a referral that is not final yet."""
    return _move(actor, referral_id, "cancelled", version, reason=reason, note=note)


def transition(actor: Actor, referral_id: str, to: str, version: int, **fields: Any) -> Referral:
    """Make the move to ``to`` through the one function that owns it (the API's entry point)."""
    referral = _load(actor, referral_id)
    move = TRANSITIONS.get((referral.status, to))
    if move is None:
        raise Conflict(f"A referral that is {referral.status} cannot become {to}.")
    note = fields.get("note")
    if move.action == "accept":
        return accept_referral(actor, referral_id, version, note, fields.get("follow_up_on"))
    if move.action == "start":
        return start_referral(actor, referral_id, version, note)
    if move.action == "resume":
        if referral.held_from != to:
            raise Conflict(f"This referral was put on hold from {referral.held_from}, not {to}.")
        return resume_referral(actor, referral_id, version, note)
    if move.action == "complete":
        return complete_referral(
            actor, referral_id, version, fields.get("outcome"), fields.get("delivered_on"), note
        )
    functions = {
        "reject": reject_referral,
        "hold": hold_referral,
        "fail": fail_referral,
        "cancel": cancel_referral,
    }
    return functions[move.action](actor, referral_id, version, fields.get("reason"), note)


def mark_viewed(actor: Actor, referral: Referral) -> None:
    """The receiving CBO opened the referral: stamp ``viewed_at`` once (STU 3 has no 'received')."""
    if referral.viewed_at is not None or not policy.allows(RECIPIENT, actor, referral):
        return
    referral_id = referral.id
    run_in_transaction(lambda: _stamp_viewed(actor, referral_id))


def _stamp_viewed(actor: Actor, referral_id: str) -> None:
    referral = db.session.get(Referral, referral_id, populate_existing=True)
    if referral is None or referral.viewed_at is not None:
        return
    values: dict[str, Any] = {"viewed_at": utcnow()}
    if referral.status == "requested":
        values["business_status"] = "viewed"
    stamped = db.session.execute(
        update(Referral)
        .where(Referral.id == referral.id, Referral.viewed_at.is_(None))
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if getattr(stamped, "rowcount", 0) == 1:  # a CursorResult for an UPDATE
        audit.record(
            actor,
            "view",
            "referral",
            referral.id,
            organization_id=referral.recipient_organization_id,
        )


# --- the machinery --------------------------------------------------------------


def _load(actor: Actor, referral_id: str) -> Referral:
    referral = db.session.get(Referral, referral_id, populate_existing=True)
    if referral is None:
        raise NotFound("No such record.")
    policy.require("view", actor, referral)
    return referral


def _check_withdrawn(
    actor: Actor, referral: Referral, move: Move, reason: str | None, note: str | None
) -> None:
    """While the patient's consent is withdrawn the receiving CBO sees a stub: it may only
    close the referral (``policy.CLOSING_WHILE_WITHDRAWN``), with a coded reason, no note."""
    if move.side != RECIPIENT:
        return
    if policy.referral_sight(actor, referral, has_valid_consent) is not policy.Sight.STUB:
        return
    if move.action not in policy.CLOSING_WHILE_WITHDRAWN:
        raise NotAllowed(
            "The patient's consent is withdrawn: you may only close this referral "
            "(decline it, or record that it could not be delivered) with a coded reason.",
            {"consent": ["Withdrawn."]},
        )
    if (note or "").strip() or reason == "other":
        raise InvalidInput(
            "The patient's consent is withdrawn: close the referral with a coded reason "
            "(not other) and no note.",
            {"note": ["No notes while consent is withdrawn."]},
        )


def _check_reason(move: Move, reason: str | None, note: str | None) -> str | None:
    if not move.needs_reason:
        return None
    if reason not in REASONS:
        raise InvalidInput("Give a reason.", {"reason": [f"One of: {', '.join(REASONS)}."]})
    if reason == "other" and not (note or "").strip():
        raise InvalidInput("Say why in the note.", {"note": ["Required when the reason is other."]})
    return reason


def _move(
    actor: Actor,
    referral_id: str,
    to: str,
    version: int,
    *,
    reason: str | None = None,
    note: str | None = None,
    changes: dict[str, Any] | None = None,
) -> Referral:
    referral = run_in_transaction(
        lambda: _try_move(actor, referral_id, to, version, reason, note, changes or {}),
        conflict="The referral is being changed by someone else; reload and try again.",
    )
    db.session.refresh(referral)
    return referral


def _try_move(
    actor: Actor,
    referral_id: str,
    to: str,
    version: int,
    reason: str | None,
    note: str | None,
    changes: dict[str, Any],
    notify: bool = True,
) -> Referral:
    referral = _load(actor, referral_id)
    current = referral.status
    move = TRANSITIONS.get((current, to))
    if move is None or (move.action == "resume" and referral.held_from != to):
        raise Conflict(f"A referral that is {current} cannot become {to}.")
    policy.require(move.side, actor, referral)
    _check_withdrawn(actor, referral, move, reason, note)
    if referral.version != version:
        raise Conflict(f"Stale version {version}: the referral is at version {referral.version}.")
    reason = _check_reason(move, reason, note)
    now = utcnow()
    values: dict[str, Any] = {
        "status": to,
        "version": Referral.version + 1,
        "updated_at": now,
        "status_reason": reason,
        "held_from": current if to == "on-hold" else None,
        **changes,
    }
    if move.action != "accept" and "business_status" not in changes:
        values["business_status"] = None
    result = db.session.execute(
        update(Referral)
        .where(Referral.id == referral.id, Referral.version == version, Referral.status == current)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if getattr(result, "rowcount", 0) != 1:  # a CursorResult for an UPDATE
        raise Conflict("The referral was changed by someone else; reload and try again.")
    db.session.add(
        ReferralEvent(
            referral_id=referral.id,
            from_status=current,
            to_status=to,
            version=version + 1,
            actor_id=actor.id,
            actor_email=actor.email,
            occurred_at=now,
            reason_code=reason,
            note=(note or "").strip() or None,
        )
    )
    if to == "completed" and referral.need_id:
        need = db.session.get(Need, referral.need_id)
        if need is not None:
            need.status, need.updated_at = "addressed", now
    audit.record(
        actor,
        f"referral.{move.action}",
        "referral",
        referral.id,
        {"from": current, "to": to, "reason": reason},
        organization_id=referral.recipient_organization_id,
    )
    if notify:
        notifications.enqueue_status_change(referral, to)
    return referral  # run_in_transaction commits
