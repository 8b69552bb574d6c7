"""A small hand-computed history of needs, referrals, events and zero-result searches.

as_of 2026-04-01 12:00 UTC, range 2026-01-01 .. 2026-03-31 (inclusive):

need  domain          ZIP    created     referrals (hours after the referral was sent)
N1    food            33101  01-05       R1 → CBO One: accepted +2, completed +72        met
N2    food            33012  01-10       R2 → One: rejected +4 (no-capacity);
                                         R3 → Two: accepted +10, failed +48 (could-not-contact)
                                                                                         unmet
N3    food            33301  03-25       none, 6 days old                               open
N4    housing         33101  02-01       none, > 14 days                                unmet
N5    housing         33012  02-10       R4 → Two: still requested, > 30 days           unmet
N6    transportation  33301  03-20       R5 → Two: accepted +1, 11 days                 open
N7    transportation  33101  03-01       R6 → One: rejected +6 (not-eligible);
                                         R7 → Two: accepted +3, completed +120          met
N8    food            33101  2025-12-20  R8 (2025-12-21) completed: outside the range
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest
from factories import (
    NeedFactory,
    OrganizationFactory,
    PatientFactory,
    ReferralEventFactory,
    ReferralFactory,
)

from carenet.extensions import db
from carenet.reports.query import ReportQuery
from carenet.reports.service import record_zero_result_search, release_months

AS_OF = datetime(2026, 4, 1, 12, tzinfo=UTC)  # March has ended: released
START = datetime(2026, 1, 1, tzinfo=UTC)
END = datetime(2026, 4, 1, tzinfo=UTC)
FOOD, HOUSING, RIDES = "food-insecurity", "housing-instability", "transportation-insecurity"


@dataclass
class History:
    care: str
    cbo_one: str
    cbo_two: str

    def query(self, **fields) -> ReportQuery:  # type: ignore[no-untyped-def]
        found = {"start": START, "end": END, "as_of": AS_OF, **fields}
        return ReportQuery(**found)


def _at(day: str, hour: int = 9) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=UTC)


def build_history() -> History:
    orgs = {
        "care": OrganizationFactory(name="Care Clinic", kind="care"),
        "one": OrganizationFactory(name="CBO One"),
        "two": OrganizationFactory(name="CBO Two"),
    }
    patients = {}
    for n, postcode in enumerate(("33101", "33012", "33301"), start=1):
        patients[postcode] = PatientFactory(
            organization=orgs["care"],
            given_name="Test",
            family_name=f"Person {n:04d}",
            birth_date=date(1950, 1, n),
            address_1=f"{n} Test Street",
            postal_code=postcode,
        )
    needs = {}
    for name, domain, postcode, day in (
        ("N1", FOOD, "33101", "2026-01-05"),
        ("N2", FOOD, "33012", "2026-01-10"),
        ("N3", FOOD, "33301", "2026-03-25"),
        ("N4", HOUSING, "33101", "2026-02-01"),
        ("N5", HOUSING, "33012", "2026-02-10"),
        ("N6", RIDES, "33301", "2026-03-20"),
        ("N7", RIDES, "33101", "2026-03-01"),
        ("N8", FOOD, "33101", "2025-12-20"),
    ):
        needs[name] = NeedFactory(
            patient=patients[postcode], category=domain, created_at=_at(day, 8)
        )
    one, two = orgs["one"], orgs["two"]
    referrals = (
        ("R1", "N1", one, "2026-01-06", [("accepted", 2, None), ("in-progress", 24, None),
                                         ("completed", 72, None)]),
        ("R2", "N2", one, "2026-01-11", [("rejected", 4, "no-capacity")]),
        ("R3", "N2", two, "2026-01-12", [("accepted", 10, None),
                                         ("failed", 48, "could-not-contact")]),
        ("R4", "N5", two, "2026-02-11", []),
        ("R5", "N6", two, "2026-03-21", [("accepted", 1, None)]),
        ("R6", "N7", one, "2026-03-02", [("rejected", 6, "not-eligible")]),
        ("R7", "N7", two, "2026-03-03", [("accepted", 3, None), ("in-progress", 4, None),
                                         ("completed", 120, None)]),
        ("R8", "N8", one, "2025-12-21", [("accepted", 1, None), ("in-progress", 2, None),
                                         ("completed", 5, None)]),
    )  # fmt: skip
    for _, need_name, cbo, day, moves in referrals:
        sent = _at(day)
        referral = ReferralFactory(
            need=needs[need_name],
            sender_organization=orgs["care"],
            recipient_organization=cbo,
            created_at=sent,
            updated_at=sent,
        )
        ReferralEventFactory(referral=referral, occurred_at=sent)
        status, reason = "requested", None
        for version, (to, hours, code) in enumerate(moves, start=2):
            ReferralEventFactory(
                referral=referral,
                from_status=status,
                to_status=to,
                version=version,
                occurred_at=sent + timedelta(hours=hours),
                reason_code=code,
            )
            status, reason = to, code
        referral.status, referral.status_reason = status, reason
    db.session.commit()
    record_zero_result_search(["food-pantry"], "33101", 10, at=_at("2026-02-01"))
    record_zero_result_search(["meal-delivery"], "33101-1234", 5, at=_at("2026-02-02"))
    record_zero_result_search(["housing"], "33012", 25, at=_at("2026-02-03"))
    record_zero_result_search(["housing"], "33012", 25, at=_at("2025-11-03"))  # out of range
    return History(orgs["care"].id, one.id, two.id)


def release(as_of: datetime | None = AS_OF) -> None:
    """What the scheduled ``carenet reports release`` does (reports never release a month)."""
    release_months(db.session(), as_of)


@pytest.fixture
def history(app_ctx) -> History:
    found = build_history()
    release()
    return found


@pytest.fixture
def release_job():
    """``release(as_of=AS_OF)``: run the scheduled release."""
    return release


@pytest.fixture
def unreleased_history(app_ctx) -> History:
    """The history before the scheduled release has run (tests add to it, then ``release``)."""
    return build_history()


@pytest.fixture
def history_builder():
    """``build_history`` itself, for tests that need an app context of their own."""
    return build_history
