"""Report tables as shown: suppression of every count, times only for groups of 11 or more."""

from __future__ import annotations

from datetime import UTC, datetime

from carenet.extensions import db
from carenet.referrals.models import Need, Patient
from carenet.reports import service

S = "<11"


def _add_unmet_utility_needs(history, count: int, postcode: str = "33101") -> None:
    patient = db.session.scalar(db.select(Patient).where(Patient.postal_code == postcode))
    for day in range(1, count + 1):
        db.session.add(
            Need(
                patient_id=patient.id,
                category="utility-insecurity",
                created_at=datetime(2026, 2, day, 8, tzinfo=UTC),
            )  # fmt: skip
        )
    db.session.commit()


def test_small_counts_of_the_history_are_all_hidden(history):
    table = service.unmet_needs(db.session, history.query(group_by="domain"))
    assert table.headers == ["Domain", "Needs identified", "Met", "Unmet", "Open", "Unmet %"]
    assert [row[0] for row in table.rows] == [
        "Food insecurity",
        "Housing instability",
        "Transportation insecurity",
    ]
    # housing has 0 met and 0 open: zeros stay zeros, the rest is "<11"
    assert table.rows[1] == ["Housing instability", S, "0", S, "0", "—"]
    assert table.totals == ["Total", S, S, S, S, "—"]


def test_a_large_group_is_shown_and_a_lone_small_neighbour_is_protected(history):
    _add_unmet_utility_needs(history, 12)
    table = service.unmet_needs(db.session, history.query(group_by="domain"))
    utility = table.rows[-1]
    assert utility == ["Utility insecurity", "12", "0", "12", "0", "100.0"]
    # the Unmet column total (3 + 12 = 15) is shown: the small unmet cells of the other
    # domains (1 food, 2 housing) are two, so each column keeps at least two hidden cells
    assert table.totals[3] == "15"
    assert [row[3] for row in table.rows] == [S, S, "0", "12"]


def test_complementary_suppression_in_a_report(history):
    # 12 unmet utility needs in 33101, and the history's other unmet needs:
    # 33101 then has identified 15 = met 2, unmet 13, open 0.
    _add_unmet_utility_needs(history, 12)
    table = service.unmet_needs(db.session, history.query(group_by="zip"))
    row = {r[0]: r for r in table.rows}["33101"]
    assert row[1] == "15"
    # met (2) is small; alone in its row beside a shown total it would be 15 - 13 - 0:
    # so unmet (13, the next-smallest non-zero cell) is hidden as well
    assert row[2:5] == [S, S, "0"]


def test_times_only_for_groups_of_11_or_more(history):
    table = service.time_to_close(db.session, history.query(group_by="cbo"))
    for row in table.rows:
        assert row[1] == S  # 3 and 4 referrals
        assert row[3:] == ["—"] * 7


def test_every_report_runs_and_carries_no_person(history):
    names = {"Test Person", "Person 0001", "Test Street", "1950-01-01"}
    for name in service.REPORTS:
        table = service.run_report(db.session, name, history.query(group_by="domain"))
        text = repr((table.headers, table.rows, table.totals))
        assert not any(n in text for n in names), name


def test_service_gaps_side_by_side(history):
    table = service.service_gaps(db.session, history.query())
    rows = {(r[0], r[1]): r[2:] for r in table.rows}
    assert rows == {
        ("Food insecurity", "33101"): ["Miami-Dade County, FL", S, "0"],
        ("Housing instability", "33012"): ["Miami-Dade County, FL", S, S],
        ("Food insecurity", "33012"): ["Miami-Dade County, FL", "0", S],
        ("Housing instability", "33101"): ["Miami-Dade County, FL", "0", S],
    }
    assert table.rows[0][:2] == ["Food insecurity", "33101"]  # most zero-result searches first


def test_organizations_are_shown_by_name(history):
    table = service.referral_outcomes(db.session, history.query(group_by="cbo"))
    assert [row[0] for row in table.rows] == sorted(["CBO One", "CBO Two"], key=lambda n: {
        "CBO One": history.cbo_one, "CBO Two": history.cbo_two}[n])  # fmt: skip
    table = service.unmet_needs(db.session, history.query(group_by="care_org"))
    assert [row[0] for row in table.rows] == ["Care Clinic"]
    table = service.unmet_needs(db.session, history.query(group_by="period", period="quarter"))
    assert [row[0] for row in table.rows] == ["2026 Q1"]
