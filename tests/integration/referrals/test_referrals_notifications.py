"""The outbox against a real SMTP server (aiosmtpd on loopback): down, then back up; overdue."""

from __future__ import annotations

import socket
from datetime import timedelta

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Message
from sqlalchemy import select

from carenet.db.types import utcnow
from carenet.extensions import db
from carenet.referrals import notifications, overdue, workflow
from carenet.referrals.models import OutboxMessage, Referral


class Inbox(Message):
    def __init__(self) -> None:
        super().__init__()
        self.messages: list = []

    def handle_message(self, message) -> None:  # type: ignore[no-untyped-def]
        self.messages.append(message)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def smtp_port(app_ctx):
    port = free_port()
    app_ctx.config["SMTP_URL"] = f"smtp://127.0.0.1:{port}"
    return port


def start_server(port: int) -> tuple[Controller, Inbox]:
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    return controller, inbox


def test_a_message_survives_smtp_being_down_and_is_delivered_when_it_returns(net, send, smtp_port):
    referral = send()
    pending = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
    assert [m.recipient for m in pending] == ["admin_a@example.org", "staff_a@example.org"]

    down = notifications.drain_outbox()
    assert down == {"sent": 0, "failed": 2, "dead": 0}
    db.session.expire_all()
    kept = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
    assert [(m.status, m.attempts) for m in kept] == [("pending", 1), ("pending", 1)]
    assert all(m.last_error for m in kept)
    # Not due again before its back-off has passed.
    assert notifications.drain_outbox() == {"sent": 0, "failed": 0, "dead": 0}

    controller, inbox = start_server(smtp_port)
    try:
        later = utcnow() + timedelta(minutes=2)
        assert notifications.drain_outbox(now=later) == {"sent": 2, "failed": 0, "dead": 0}
    finally:
        controller.stop()
    db.session.expire_all()
    assert {m.status for m in db.session.scalars(select(OutboxMessage))} == {"sent"}
    assert sorted(m["To"] for m in inbox.messages) == ["admin_a@example.org", "staff_a@example.org"]
    mail = inbox.messages[0]
    assert mail["Subject"] == "carenet: a new referral to Pantry A"
    text = mail.get_payload()
    assert "Mercy Clinic sent a new referral to Pantry A (Food Bank A)" in text
    assert (
        f"http://127.0.0.1:5000/referrals/{referral.id}" in text
        or f"/referrals/{referral.id}" in text
    )
    assert "Lopez" not in text and "Ana" not in text and "insecurity" not in text.lower()


def test_the_worker_command_sends_status_changes_to_the_coordinator(net, send, smtp_port, app_ctx):
    referral = send()
    workflow.accept_referral(net.user("staff_a"), referral.id, 1)
    controller, inbox = start_server(smtp_port)
    try:
        result = app_ctx.test_cli_runner().invoke(args=["worker", "--once"])
    finally:
        controller.stop()
    assert result.exit_code == 0, result.output
    assert "sent: 3" in result.output and "still pending: 0" in result.output
    status_mails = [m for m in inbox.messages if m["To"] == "coordinator@example.org"]
    assert [m["Subject"] for m in status_mails] == [
        "carenet: your referral to Pantry A is accepted"
    ]


def test_backoff_grows_and_is_capped():
    assert [notifications.backoff(n).total_seconds() for n in (1, 2, 3, 10)] == [60, 120, 240, 3600]


def test_overdue_referrals_are_announced_once_to_both_sides(net, send, smtp_port):
    stale = send()
    fresh = send()
    db.session.execute(
        db.text("UPDATE referral SET created_at = :t WHERE id = :id"),
        {"t": utcnow() - timedelta(days=8), "id": stale.id},
    )
    db.session.commit()
    assert [r.id for r in overdue.overdue_referrals()] == [stale.id]
    assert overdue.notify_overdue() == 1
    assert overdue.notify_overdue() == 0
    notices = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.kind == "referral-overdue")
    ).all()
    assert sorted(m.recipient for m in notices) == [
        "admin_a@example.org",
        "coordinator@example.org",
        "staff_a@example.org",
    ]
    ordered = overdue.sort_overdue_first(db.session.scalars(select(Referral)).all())
    assert [(r.id, flag) for r, flag in ordered] == [(stale.id, True), (fresh.id, False)]


def test_accepted_past_its_follow_up_date_is_overdue(net, send):
    referral = send()
    workflow.accept_referral(net.user("staff_a"), referral.id, 1)
    db.session.execute(
        db.text("UPDATE referral SET follow_up_on = :d WHERE id = :id"),
        {"d": (utcnow() - timedelta(days=3)).date(), "id": referral.id},
    )
    db.session.commit()
    assert [r.id for r in overdue.overdue_referrals()] == [referral.id]
