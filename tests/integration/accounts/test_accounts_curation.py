"""CBO self-service: edit hours, capacity and phones; "verified today"; the staleness list."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from carenet.accounts import service as accounts
from carenet.audit.models import AuditEvent
from carenet.db.types import utcnow
from carenet.directory import curation
from carenet.directory.models import Service
from carenet.errors import InvalidInput
from carenet.extensions import db


def test_cbo_admin_edits_hours_capacity_and_phones(app, world, sign_in, csrf_token):
    client = app.test_client()
    sign_in(client, world.emails["cbo_admin"])
    path = f"/curation/services/{world.service_a}"
    response = client.post(
        path,
        data={
            "capacity_status": "waitlist",
            "hours": "MO-FR 09:00-17:00\nSA 10:00-14:00",
            "phones": "555-123-4567 x12\n(555) 765-4321",
            "description": "Groceries every weekday.",
            "url": "https://pantry-a.example.org",
            "email": "help@pantry-a.example.org",
            "csrf_token": csrf_token(client, path),
        },
    )
    assert response.status_code == 302
    with app.app_context():
        service = db.session.get(Service, world.service_a)
        assert service.capacity_status == "waitlist"
        assert service.description == "Groceries every weekday."
        assert service.url == "https://pantry-a.example.org"
        assert service.email == "help@pantry-a.example.org"
        hours = sorted(
            (s.byday, s.opens_at.isoformat(), s.closes_at.isoformat()) for s in service.schedules
        )
        assert hours == [("MO,TU,WE,TH,FR", "09:00:00", "17:00:00"), ("SA", "10:00:00", "14:00:00")]
        assert sorted((p.number, p.extension) for p in service.phones) == [
            ("(555) 765-4321", None),
            ("555-123-4567", "12"),
        ]
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "update"))
        assert event.actor_email == world.emails["cbo_admin"]
        assert event.object_id == world.service_a
        assert event.detail["capacity_status"] == {"from": "capacity", "to": "waitlist"}


def test_bad_hours_are_refused_naming_the_line_and_nothing_changes(app, world, sign_in, csrf_token):
    client = app.test_client()
    sign_in(client, world.emails["cbo_admin"])
    path = f"/curation/services/{world.service_a}"
    response = client.post(
        path,
        data={
            "capacity_status": "no-capacity",
            "hours": "MO 09:00-17:00\nFunday 9-5",
            "phones": "",
            "csrf_token": csrf_token(client, path),
        },
    )
    assert response.status_code == 400
    assert "Line 2" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Service, world.service_a).capacity_status == "capacity"


def test_a_bad_website_is_refused_and_nothing_is_half_written(app, world, sign_in, csrf_token):
    client = app.test_client()
    sign_in(client, world.emails["cbo_admin"])
    path = f"/curation/services/{world.service_a}"
    response = client.post(
        path,
        data={
            "capacity_status": "no-capacity",
            "hours": "MO 09:00-17:00",
            "phones": "555-123-4567",
            "url": "javascript:alert(1)",
            "csrf_token": csrf_token(client, path),
        },
    )
    assert response.status_code == 400
    assert "http(s) address" in response.get_data(as_text=True)
    with app.app_context():
        service = db.session.get(Service, world.service_a)
        assert service.capacity_status == "capacity"
        assert service.schedules == [] and service.phones == [] and service.url is None


def test_verified_today_stamps_the_service_and_leaves_the_stale_list(
    app, world, sign_in, csrf_token
):
    client = app.test_client()
    sign_in(client, world.emails["cbo_admin"])
    assert ">Pantry A</a>" in client.get("/curation/stale").get_data(as_text=True)
    token = csrf_token(client, "/curation/")
    response = client.post(
        f"/curation/services/{world.service_a}/verify",
        data={"csrf_token": token, "back": "/curation/stale"},
    )
    assert response.headers["Location"] == "/curation/stale"
    with app.app_context():
        service = db.session.get(Service, world.service_a)
        assert service.last_verified_at is not None
        assert service.last_verified_by == world.emails["cbo_admin"]
    assert ">Pantry A</a>" not in client.get("/curation/stale").get_data(as_text=True)


def test_stale_means_never_verified_or_older_than_180_days(app_ctx, world):
    admin = accounts.find_user(world.emails["admin"])
    fresh = db.session.get(Service, world.service_a)
    fresh.last_verified_at = utcnow() - timedelta(days=179)
    old = db.session.get(Service, world.service_b)
    old.last_verified_at = utcnow() - timedelta(days=181)
    db.session.commit()
    assert [s.name for s in curation.stale_services(admin).items] == ["Pantry B"]
    old.last_verified_at = None
    db.session.commit()
    assert [s.name for s in curation.stale_services(admin).items] == ["Pantry B"]


def test_verify_without_csrf_is_rejected(app, world, sign_in):
    client = app.test_client()
    sign_in(client, world.emails["cbo_admin"])
    assert client.post(f"/curation/services/{world.service_a}/verify").status_code == 400


def test_update_and_its_audit_row_share_one_transaction(app_ctx, world):
    actor = accounts.find_user(world.emails["cbo_admin"])
    # A field refused after the capacity was set: nothing is written, no audit row either.
    refused = curation.ServiceChanges("no-capacity", [], [], url="not a web address")
    with pytest.raises(InvalidInput):
        curation.update_service(actor, world.service_a, refused)
    db.session.rollback()
    assert db.session.get(Service, world.service_a).capacity_status == "capacity"
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "update")) is None
    # Accepted: the change and its audit row are committed together by the service.
    curation.update_service(actor, world.service_a, curation.ServiceChanges("no-capacity", [], []))
    db.session.rollback()
    assert db.session.get(Service, world.service_a).capacity_status == "no-capacity"
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "update")) is not None


def test_service_level_check_refuses_other_organizations(app_ctx, world):
    actor = accounts.find_user(world.emails["cbo_admin"])
    from carenet.errors import NotAllowed

    with pytest.raises(NotAllowed):
        curation.verify_service(actor, world.service_b)
    with pytest.raises(InvalidInput):
        curation.update_service(actor, world.service_a, curation.ServiceChanges("full", [], []))
