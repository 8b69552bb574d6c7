"""The workflow's rules without a database: the transition table, who may move, overdue.

Plain objects stand in for users and referrals; the real policy decides.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

import pytest
from people import Person

from carenet.referrals.overdue import is_overdue
from carenet.referrals.workflow import (
    FINAL_STATUSES,
    OPEN_STATUSES,
    RECIPIENT,
    SENDER,
    TRANSITIONS,
    available_moves,
    moves_from,
)

# --- the transition table (docs/workflow.md, "Transition table") -------------------

CBO, REFERRER = RECIPIENT, SENDER
DOCUMENTED = {
    # (from, to): (move, who, reason required)
    ("requested", "accepted"): ("accept", CBO, False),
    ("requested", "rejected"): ("reject", CBO, True),
    ("requested", "cancelled"): ("cancel", REFERRER, True),
    ("accepted", "in-progress"): ("start", CBO, False),
    ("accepted", "on-hold"): ("hold", CBO, True),
    ("accepted", "failed"): ("fail", CBO, True),
    ("accepted", "cancelled"): ("cancel", REFERRER, True),
    ("in-progress", "completed"): ("complete", CBO, False),
    ("in-progress", "on-hold"): ("hold", CBO, True),
    ("in-progress", "failed"): ("fail", CBO, True),
    ("in-progress", "cancelled"): ("cancel", REFERRER, True),
    ("on-hold", "accepted"): ("resume", CBO, False),
    ("on-hold", "in-progress"): ("resume", CBO, False),
    ("on-hold", "failed"): ("fail", CBO, True),
    ("on-hold", "cancelled"): ("cancel", REFERRER, True),
}


def test_the_table_is_the_documented_one_edge_for_edge():
    table = {edge: (m.action, m.side, m.needs_reason) for edge, m in TRANSITIONS.items()}
    assert table == DOCUMENTED


def test_open_and_final_statuses_cover_every_status_of_the_table_and_do_not_overlap():
    seen = {status for edge in TRANSITIONS for status in edge}
    assert seen == set(OPEN_STATUSES) | FINAL_STATUSES
    assert not set(OPEN_STATUSES) & FINAL_STATUSES
    assert FINAL_STATUSES == {"completed", "rejected", "failed", "cancelled"}


@pytest.mark.parametrize("final", sorted(FINAL_STATUSES))
def test_no_edge_leaves_a_final_status(final):
    assert moves_from(final) == {}


@pytest.mark.parametrize("status", OPEN_STATUSES)
def test_every_open_status_can_be_cancelled_by_the_sender_with_a_reason(status):
    cancel = moves_from(status)["cancelled"]
    assert (cancel.action, cancel.side, cancel.needs_reason) == ("cancel", SENDER, True)


def test_only_cancel_is_the_senders_and_rejected_only_comes_from_requested():
    assert {m.action for m in TRANSITIONS.values() if m.side == SENDER} == {"cancel"}
    assert [frm for frm, to in TRANSITIONS if to == "rejected"] == ["requested"]


def test_every_move_that_ends_badly_or_pauses_needs_a_reason():
    for (_, to), move in TRANSITIONS.items():
        assert move.needs_reason == (to in {"rejected", "failed", "cancelled", "on-hold"})


# --- who may make which move now (available_moves through the real policy) ----------


@dataclass
class Ref:
    __tablename__ = "referral"
    status: str
    held_from: str | None = None
    sender_organization_id: str = "clinic"
    recipient_organization_id: str = "pantry"
    patient_id: str = "p1"


COORDINATOR = Person("coord", {"coordinator": {"clinic"}})
STAFF = Person("staff", {"cbo_staff": {"pantry"}})
CBO_ADMIN = Person("cboadmin", {"cbo_admin": {"pantry"}})
OTHER_CBO = Person("other", {"cbo_staff": {"shelter"}})
OTHER_CLINIC = Person("otherc", {"coordinator": {"hospital"}})
LEAD = Person("lead", {"program_lead": {"network"}})
ADMIN = Person("admin", {"admin": {"network"}})
ANONYMOUS = Person("anon", is_authenticated=False)


def moves(person: Person, referral: Ref, consent: bool = True) -> set[str]:
    return set(available_moves(person, referral, lambda _patient_id: consent))


def test_while_consent_is_withdrawn_the_cbo_may_only_close():
    assert moves(STAFF, Ref("requested"), consent=False) == {"rejected"}
    assert moves(STAFF, Ref("accepted"), consent=False) == {"failed"}
    assert moves(STAFF, Ref("in-progress"), consent=False) == {"failed"}
    assert moves(STAFF, Ref("on-hold", held_from="accepted"), consent=False) == {"failed"}
    assert moves(COORDINATOR, Ref("accepted"), consent=False) == {"cancelled"}


def test_a_new_referral_the_cbo_accepts_or_rejects_the_sender_cancels():
    new = Ref("requested")
    assert moves(STAFF, new) == moves(CBO_ADMIN, new) == {"accepted", "rejected"}
    assert moves(COORDINATOR, new) == {"cancelled"}


def test_under_way_the_cbo_completes_holds_or_fails():
    assert moves(STAFF, Ref("accepted")) == {"in-progress", "on-hold", "failed"}
    assert moves(STAFF, Ref("in-progress")) == {"completed", "on-hold", "failed"}
    assert moves(COORDINATOR, Ref("in-progress")) == {"cancelled"}


@pytest.mark.parametrize("held_from", ["accepted", "in-progress"])
def test_on_hold_resumes_only_to_where_it_was_held_from(held_from):
    held = Ref("on-hold", held_from=held_from)
    assert moves(STAFF, held) == {held_from, "failed"}
    assert moves(COORDINATOR, held) == {"cancelled"}


@pytest.mark.parametrize("final", sorted(FINAL_STATUSES))
def test_nobody_moves_a_final_referral(final):
    for person in (STAFF, CBO_ADMIN, COORDINATOR, ADMIN):
        assert moves(person, Ref(final)) == set()


@pytest.mark.parametrize("person", [OTHER_CBO, OTHER_CLINIC, LEAD, ADMIN, ANONYMOUS])
def test_anyone_outside_the_two_organizations_has_no_moves(person):
    for status in OPEN_STATUSES:
        assert moves(person, Ref(status, held_from="accepted")) == set()


def test_someone_on_both_sides_gets_both_sides_moves():
    both = Person("both", {"coordinator": {"clinic"}, "cbo_staff": {"pantry"}})
    assert moves(both, Ref("requested")) == {"accepted", "rejected", "cancelled"}


# --- overdue: business days in the organization's zone ------------------------------

# 2026-11-20 is a Friday.
FRI, SAT, SUN, MON, TUE, WED = (date(2026, 11, d) for d in (20, 21, 22, 23, 24, 25))
NEW_YORK = "America/New_York"


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)


@dataclass
class Sent:
    status: str
    created_at: datetime
    follow_up_on: date | None = None


def test_friday_ten_oclock_is_overdue_from_tuesday_ten_oclock():
    sent = Sent("requested", at(FRI, 10))
    assert not is_overdue(sent, at(TUE, 9, 59))
    assert is_overdue(sent, at(TUE, 10))


@pytest.mark.parametrize("weekend_day", [SAT, SUN])
def test_a_weekend_start_counts_from_monday_midnight(weekend_day):
    sent = Sent("requested", at(weekend_day, 15))
    assert not is_overdue(sent, at(TUE, 23, 59))
    assert is_overdue(sent, at(WED, 0))


def test_a_weekend_is_not_two_business_days():
    sent = Sent("requested", at(FRI, 10))
    assert not is_overdue(sent, at(MON, 9))  # three calendar days, one business day


def test_business_days_are_counted_in_the_organizations_zone():
    # Friday 23:30 in New York is Saturday 04:30 UTC.
    sent = Sent("requested", datetime(2026, 11, 21, 4, 30, tzinfo=UTC))
    # In UTC it is a Saturday referral: overdue from Wednesday 00:00 UTC.
    assert is_overdue(sent, at(WED, 2), "UTC")
    # In New York it is a Friday referral: overdue from Tuesday 23:30 there (Wed 04:30 UTC).
    assert not is_overdue(sent, at(WED, 4, 29), NEW_YORK)
    assert is_overdue(sent, at(WED, 4, 30), NEW_YORK)


def test_the_follow_up_date_passes_at_midnight_in_the_organizations_zone():
    accepted = Sent("accepted", at(MON, 9), follow_up_on=MON)
    # Tuesday 03:00 UTC is still Monday evening in New York.
    assert is_overdue(accepted, at(TUE, 3), "UTC")
    assert not is_overdue(accepted, at(TUE, 3), NEW_YORK)
    assert is_overdue(accepted, at(TUE, 5), NEW_YORK)  # Tuesday 00:00 New York


def test_accepted_without_a_follow_up_date_is_not_overdue():
    assert not is_overdue(Sent("accepted", at(MON, 9)), at(WED, 12))


@pytest.mark.parametrize("status", ["in-progress", "on-hold", *sorted(FINAL_STATUSES)])
def test_referrals_past_acceptance_are_never_overdue(status):
    long_ago = Sent(status, at(MON, 9), follow_up_on=MON)
    assert not is_overdue(long_ago, datetime(2027, 6, 1, tzinfo=UTC))
