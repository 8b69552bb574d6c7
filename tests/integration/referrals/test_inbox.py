"""The CBO inbox on both backends: filters (status, assigned to me, unread), assignment,
per-user read markers, the client only under consent, accept-and-start, and the pages."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from integration.referrals.conftest import csrf_from
from sqlalchemy import func, select

from carenet.audit.models import AuditEvent
from carenet.db.paging import PageRequest
from carenet.errors import InvalidInput, NotAllowed, NotFound
from carenet.extensions import db
from carenet.referrals import inbox, workflow
from carenet.referrals.consent import revoke_consent
from carenet.referrals.inbox_models import ReferralAssignment, ReferralRead
from carenet.referrals.models import Consent, OutboxMessage, Referral, ReferralEvent


def _referral(referral_id: str) -> Referral:
    found = db.session.get(Referral, referral_id)
    assert found is not None
    return found


def _label(assignee: inbox.Assignee | None) -> str | None:
    return None if assignee is None else assignee.label


def _ids(page):
    return [row.referral.id for row in page.items]


def test_status_filters_split_open_and_closed(net, send):
    staff = net.user("staff_a")
    new, accepted, declined = send(), send(), send()
    workflow.accept_referral(staff, accepted.id, 1)
    workflow.reject_referral(staff, declined.id, 1, "no-capacity")
    listed = {
        slug: set(_ids(inbox.inbox_list(staff, inbox.InboxFilter(slug))))
        for slug in inbox.STATUS_FILTERS
    }
    assert listed["open"] == {new.id, accepted.id}
    assert listed["new"] == {new.id}
    assert listed["accepted"] == {accepted.id}
    assert listed["closed"] == {declined.id}
    assert listed["overdue"] == listed["waitlist"] == set()


def test_overdue_is_its_own_filter(net, send):
    stale, fresh = send(), send()
    db.session.execute(
        db.text("UPDATE referral SET created_at = :t WHERE id = :id"),
        {"t": stale.created_at - timedelta(days=10), "id": stale.id},
    )
    db.session.commit()
    staff = net.user("staff_a")
    assert _ids(inbox.inbox_list(staff, inbox.InboxFilter("overdue"))) == [stale.id]
    assert _ids(inbox.inbox_list(staff, inbox.InboxFilter("new"))) == [fresh.id]


def test_assigned_to_me_and_assignment_rules(net, send):
    staff, admin = net.user("staff_a"), net.user("admin_a")
    first, second = send(), send()
    assert _label(inbox.assign(admin, first.id, staff.id)) == "staff_a"
    mine = inbox.inbox_list(staff, inbox.InboxFilter("open", mine=True))
    assert _ids(mine) == [first.id] and mine.items[0].mine
    assert _ids(inbox.inbox_list(admin, inbox.InboxFilter("open", mine=True))) == []
    # reassigning replaces; one assignee per referral
    inbox.assign(staff, first.id, admin.id)
    assert db.session.scalar(select(func.count()).select_from(ReferralAssignment)) == 1
    assert _label(inbox.assignee_of(first.id)) == "admin_a"
    # only the receiving organization's staff: not a coordinator, not another CBO's staff
    for outsider in ("coordinator", "staff_b"):
        with pytest.raises(InvalidInput) as refused:
            inbox.assign(staff, second.id, net.users[outsider])
        assert "assignee" in (refused.value.errors or {})
    with pytest.raises((NotFound, NotAllowed)):
        inbox.assign(net.user("staff_b"), second.id, net.users["staff_b"])
    with pytest.raises((NotFound, NotAllowed)):
        inbox.assign(net.user("coordinator"), second.id, staff.id)
    # taken back
    assert inbox.assign(staff, first.id, None) is None
    assert inbox.assignee_of(first.id) is None
    actions = db.session.scalars(
        select(AuditEvent.action).where(AuditEvent.action == "referral.assign")
    ).all()
    assert len(actions) == 3


def test_unread_is_per_user_and_opening_marks_it_read(net, send):
    staff, admin = net.user("staff_a"), net.user("admin_a")
    referral = send()
    assert inbox.inbox_list(staff, inbox.InboxFilter("open")).items[0].unread
    inbox.mark_read(staff, _referral(referral.id))
    inbox.mark_read(staff, _referral(referral.id))  # once
    assert db.session.scalar(select(func.count()).select_from(ReferralRead)) == 1
    assert not inbox.inbox_list(staff, inbox.InboxFilter("open")).items[0].unread
    assert _ids(inbox.inbox_list(staff, inbox.InboxFilter("open", unread=True))) == []
    assert _ids(inbox.inbox_list(admin, inbox.InboxFilter("open", unread=True))) == [referral.id]
    # the sending side's reads are not inbox reads
    inbox.mark_read(net.user("coordinator"), _referral(referral.id))
    assert db.session.scalar(select(func.count()).select_from(ReferralRead)) == 1


def test_the_client_shows_only_under_valid_consent(net, send):
    staff = net.user("staff_a")
    referral = send()
    row = inbox.inbox_list(staff, inbox.InboxFilter("open")).items[0]
    assert row.view.patient is not None and row.view.patient.family_name == "Lopez"
    assert row.view.category_label == "food insecurity"
    consent_id = db.session.scalar(select(Consent.id).where(Consent.patient_id == net.patient))
    assert consent_id is not None
    revoke_consent(net.user("coordinator"), consent_id, "asked")
    row = inbox.inbox_list(staff, inbox.InboxFilter("open")).items[0]
    assert row.referral.id == referral.id and row.stub and row.view.patient is None


def test_accept_and_start_is_two_events_one_email_or_nothing(net, send):
    staff = net.user("staff_a")
    referral = send()
    moved = workflow.accept_and_start(staff, referral.id, 1)
    assert (moved.status, moved.version, moved.follow_up_on is not None) == ("in-progress", 3, True)
    events = db.session.scalars(
        select(ReferralEvent.to_status)
        .where(ReferralEvent.referral_id == referral.id)
        .order_by(ReferralEvent.version)
    ).all()
    assert events == ["requested", "accepted", "in-progress"]
    status_mails = db.session.scalars(
        select(OutboxMessage.subject).where(OutboxMessage.kind == "referral-status")
    ).all()
    assert status_mails == ["carenet: your referral to Pantry A is in progress"]
    # a stale version changes nothing
    other = send()
    workflow.accept_referral(staff, other.id, 1)
    with pytest.raises(Exception) as stale:
        workflow.accept_and_start(staff, other.id, 1)
    assert getattr(stale.value, "status", None) == 409
    assert _referral(other.id).status == "accepted"


def test_the_inbox_pages_filter_assign_and_accept_and_start(app, api_net, signed_in):
    from carenet.referrals.service import ReferralRequest, send_referral

    with app.app_context():
        net = api_net
        sent = [
            send_referral(
                net.user("coordinator"),
                ReferralRequest(net.patient, net.services["open"], category="food-insecurity"),
            ).referral.id
            for _ in range(3)
        ]
    staff = signed_in("staff_a")
    page = staff.get("/inbox").get_data(as_text=True)
    assert "Ana Lopez" in page or "Lopez" in page
    assert "food insecurity" in page and "new to you" in page
    assert 'for="inbox-status"' in page and "Assigned to me" in page
    token = csrf_from(page)
    assigned = staff.post(
        f"/referrals/{sent[0]}/assign",
        data={"assignee": "me", "next": "/inbox?status=open&mine=1", "csrf_token": token},
    )
    assert assigned.status_code == 302 and assigned.location.endswith("/inbox?status=open&mine=1")
    mine = staff.get("/inbox?status=open&mine=1").get_data(as_text=True)
    assert mine.count(f'href="/referrals/{sent[0]}"') == 1
    assert f'href="/referrals/{sent[1]}"' not in mine and "assigned to you" in mine
    # an unknown filter is a 400 naming the field, never a 500
    bad = staff.get("/inbox?status=everything")
    assert bad.status_code == 400
    # the referral page: labelled controls, accept and start in one click, "declined" in words
    html = staff.get(f"/referrals/{sent[1]}").get_data(as_text=True)
    assert 'id="move-accept-start"' in html and '<label for="reason-rejected">Reason' in html
    assert 'label for="assignee"' in html
    moved = staff.post(
        f"/referrals/{sent[1]}/move",
        data={"to": "accepted", "then_start": "1", "version": "1", "csrf_token": token},
    )
    assert moved.status_code == 302
    after = staff.get(f"/referrals/{sent[1]}").get_data(as_text=True)
    assert "The referral is now in progress." in after
    assert '<label for="outcome-completed">What was delivered</label>' in after
    declined = staff.post(
        f"/referrals/{sent[2]}/move",
        data={"to": "rejected", "version": "1", "reason": "not-eligible", "csrf_token": token},
    )
    assert declined.status_code == 302
    closed = staff.get(f"/referrals/{sent[2]}").get_data(as_text=True)
    assert "The referral is now declined." in closed and ">declined</span>" in closed
    assert "rejected" not in closed.replace('"rejected"', "").replace("status-rejected", "")
    listed = staff.get("/inbox?status=closed").get_data(as_text=True)
    assert f'href="/referrals/{sent[2]}"' in listed


def test_the_inbox_statement_count_does_not_grow_with_rows(net, send):
    from sqlalchemy import event

    staff = net.user("staff_a")

    def statements() -> int:
        count = [0]

        def hook(*_args):  # type: ignore[no-untyped-def]
            count[0] += 1

        seen: list[object] = []
        event.listen(db.engine, "before_cursor_execute", hook)
        try:
            found = inbox.inbox_list(staff, inbox.InboxFilter("open"), PageRequest(1, 50))
            for row in found.items:
                seen.append(
                    (
                        row.view.patient,
                        row.view.category_label,
                        row.referral.sender_organization.name,
                    )
                )
        finally:
            event.remove(db.engine, "before_cursor_execute", hook)
        return count[0]

    send()
    few = statements()
    for _ in range(6):
        inbox.assign(staff, send().id, staff.id)
    assert statements() == few


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    status=st.one_of(st.none(), st.text(max_size=20), st.sampled_from(list(inbox.STATUS_FILTERS))),
    mine=st.text(max_size=5),
    unread=st.text(max_size=5),
    page=st.text(max_size=6),
)
def test_any_inbox_query_is_a_page_or_a_400(app, api_net, signed_in, status, mine, unread, page):
    client = signed_in("staff_a") if not hasattr(app, "_f_inbox_client") else app._f_inbox_client
    app._f_inbox_client = client
    query = {"mine": mine, "unread": unread, "page": page}
    if status is not None:
        query["status"] = status
    response = client.get("/inbox", query_string=query)
    assert response.status_code in (200, 400), response.status_code


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    assignee=st.one_of(st.sampled_from(["me", "", "nobody"]), st.text(max_size=40)),
    back=st.one_of(st.none(), st.sampled_from(["/inbox", "//evil.example", "https://x.y/"])),
    then_start=st.sampled_from(["1", "0", "", "yes"]),
    version=st.one_of(st.integers(-3, 5).map(str), st.text(max_size=4)),
)
def test_any_assign_or_move_form_is_a_redirect_never_a_500(
    app, api_net, signed_in, assignee, back, then_start, version
):
    from carenet.referrals.service import ReferralRequest, send_referral

    if not hasattr(app, "_f_fuzz"):
        with app.app_context():
            sent = send_referral(
                api_net.user("coordinator"),
                ReferralRequest(
                    api_net.patient, api_net.services["open"], category="food-insecurity"
                ),
            ).referral.id
        client = signed_in("staff_a")
        app._f_fuzz = (client, sent, csrf_from(client.get("/inbox").get_data(as_text=True)))
    client, sent, token = app._f_fuzz
    form = {"assignee": assignee, "csrf_token": token}
    if back is not None:
        form["next"] = back
    assigned = client.post(f"/referrals/{sent}/assign", data=form)
    # A NUL or lone surrogate in any form field is a 400 before the view (carenet/validation.py).
    assert assigned.status_code in (302, 400), assigned.status_code
    if assigned.status_code == 302:
        assert assigned.location.startswith("/") and not assigned.location.startswith("//")
    moved = client.post(
        f"/referrals/{sent}/move",
        data={"to": "accepted", "then_start": then_start, "version": version, "csrf_token": token},
    )
    assert moved.status_code in (302, 400), moved.status_code
