"""The workflow at service level, on both backends: every edge for every role, and the lock."""

from __future__ import annotations

import pytest
from factories import NeedFactory
from sqlalchemy import func, select

from carenet.errors import Conflict, InvalidInput, NotAllowed, NotFound
from carenet.extensions import db
from carenet.referrals import workflow
from carenet.referrals.models import Need, OutboxMessage, Patient, Referral, ReferralEvent
from carenet.referrals.workflow import TRANSITIONS

ALL_USERS = ("coordinator", "coordinator_other", "staff_a", "admin_a", "staff_b", "lead", "admin")
# Who may make a move of each side, on a referral from "care" to "cbo_a".
ALLOWED = {"respond": {"staff_a", "admin_a"}, "manage": {"coordinator"}}
# Who may not even learn the referral exists (404) rather than be refused (403).
STRANGERS = {"coordinator_other", "staff_b", "lead", "admin"}
PATHS = {
    "requested": [],
    "accepted": ["accepted"],
    "in-progress": ["accepted", "in-progress"],
    "on-hold": ["accepted", "on-hold"],
}


def _bring_to(net, referral, status, to=None):
    staff = net.user("staff_a")
    path = PATHS[status]
    if (status, to) == ("on-hold", "in-progress"):
        path = ["accepted", "in-progress", "on-hold"]
    for step in path:
        fields = {"reason": "no-capacity"} if step == "on-hold" else {}
        referral = workflow.transition(staff, referral.id, step, referral.version, **fields)
    return referral


def _fields(to):
    if to == "completed":
        return {"outcome": "Two weeks of groceries delivered"}
    if TRANSITIONS.get(("requested", to), TRANSITIONS.get(("accepted", to))) is None:
        return {}
    return {"reason": "could-not-contact"}


EDGES = sorted(TRANSITIONS)


@pytest.mark.parametrize("edge", EDGES, ids=[f"{a}->{b}" for a, b in EDGES])
def test_every_edge_allows_exactly_its_side_and_refuses_everyone_else(net, send, edge):
    start, to = edge
    move = TRANSITIONS[edge]
    for name in ALL_USERS:
        referral = _bring_to(net, send(), start, to)
        before = db.session.scalar(select(func.count()).select_from(ReferralEvent))
        fields = {"reason": "could-not-contact"} if move.needs_reason else {}
        if to == "completed":
            fields = {"outcome": "Delivered"}
        version = referral.version
        if name in ALLOWED[move.side]:
            moved = workflow.transition(net.user(name), referral.id, to, version, **fields)
            assert (moved.status, moved.version) == (to, version + 1)
            after = db.session.scalar(select(func.count()).select_from(ReferralEvent))
            assert after == before + 1
        else:
            expected = NotFound if name in STRANGERS else NotAllowed
            with pytest.raises(expected):
                workflow.transition(net.user(name), referral.id, to, version, **fields)
            db.session.expire_all()
            unchanged = db.session.get(Referral, referral.id)
            assert (unchanged.status, unchanged.version) == (start, version)
            assert db.session.scalar(select(func.count()).select_from(ReferralEvent)) == before


ALL_STATUSES = (
    "requested",
    "accepted",
    "in-progress",
    "on-hold",
    "completed",
    "rejected",
    "failed",
    "cancelled",
)


@pytest.mark.parametrize("start", ["requested", "accepted", "in-progress", "on-hold"])
def test_every_move_the_table_lacks_is_a_409_that_changes_nothing(net, send, start):
    referral = _bring_to(net, send(), start)
    for to in ALL_STATUSES:
        if (start, to) in TRANSITIONS and (start, to) != ("on-hold", "in-progress"):
            continue  # (held from accepted here, so resuming to in-progress is refused)
        for name in ("staff_a", "coordinator"):
            with pytest.raises(Conflict):
                workflow.transition(
                    net.user(name),
                    referral.id,
                    to,
                    referral.version,
                    reason="other",
                    note="x",
                    outcome="x",
                )
    db.session.expire_all()
    assert db.session.get(Referral, referral.id).status == start


def test_final_states_allow_no_move(net, send):
    staff = net.user("staff_a")
    referral = send()
    done = workflow.reject_referral(staff, referral.id, 1, "not-eligible")
    for to in ALL_STATUSES:
        with pytest.raises(Conflict):
            workflow.transition(staff, done.id, to, done.version, reason="other", note="x")


def test_on_hold_resumes_to_where_it_was_held_from(net, send):
    staff = net.user("staff_a")
    referral = _bring_to(net, send(), "in-progress")
    held = workflow.hold_referral(staff, referral.id, referral.version, "declined-by-client")
    assert (held.status, held.held_from, held.status_reason) == (
        "on-hold",
        "in-progress",
        "declined-by-client",
    )
    with pytest.raises(Conflict):
        workflow.transition(staff, held.id, "accepted", held.version)
    resumed = workflow.resume_referral(staff, held.id, held.version)
    assert (resumed.status, resumed.held_from) == ("in-progress", None)


def test_a_stale_version_gets_409_and_changes_nothing(net, send):
    staff = net.user("staff_a")
    referral = send()
    assert workflow.accept_referral(staff, referral.id, 1).version == 2
    with pytest.raises(Conflict):
        workflow.start_referral(staff, referral.id, 1)
    db.session.expire_all()
    assert db.session.get(Referral, referral.id).status == "accepted"
    assert (
        db.session.scalar(
            select(func.count())
            .select_from(ReferralEvent)
            .where(ReferralEvent.referral_id == referral.id)
        )
        == 2
    )


def test_reasons_are_coded_and_other_needs_a_note(net, send):
    staff = net.user("staff_a")
    referral = send()
    with pytest.raises(InvalidInput) as missing:
        workflow.reject_referral(staff, referral.id, 1, None)
    assert "reason" in missing.value.errors
    with pytest.raises(InvalidInput) as unknown:
        workflow.reject_referral(staff, referral.id, 1, "busy")
    assert "reason" in unknown.value.errors
    with pytest.raises(InvalidInput) as other:
        workflow.reject_referral(staff, referral.id, 1, "other")
    assert "note" in other.value.errors
    rejected = workflow.reject_referral(staff, referral.id, 1, "other", "Client moved away")
    event = db.session.scalars(
        select(ReferralEvent)
        .where(ReferralEvent.referral_id == referral.id)
        .order_by(ReferralEvent.id.desc())
    ).first()
    assert (rejected.status_reason, event.reason_code, event.note) == (
        "other",
        "other",
        "Client moved away",
    )
    assert event.actor_id == net.users["staff_a"]


def test_completion_records_the_outcome_and_addresses_the_need(net, send):
    need = NeedFactory(patient=db.session.get(Patient, net.patient))
    db.session.commit()
    staff = net.user("staff_a")
    referral = _bring_to(net, send(need_id=need.id), "in-progress")
    with pytest.raises(InvalidInput):
        workflow.complete_referral(staff, referral.id, referral.version, "  ")
    done = workflow.complete_referral(staff, referral.id, referral.version, "Food boxes x4")
    assert done.outcome == "Food boxes x4" and done.delivered_on is not None
    assert db.session.get(Need, need.id).status == "addressed"


def test_every_status_change_queues_an_email_to_the_coordinator(net, send):
    staff = net.user("staff_a")
    referral = send()
    workflow.accept_referral(staff, referral.id, 1)
    mails = db.session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.referral_id == referral.id)
        .order_by(OutboxMessage.id)
    ).all()
    assert [(m.kind, m.recipient) for m in mails] == [
        ("referral-new", "admin_a@example.org"),
        ("referral-new", "staff_a@example.org"),
        ("referral-status", "coordinator@example.org"),
    ]
    # the service and its organization are named (issue 14); never the client or the need
    assert all("Lopez" not in m.body and "insecurity" not in m.body.lower() for m in mails)
    assert all("Pantry A (Food Bank A)" in m.body for m in mails)
    assert mails[-1].subject == "carenet: your referral to Pantry A is accepted"


def test_the_event_log_is_append_only(net, send):
    send()
    event = db.session.scalars(select(ReferralEvent)).first()
    with pytest.raises(Exception, match="append-only"):
        db.session.execute(
            db.text("UPDATE referral_event SET note = 'x' WHERE id = :id"), {"id": event.id}
        )
        db.session.flush()
    db.session.rollback()


def test_viewing_by_the_cbo_stamps_viewed_at_once(net, send):
    referral = send()
    workflow.mark_viewed(net.user("coordinator"), referral)
    db.session.expire_all()
    assert db.session.get(Referral, referral.id).viewed_at is None
    workflow.mark_viewed(net.user("staff_a"), db.session.get(Referral, referral.id))
    db.session.expire_all()
    seen = db.session.get(Referral, referral.id)
    assert seen.viewed_at is not None and seen.business_status == "viewed"
    assert seen.version == 1
