"""Consent validity over time, and the audit trail of every patient read and write."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from carenet.audit.models import AuditEvent
from carenet.db.types import utcnow
from carenet.errors import Conflict, InvalidInput, NotFound
from carenet.extensions import db
from carenet.referrals import consent, history, patients, service
from carenet.referrals.models import Referral
from carenet.referrals.service import ReferralRequest
from carenet.screening import service as screening


def _request(net, patient_id):
    return ReferralRequest(
        patient_id=patient_id, service_id=net.services["open"], category="food-insecurity"
    )


def test_consent_starting_later_is_refused_and_an_expired_one_does_not_open_the_gate(net):
    coordinator = net.user("coordinator")
    bare = net.patient_without_consent
    with pytest.raises(InvalidInput) as later:
        consent.record_consent(coordinator, bare, "written", starts_at=utcnow() + timedelta(2))
    assert "starts_at" in later.value.errors
    with pytest.raises(Conflict):
        service.send_referral(coordinator, _request(net, bare))
    lapsed = consent.record_consent(
        coordinator,
        bare,
        "electronic",
        starts_at=utcnow() - timedelta(days=30),
        expires_at=utcnow() - timedelta(days=1),
        historical=True,  # dated before the patient's record: a paper form
    )
    assert consent.consent_state(lapsed) == "expired"
    assert not consent.has_valid_consent(bare)
    with pytest.raises(InvalidInput) as backwards:
        consent.record_consent(coordinator, bare, "verbal", expires_at=utcnow() - timedelta(1))
    assert "expires_at" in backwards.value.errors
    current = consent.record_consent(coordinator, bare, "verbal")
    assert consent.has_valid_consent(bare)
    consent.revoke_consent(coordinator, current.id)
    assert not consent.has_valid_consent(bare)
    with pytest.raises(Conflict):
        consent.revoke_consent(coordinator, current.id)


def test_only_the_patients_own_coordinators_record_or_revoke_consent(net):
    with pytest.raises(NotFound):
        consent.record_consent(net.user("coordinator_other"), net.patient, "verbal")
    with pytest.raises(NotFound):
        consent.record_consent(net.user("staff_a"), net.patient, "verbal")


def test_patient_writes_and_reads_are_audited(net):
    coordinator = net.user("coordinator")
    created = patients.create_patient(
        coordinator,
        {
            "given_name": "Ana",
            "family_name": "Lopez",
            "birth_date": date(1950, 3, 4),
            "postal_code": "33130",
        },
    )
    assert created.duplicates and created.warnings  # same name and birth date as the fixture's
    patients.get_patient(coordinator, created.patient.id)
    recorded = consent.record_consent(coordinator, created.patient.id, "verbal")
    consent.revoke_consent(coordinator, recorded.id)
    screening.record_screening(coordinator, created.patient.id, {"93030-5": "LA33-6"})
    sent = service.send_referral(coordinator, _request(net, net.patient)).referral
    service.get_referral(net.user("staff_a"), sent.id)
    rows = db.session.execute(
        select(AuditEvent.action, AuditEvent.object_type).order_by(AuditEvent.id)
    ).all()
    assert [tuple(r) for r in rows] == [
        ("create", "patient"),
        ("read", "patient"),
        ("create", "consent"),
        ("revoke", "consent"),
        ("create", "screening"),
        ("create", "referral"),
        ("read", "referral"),
    ]


def test_patients_list_only_the_coordinators_organization(net):
    names = [p.given_name for p in patients.list_patients(net.user("coordinator")).items]
    assert names == ["Ana", "Ben"]
    assert patients.list_patients(net.user("coordinator_other")).items == []


def test_notes_are_seen_by_both_sides_and_no_one_else(net, send):
    referral = send()
    history.add_note(net.user("staff_a"), referral.id, "Called, left a message")
    history.add_note(net.user("coordinator"), referral.id, "Best after 5pm")
    assert [n.body for n in history.notes_of(referral)] == [
        "Called, left a message",
        "Best after 5pm",
    ]
    for stranger in ("staff_b", "coordinator_other", "lead"):
        with pytest.raises(NotFound):
            history.add_note(net.user(stranger), referral.id, "hello")
    with pytest.raises(InvalidInput):
        history.add_note(net.user("staff_a"), referral.id, "   ")


def test_cbo_staff_list_only_referrals_to_their_organization(net, send):
    send()
    send(service="b")
    inbound_a = service.list_referrals(net.user("staff_a"), "inbound").items
    inbound_b = service.list_referrals(net.user("staff_b"), "inbound").items
    assert [r.service_name for r in inbound_a] == ["Pantry A"]
    assert [r.service_name for r in inbound_b] == ["Rides B"]
    assert service.list_referrals(net.user("staff_a"), "outbound").total == 0
    assert len(db.session.scalars(select(Referral)).all()) == 2
