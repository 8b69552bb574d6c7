"""The coordinator's worklist (changes since the last visit, overdue, follow-ups due) and the
landing page of each role after signing in — on both backends."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from carenet.accounts.landing import landing_for
from carenet.audit.models import AuditEvent
from carenet.db.types import utcnow
from carenet.extensions import db
from carenet.referrals import history, plan, workflow, worklist
from carenet.referrals.models import Referral, WorklistVisit
from carenet.referrals.overdue import zone
from carenet.referrals.timeutil import local_today


def test_a_cbo_response_shows_once_then_the_visit_moves_on(net, send):
    coordinator, staff = net.user("coordinator"), net.user("staff_a")
    referral = send()
    first = worklist.worklist(coordinator)
    assert first.since is None  # the first visit: the last week's changes
    assert first.changes == []  # sending is the coordinator's own move

    workflow.transition(staff, referral.id, "accepted", referral.version)
    history.add_note(staff, referral.id, "We will call Tuesday")
    seen = worklist.worklist(coordinator)
    assert seen.since is not None
    assert [(c.what, c.kind) for c in seen.changes] == [("note", "note"), ("accepted", "response")]
    assert {c.service_name for c in seen.changes} == {"Pantry A"}
    assert seen.changes[0].patient_name == "Ana Lopez"

    again = worklist.worklist(coordinator)
    assert again.changes == []  # nothing new since the visit just recorded
    assert db.session.get(WorklistVisit, coordinator.id) is not None


def test_declined_and_completed_are_named(net, send):
    coordinator, staff = net.user("coordinator"), net.user("staff_a")
    declined, done = send(), send(service="waitlist")
    worklist.worklist(coordinator)
    workflow.transition(staff, declined.id, "rejected", declined.version, reason="no-capacity")
    db.session.refresh(done)
    workflow.transition(staff, done.id, "accepted", done.version)
    db.session.refresh(done)
    workflow.transition(staff, done.id, "in-progress", done.version)
    db.session.refresh(done)
    workflow.transition(staff, done.id, "completed", done.version, outcome="Meals delivered")
    kinds = [c.kind for c in worklist.worklist(coordinator).changes]
    assert kinds.count("declined") == 1 and kinds.count("completed") == 1


def test_follow_ups_due_and_overdue_referrals(net, send):
    coordinator = net.user("coordinator")
    due, late = send(), send(service="waitlist")
    today = local_today(utcnow(), zone())
    plan.set_follow_up(coordinator, due.id, today)
    db.session.execute(
        update(Referral)
        .where(Referral.id == late.id)
        .values(created_at=utcnow() - timedelta(days=10))
    )
    db.session.commit()
    found = worklist.worklist(coordinator)
    assert [i.referral_id for i in found.follow_ups] == [due.id]
    assert [i.referral_id for i in found.overdue] == [late.id]
    # Another coordinator of another organization sees none of it.
    other = worklist.worklist(net.user("coordinator_other"))
    assert other.follow_ups == [] and other.overdue == [] and other.changes == []


def test_mine_and_the_whole_organization(net, send):
    coordinator = net.user("coordinator")
    referral = send()
    db.session.execute(
        update(Referral)
        .where(Referral.id == referral.id)
        .values(coordinator_id=net.users["admin"], follow_up_on=local_today(utcnow(), zone()))
    )
    db.session.commit()
    assert worklist.worklist(coordinator, "mine").follow_ups == []
    assert len(worklist.worklist(coordinator, "org").follow_ups) == 1


def test_the_worklist_audits_the_patients_it_shows(net, send):
    coordinator = net.user("coordinator")
    referral = send()
    plan.set_follow_up(coordinator, referral.id, local_today(utcnow(), zone()))
    worklist.worklist(coordinator)
    rows = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "list", AuditEvent.object_type == "referral")
    ).all()
    assert any(r.patient_id == net.patient and r.detail["page"] == "worklist" for r in rows)


def test_each_role_lands_on_its_page(net):
    assert landing_for(net.user("coordinator")) == "referrals.worklist"
    assert landing_for(net.user("staff_a")) == "referrals.inbox"
    assert landing_for(net.user("admin_a")) == "referrals.inbox"
    assert landing_for(net.user("lead")) == "reports.dashboard_page"
    assert landing_for(net.user("admin")) == "accounts_admin.users"
    assert landing_for(None) == "accounts.account"


def test_the_worklist_page_links_each_row_and_the_staff_cannot_open_it(api_net, signed_in, app):
    coordinator = signed_in("coordinator")
    assert coordinator.get("/worklist").status_code == 200
    with app.app_context():
        from carenet.referrals.service import ReferralRequest, send_referral

        sent = send_referral(
            db.session.get(type(api_net.user("coordinator")), api_net.users["coordinator"]),
            ReferralRequest(api_net.patient, api_net.services["open"], category="food-insecurity"),
        ).referral
        workflow.transition(api_net.user("staff_a"), sent.id, "accepted", sent.version)
        referral_id = sent.id
    page = coordinator.get("/worklist").get_data(as_text=True)
    assert f'href="/referrals/{referral_id}"' in page
    assert f'href="/patients/{api_net.patient}"' in page
    assert "accepted" in page
    assert signed_in("staff_a").get("/worklist").status_code == 403
