"""Outbox delivery against a real SMTP server (aiosmtpd on loopback), on both backends.

The guarantee under test (docs/operations.md "The worker"): every message is
delivered at least once, each under the one Message-ID it was queued with; two
or more workers never send the same message; a message is sent twice only when
its worker stopped after the server accepted it and before the row was marked
sent, and then the copy carries the same Message-ID. Failures are retried after
a growing wait and become dead letters after ``OUTBOX_MAX_ATTEMPTS``.

Messages are counted by their Message-ID as the server received them.
"""

from __future__ import annotations

import email
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from integration.referrals.conftest import csrf_from
from sqlalchemy import func, select

from carenet.audit.models import AuditEvent
from carenet.db.retry import run_in_transaction
from carenet.db.types import as_utc, utcnow
from carenet.extensions import db
from carenet.referrals import notifications
from carenet.referrals.models import OutboxMessage

BIN = Path(sys.executable).parent


class Server:
    """A loopback SMTP server recording the Message-ID of every message it accepts.

    ``refuse`` answers DATA with that reply instead (counted in ``refused``);
    ``on_accept(message_id, count)`` runs after recording, before the 250 reply.
    """

    def __init__(self) -> None:
        self.accepted: list[str] = []
        self.refused: list[str] = []
        self.refuse: str | None = None
        self.delay = 0.0
        self.on_accept: Any = None
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        message_id = str(email.message_from_bytes(envelope.content)["Message-ID"])
        if self.refuse:
            self.refused.append(message_id)
            return self.refuse
        if self.delay:
            time.sleep(self.delay)  # the worker waits for the reply
        with self.lock:
            self.accepted.append(message_id)
            count = len(self.accepted)
        if self.on_accept is not None:
            self.on_accept(message_id, count)
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def smtp(app):
    """A running server; ``app.config['SMTP_URL']`` points at it."""
    port = free_port()
    server = Server()
    controller = Controller(server, hostname="127.0.0.1", port=port)
    controller.start()
    app.config["SMTP_URL"] = f"smtp://127.0.0.1:{port}"
    server.port = port  # type: ignore[attr-defined]
    try:
        yield server
    finally:
        controller.stop()


def add_messages(count: int, kind: str = "test") -> list[str]:
    """``count`` due messages added to the session; their Message-IDs in order."""
    ids = []
    for n in range(count):
        message = OutboxMessage(
            message_id=notifications.new_message_id(),
            kind=kind,
            recipient=f"person{n}@example.org",
            subject="carenet: test",
            body="A link.",
            status="pending",
            attempts=0,
            next_attempt_at=utcnow(),
        )
        db.session.add(message)
        ids.append(message.message_id)
    return ids


def queue(count: int, kind: str = "test") -> list[str]:
    """``count`` due messages, committed; their Message-IDs in id order."""
    ids = add_messages(count, kind)
    db.session.commit()
    return ids


def rows() -> list[OutboxMessage]:
    db.session.expire_all()
    return list(db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def drain_until_empty(worker: str | None = None, limit: int = 5) -> dict[str, int]:
    total: Counter[str] = Counter()
    while True:
        counts = notifications.drain_outbox(worker=worker, limit=limit)
        total.update(counts)
        if not any(counts.values()):
            return dict(total)


# --- several workers at once ---------------------------------------------------


def test_three_workers_with_writers_deliver_every_message_exactly_once(app, smtp):
    with app.app_context():
        expected = queue(45)
    smtp.delay = 0.002
    written: list[str] = []
    stop = threading.Event()
    errors: list[BaseException] = []
    barrier = threading.Barrier(4)

    def writer() -> None:  # more messages queued while the workers drain
        with app.app_context():
            barrier.wait()
            for _ in range(15):
                written.extend(
                    run_in_transaction(lambda: add_messages(1, kind="late"), session=db.session())
                )
            db.session.remove()

    def worker(name: str) -> None:
        with app.app_context():
            try:
                barrier.wait()
                idle = 0
                while idle < 3:  # three empty passes after the writer stopped
                    counts = notifications.drain_outbox(worker=name, limit=4)
                    idle = idle + 1 if stop.is_set() and not any(counts.values()) else 0
            except BaseException as exc:  # asserted below
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker, args=(f"w{i}",)) for i in range(3)]
    writing = threading.Thread(target=writer)
    for thread in [*threads, writing]:
        thread.start()
    writing.join(timeout=120)
    stop.set()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    received = Counter(smtp.accepted)
    assert set(received) == set(expected) | set(written)
    assert len(expected) + len(written) == 60
    assert [mid for mid, n in received.items() if n > 1] == []
    with app.app_context():
        final = rows()
        assert {m.status for m in final} == {"sent"}
        assert all(m.lease_until is None and m.attempts == 1 for m in final)
        assert {m.message_id for m in final} == set(received)


def test_a_claimed_message_is_not_claimed_again_before_its_lease_ends(app_ctx, smtp):
    queue(3)
    now = utcnow()
    first = notifications.claim_batch("a", now, notifications.outbox_settings(), 2)
    assert len(first) == 2
    second = notifications.claim_batch("b", now, notifications.outbox_settings(), 10)
    assert [m.id for m in second] == [max(m.id for m in first) + 1]
    assert notifications.claim_batch("c", now, notifications.outbox_settings(), 10) == []
    later = now + notifications.outbox_settings().lease + timedelta(seconds=1)
    again = notifications.claim_batch("c", later, notifications.outbox_settings(), 10)
    assert {m.id for m in again} == {m.id for m in first} | {m.id for m in second}
    assert {m.claimed_by for m in rows()} == {"c"}


# --- a worker killed mid-batch --------------------------------------------------


def worker_env(app: Any, smtp_port: int, lease: float, tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CARENET_")}
    env.update(
        CARENET_ENV="test",
        CARENET_DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"],
        CARENET_INSTANCE_DIR=str(tmp_path),
        CARENET_SMTP_URL=f"smtp://127.0.0.1:{smtp_port}",
        CARENET_OUTBOX_LEASE_SECONDS=str(lease),
    )
    return env


def start_worker(env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [str(BIN / "carenet"), "worker", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def wait_for_lease_end(app: Any) -> None:
    with app.app_context():
        leases = [as_utc(m.lease_until) for m in rows() if m.lease_until is not None]
    if leases:
        time.sleep(max((max(leases) - utcnow()).total_seconds(), 0) + 0.5)


def test_a_worker_killed_after_the_server_accepted_resends_only_that_message(app, smtp, tmp_path):
    """SIGKILL inside the window: the server has the 3rd message, its row is not marked sent."""
    with app.app_context():
        expected = queue(12)
    lease = 8.0
    worker = start_worker(worker_env(app, smtp.port, lease, tmp_path), "--batch-size", "5")

    def kill_at_third(message_id: str, count: int) -> None:
        if count == 3:
            os.kill(worker.pid, signal.SIGKILL)

    smtp.on_accept = kill_at_third
    assert worker.wait(timeout=60) == -signal.SIGKILL, worker.stdout.read() if worker.stdout else ""
    smtp.on_accept = None
    killed_at = utcnow()
    assert smtp.accepted == expected[:3]

    with app.app_context():
        after_kill = rows()
        # Sent and marked: the first two. Claimed by the dead worker, lease running: 3, 4, 5.
        assert [m.status for m in after_kill[:2]] == ["sent", "sent"]
        held = [m for m in after_kill if m.lease_until is not None]
        assert [m.message_id for m in held] == expected[2:5]
        assert all(m.status == "pending" and as_utc(m.lease_until) > killed_at for m in held)
        # The next worker, right away: the rest goes out, the dead worker's claims wait.
        drain_until_empty()
        assert Counter(smtp.accepted) == Counter(expected[:3] + expected[5:])

    wait_for_lease_end(app)
    env = worker_env(app, smtp.port, lease, tmp_path)
    after = subprocess.run(
        [str(BIN / "carenet"), "worker", "--once"], env=env, capture_output=True, text=True
    )
    assert after.returncode == 0, after.stdout + after.stderr
    assert "sent: 3" in after.stdout
    received = Counter(smtp.accepted)
    assert set(received) == set(expected)  # none lost
    # The one duplicate: the message the server accepted before the kill, not yet marked.
    assert {mid: n for mid, n in received.items() if n > 1} == {expected[2]: 2}
    with app.app_context():
        assert {m.status for m in rows()} == {"sent"}


def test_a_worker_killed_at_any_moment_loses_nothing_and_duplicates_only_the_window(
    app, smtp, tmp_path
):
    """A SIGKILL while messages are in flight: what the guarantee allows, and nothing more."""
    with app.app_context():
        expected = queue(20)
    smtp.delay = 0.05
    lease = 6.0
    worker = start_worker(worker_env(app, smtp.port, lease, tmp_path), "--batch-size", "8")
    deadline = time.monotonic() + 60
    while len(smtp.accepted) < 5 and time.monotonic() < deadline:
        time.sleep(0.01)
    os.kill(worker.pid, signal.SIGKILL)
    worker.wait(timeout=30)
    time.sleep(0.3)  # a message whose DATA was complete is still being accepted
    accepted_before = set(smtp.accepted)
    with app.app_context():
        unmarked = {m.message_id for m in rows() if m.status == "pending"}
    wait_for_lease_end(app)
    with app.app_context():
        drain_until_empty()
    received = Counter(smtp.accepted)
    assert set(received) == set(expected)
    duplicated = {mid for mid, n in received.items() if n > 1}
    assert duplicated <= accepted_before & unmarked
    assert all(n <= 2 for n in received.values())


# --- failures, backoff, dead letters ----------------------------------------------


def test_every_attempt_carries_the_message_id_it_was_queued_with(app_ctx, smtp):
    (message_id,) = queue(1)
    assert message_id.startswith("<outbox.") and message_id.endswith("@localhost>")
    smtp.refuse = "451 4.3.0 try again later"
    assert notifications.drain_outbox() == {"sent": 0, "failed": 1, "dead": 0}
    smtp.refuse = None
    later = utcnow() + timedelta(minutes=1, seconds=1)
    assert notifications.drain_outbox(now=later) == {"sent": 1, "failed": 0, "dead": 0}
    assert smtp.refused == [message_id] and smtp.accepted == [message_id]


def test_failures_back_off_then_become_a_dead_letter_after_the_last_attempt(app_ctx, smtp):
    app_ctx.config["OUTBOX_MAX_ATTEMPTS"] = 3
    queue(1)
    smtp.refuse = "550 5.1.1 no such mailbox"
    start = utcnow()
    outcomes = []
    for offset in (0, 59, 61, 61 + 119, 61 + 121, 61 + 121 + 241):
        outcomes.append(notifications.drain_outbox(now=start + timedelta(seconds=offset)))
    assert [max(o, key=lambda k: o[k]) if any(o.values()) else "-" for o in outcomes] == [
        "failed",  # attempt 1; next after 1 min
        "-",  # not due yet
        "failed",  # attempt 2; next after 2 min
        "-",
        "dead",  # attempt 3 of 3
        "-",  # a dead letter is not tried again
    ]
    (message,) = rows()
    assert (message.status, message.attempts) == ("dead", 3)
    assert "550" in (message.last_error or "") and message.lease_until is None
    summary = notifications.outbox_summary()
    assert summary["counts"]["dead"] == 1 and summary["pending"] == 0
    assert [m.id for m in notifications.dead_letters()] == [message.id]


def test_a_worker_that_cannot_reach_the_server_keeps_the_message(app_ctx):
    app_ctx.config["SMTP_URL"] = f"smtp://127.0.0.1:{free_port()}"
    queue(2)
    assert notifications.drain_outbox() == {"sent": 0, "failed": 2, "dead": 0}
    assert [(m.status, m.attempts, m.lease_until) for m in rows()] == [("pending", 1, None)] * 2


# --- the admin page ------------------------------------------------------------------


def make_dead(app: Any) -> tuple[int, str]:
    with app.app_context():
        (message_id,) = queue(1)
        message = db.session.scalar(
            select(OutboxMessage).where(OutboxMessage.message_id == message_id)
        )
        message.status = "dead"
        message.attempts = 10
        message.last_error = "SMTPDataError: (550, b'5.1.1 no such mailbox')"
        message.last_attempt_at = utcnow()
        db.session.commit()
        return message.id, message_id


def test_admins_see_dead_letters_and_retry_one(app, api_net, signed_in, smtp):
    pk, message_id = make_dead(app)
    admin = signed_in("admin")
    page = admin.get("/admin/outbox")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "person0@example.org" in html and "no such mailbox" in html
    assert message_id.strip("<>") in html and 'data-state="dead">1<' in html
    response = admin.post(f"/admin/outbox/{pk}/retry", data={"csrf_token": csrf_from(html)})
    assert response.status_code == 302
    with app.app_context():
        (message,) = rows()
        assert (message.status, message.attempts) == ("pending", 0)
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "retry"))
        assert event is not None and event.object_id == str(pk)
        assert notifications.drain_outbox() == {"sent": 1, "failed": 0, "dead": 0}
    assert smtp.accepted == [message_id]
    # Retrying what is not a dead letter is refused.
    again = admin.post(f"/admin/outbox/{pk}/retry", data={"csrf_token": csrf_from(html)})
    assert again.status_code == 409


@pytest.mark.parametrize("name", ["coordinator", "staff_a", "admin_a", "lead"])
def test_only_admins_reach_the_outbox_page(app, api_net, signed_in, name):
    pk, _ = make_dead(app)
    client = signed_in(name)
    assert client.get("/admin/outbox").status_code == 403
    token = csrf_from(client.get("/account").get_data(as_text=True))
    assert client.post(f"/admin/outbox/{pk}/retry", data={"csrf_token": token}).status_code == 403
    with app.app_context():
        assert (
            db.session.scalar(
                select(func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.status == "dead")
            )
            == 1
        )
    anonymous = app.test_client().get("/admin/outbox")
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
