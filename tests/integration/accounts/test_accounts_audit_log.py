"""The audit log: rows written with the change, immutable in the database, filterable by admins."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DatabaseError

from carenet import audit
from carenet.accounts import service as accounts
from carenet.audit.models import AuditEvent
from carenet.extensions import db


def _one_event(world):
    actor = accounts.find_user(world.emails["admin"])
    event = audit.record(actor, "read", "patient", "p-1", {"why": "test"})
    db.session.commit()
    return event.id


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_event SET action = 'nothing' WHERE id = :id",
        "DELETE FROM audit_event WHERE id = :id",
    ],
)
def test_database_refuses_to_change_or_delete_audit_rows(app_ctx, world, statement):
    event_id = _one_event(world)
    with pytest.raises(DatabaseError, match="append-only"):
        db.session.execute(text(statement), {"id": event_id})
        db.session.flush()
    db.session.rollback()
    assert db.session.get(AuditEvent, event_id).action == "read"


def test_record_read_is_one_call_that_commits(app_ctx, world):
    actor = accounts.find_user(world.emails["coordinator"])
    audit.record_read(actor, "patient", "p-42", organization_id=world.care)
    db.session.rollback()  # already committed: survives
    row = db.session.scalar(select(AuditEvent).where(AuditEvent.object_id == "p-42"))
    assert (row.action, row.actor_email, row.organization_id) == (
        "read",
        world.emails["coordinator"],
        world.care,
    )


def test_sign_in_sign_out_and_failures_are_audited_with_the_address(
    app, client, world, sign_in, csrf_token
):
    sign_in(client, world.emails["coordinator"], "wrong password here", REMOTE_ADDR="10.3.0.1")
    sign_in(client, world.emails["coordinator"], REMOTE_ADDR="10.3.0.2")
    client.post("/logout", data={"csrf_token": csrf_token(client, "/account")})
    with app.app_context():
        rows = db.session.execute(
            select(AuditEvent.action, AuditEvent.remote_addr)
            .where(AuditEvent.object_type == "user", AuditEvent.action != "create")
            .order_by(AuditEvent.id)
        ).all()
    assert [tuple(r) for r in rows] == [
        ("sign_in_failed", "10.3.0.1"),
        ("sign_in", "10.3.0.2"),
        ("sign_out", "127.0.0.1"),
    ]


def test_admin_filters_the_audit_log(app, world, sign_in):
    with app.app_context():
        _one_event(world)
    client = app.test_client()
    sign_in(client, world.emails["admin"])
    page = client.get("/admin/audit?action=read&object_type=patient").get_data(as_text=True)
    assert "p-1" in page and "<strong>1</strong> event · page 1 of 1" in page
    none = client.get("/admin/audit?actor=nobody").get_data(as_text=True)
    assert "No events match." in none
    dated = client.get("/admin/audit?since=2000-01-01&until=2000-01-02").get_data(as_text=True)
    assert "No events match." in dated


def test_bad_filter_is_a_400_naming_the_field(app, world, sign_in):
    client = app.test_client()
    sign_in(client, world.emails["admin"])
    response = client.get("/admin/audit?since=yesterday")
    assert response.status_code == 400
    assert "since" in response.get_data(as_text=True)
    assert "Traceback" not in response.get_data(as_text=True)


def test_the_app_offers_no_way_to_change_the_audit_log(app):
    methods = {
        method
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("audit.")
        for method in rule.methods
    }
    assert methods <= {"GET", "HEAD", "OPTIONS"}
