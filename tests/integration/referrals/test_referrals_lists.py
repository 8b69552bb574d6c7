"""The lists the pages and the API show: one service query, consent looked up once per page."""

from __future__ import annotations

from sqlalchemy import event

from carenet.extensions import db
from carenet.referrals import consent, service
from carenet.referrals import dashboard as dashboards


class CountStatements:
    def __init__(self):
        self.count = 0

    def __call__(self, *args):
        self.count += 1

    def __enter__(self):
        event.listen(db.engine, "before_cursor_execute", self)
        return self

    def __exit__(self, *exc):
        event.remove(db.engine, "before_cursor_execute", self)


def _statements_for_list(actor) -> tuple[int, list[service.ReferralView]]:
    db.session.expire_all()
    with CountStatements() as counted:
        shown = service.referral_list(actor, "inbound").items
        for view in shown:  # what the API reads of each row
            _ = (view.referral.patient.given_name, view.referral.recipient_organization.name)
    return counted.count, shown


def test_a_longer_page_costs_no_more_statements(net, send):
    staff = net.user("staff_a")
    for _ in range(2):
        send()
    few, shown = _statements_for_list(staff)
    assert len(shown) == 2
    for _ in range(6):
        send()
    many, shown = _statements_for_list(staff)
    assert len(shown) == 8
    assert many == few


def test_cbo_staff_see_the_patient_only_while_consent_is_valid(net, send):
    first, second = send(), send()
    listed = service.referral_list(net.user("staff_a"), "inbound").items
    assert [v.patient_visible for v in listed] == [True, True]
    patient_consent = first.patient.consents[0]
    consent.revoke_consent(net.user("coordinator"), patient_consent.id)
    listed = service.referral_list(net.user("staff_a"), "inbound").items
    assert {v.referral.id for v in listed} == {first.id, second.id}
    assert [v.patient_visible for v in listed] == [False, False]
    # The referring side keeps seeing the patient.
    sent = service.referral_list(net.user("coordinator"), "outbound").items
    assert [v.patient_visible for v in sent] == [True, True]
    # The same answer as the per-referral rule.
    for view in listed:
        assert view.patient_visible == service.patient_details_visible(
            net.user("staff_a"), view.referral
        )


def test_the_inbox_sections_and_the_dashboard_counts(net, send):
    send()
    send(service="waitlist")
    inbox = service.inbox(net.user("staff_a"))
    sections = ("overdue", "new", "accepted", "waitlist")
    assert [inbox.sections[k].total for k in sections] == [0, 2, 0, 1]
    assert [len(inbox.sections[k].items) for k in sections] == [0, 2, 0, 1]
    assert inbox.sections["waitlist"].items[0].referral.service_name == "Meals A"
    assert {s.name for s in inbox.services} == {"Pantry A", "Meals A", "Shelter A"}
    dashboard = dashboards.dashboard(net.user("coordinator"))
    assert dashboard.counts == {"requested": 2, "accepted": 0, "in-progress": 0, "on-hold": 0}
    assert [late for _, late in dashboard.rows.items] == [False, False]
    assert dashboard.rows.total == 2


def test_the_inbox_costs_the_same_statements_however_long_its_sections(net, send):
    staff = net.user("staff_a")
    send()
    send(service="waitlist")

    def inbox_statements() -> int:
        db.session.expire_all()
        with CountStatements() as counted:
            found = service.inbox(staff)
            for page in found.sections.values():
                for shown in page.items:
                    _ = (shown.referral.sender_organization.name, shown.referral.created_at)
        return counted.count

    few = inbox_statements()
    for _ in range(14):  # more than a section shows
        send()
    assert inbox_statements() == few
