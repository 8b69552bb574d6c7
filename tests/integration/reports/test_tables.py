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


H = "hidden"


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
    # Jan + Feb + Mar: a sum of several hidden months is hidden, marked complementary
    # unless it is one month's small count (the open needs: March only)
    assert table.totals == ["Total", H, H, H, S, "—"]
    assert (table.first.isoformat(), table.last.isoformat()) == ("2026-01-01", "2026-03-31")


def test_a_large_group_is_shown_when_its_month_protects_it(unreleased_history, release_job):
    history, release = unreleased_history, release_job
    _add_unmet_utility_needs(history, 12)  # all in February: one month's release
    release()
    table = service.unmet_needs(db.session, history.query(group_by="domain"))
    utility = table.rows[-1]
    assert utility[0] == "Utility insecurity" and utility[1] in ("12", H)
    # the window adds the months; a count hidden in February hides the window's sum,
    # marked complementary (it is not one small count) — never "<11" for a value of 12
    assert utility[3] in ("12", H) and utility[3] != S
    feb = service.unmet_needs(
        db.session,
        history.query(group_by="domain", start=datetime(2026, 2, 1, tzinfo=UTC),
                      end=datetime(2026, 3, 1, tzinfo=UTC)),
    )  # fmt: skip
    assert {r[0]: r for r in feb.rows}["Utility insecurity"][3] in ("12", H)


def test_complementary_cells_are_marked_apart_from_small_ones(unreleased_history, release_job):
    history, release = unreleased_history, release_job
    _add_unmet_utility_needs(history, 12)
    release()
    feb = history.query(group_by="zip", start=datetime(2026, 2, 1, tzinfo=UTC),
                        end=datetime(2026, 3, 1, tzinfo=UTC))  # fmt: skip
    rows = {r[0]: r for r in service.unmet_needs(db.session, feb).rows}
    # February's unmet needs: 33012 has 1 (N5), 33101 has 13 (N4 and the 12 added); the
    # column total 14 is shown elsewhere, so 13 is hidden to protect the 1 — and says so
    assert rows["33012"][3] == S
    assert rows["33101"][3] == H


def test_times_only_for_groups_of_11_or_more(history):
    table = service.time_to_close(db.session, history.query(group_by="cbo"))
    for row in table.rows:
        assert row[1] in (S, H)  # 3 and 4 referrals
        assert row[3:] == ["—"] * 7


def test_a_range_is_snapped_to_whole_ended_months(history):
    q = history.query(group_by="none", start=datetime(2026, 1, 20, tzinfo=UTC),
                      end=datetime(2026, 2, 3, tzinfo=UTC))  # fmt: skip
    table = service.unmet_needs(db.session, q)
    assert (table.first.isoformat(), table.last.isoformat()) == ("2026-01-01", "2026-02-28")
    # April (the month of as_of) has not ended: cut back to March
    q = history.query(group_by="none", end=datetime(2026, 4, 30, tzinfo=UTC))
    assert service.unmet_needs(db.session, q).last.isoformat() == "2026-03-31"


def test_every_report_runs_and_carries_no_person(history):
    names = {"Test Person", "Person 0001", "Test Street", "1950-01-01"}
    for name in service.REPORTS:
        table = service.run_report(db.session, name, history.query(group_by="domain"))
        text = repr((table.headers, table.rows, table.totals))
        assert not any(n in text for n in names), name


def test_service_gaps_side_by_side(history):
    table = service.service_gaps(db.session, history.query())
    rows = {(r[0], r[1]): r[2:] for r in table.rows}
    assert set(rows) == {
        ("Food insecurity", "33101"),
        ("Housing instability", "33012"),
        ("Food insecurity", "33012"),
        ("Housing instability", "33101"),
    }
    assert all(r[0] == "Miami-Dade County, FL" and r[1] in (S, H, "0") for r in rows.values())
    assert rows[("Food insecurity", "33012")][2] != "0"  # the unmet need of N2


def test_organizations_are_shown_by_name(history):
    table = service.referral_outcomes(db.session, history.query(group_by="cbo"))
    assert [row[0] for row in table.rows] == sorted(["CBO One", "CBO Two"], key=lambda n: {
        "CBO One": history.cbo_one, "CBO Two": history.cbo_two}[n])  # fmt: skip
    table = service.unmet_needs(db.session, history.query(group_by="care_org"))
    assert [row[0] for row in table.rows] == ["Care Clinic"]
    table = service.unmet_needs(db.session, history.query(group_by="period", period="quarter"))
    assert [row[0] for row in table.rows] == ["2026 Q1"]
