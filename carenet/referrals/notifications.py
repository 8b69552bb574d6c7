"""E-mail notifications through an outbox table, sent by ``carenet worker``.

A message is written in the same transaction as the change it reports, so a
change is never announced without having happened, nor lost when SMTP is
down. E-mails carry no health information: they name the service and the organization
running it (never the client, the need or a note) and link straight to the referral
(``CARENET_BASE_URL``/referrals/<id>).

Delivery (docs/operations.md "The worker"): a worker claims a batch of due
messages under a lease (``outbox_claim``), sends each with the ``Message-ID``
fixed when it was queued, and marks it sent; a failure is retried after a
growing wait and becomes a dead letter after ``OUTBOX_MAX_ATTEMPTS``; admins see
and retry dead letters (``outbox_summary``, ``dead_letters``, ``retry_dead_letter``).
At least once: a message is only resent when its worker stopped between the SMTP
server accepting it and the row being marked sent — with the same Message-ID.
"""

from __future__ import annotations

import contextlib
import os
import smtplib
import socket
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import ColumnElement, case, func, select, update

from carenet.accounts import policy
from carenet.accounts.actor import Actor
from carenet.accounts.models import Membership, User
from carenet.audit import service as audit
from carenet.db.retry import run_in_transaction
from carenet.db.types import utcnow
from carenet.errors import Conflict, NotFound
from carenet.extensions import db
from carenet.referrals.models import OutboxMessage, Referral
from carenet.referrals.outbox_claim import claim_due

MAX_BACKOFF = timedelta(hours=1)
# A send talks to the server in at most this many steps before it is accepted (connect,
# greeting, EHLO, MAIL, RCPT, DATA, the message): each may take one socket timeout.
SMTP_STEPS = 7

# Other channels fed by the same outbox (registered by their modules at start-up, e.g.
# ``carenet.fhir.subscriptions``): a status-change listener enqueues its own messages in
# the move's transaction; a deliverer sends a claimed message of its ``kind`` (raising on
# failure, so the outbox retries it) instead of e-mailing it.
STATUS_LISTENERS: dict[str, Callable[[Referral, str], object]] = {}
DELIVERERS: dict[str, Callable[[Claimed, float], None]] = {}


def backoff(attempts: int) -> timedelta:
    """Wait before retry number ``attempts``: 1, 2, 4 ... minutes, at most an hour."""
    return min(timedelta(minutes=2 ** max(attempts - 1, 0)), MAX_BACKOFF)


def _link(referral: Referral) -> str:
    base = str(current_app.config.get("BASE_URL", "")).rstrip("/")
    return f"{base}/referrals/{referral.id}"


def new_message_id() -> str:
    """A ``Message-ID`` for a message being queued: unique, kept for every attempt."""
    sender = str(current_app.config.get("MAIL_FROM") or "")
    domain = sender.rpartition("@")[2].strip(" >") or "carenet"
    return f"<outbox.{uuid.uuid4().hex}@{domain}>"


def _enqueue(kind: str, recipients: list[str], subject: str, text: str, referral: Referral) -> None:
    for address in sorted(set(recipients)):
        if address.endswith(".invalid"):  # a service account with no mailbox (FHIR clients)
            continue
        db.session.add(
            OutboxMessage(
                message_id=new_message_id(),
                kind=kind,
                recipient=address,
                subject=subject,
                body=f"{text}\n\n{_link(referral)}\n\n— carenet",
                referral_id=referral.id,
                status="pending",
                attempts=0,
                next_attempt_at=utcnow(),
            )
        )


def staff_emails(organization_id: str) -> list[str]:
    """Addresses of the active CBO staff (and CBO admins) of an organization."""
    stmt = (
        select(User.email)
        .join(Membership, Membership.user_id == User.id)
        .where(
            Membership.organization_id == organization_id,
            Membership.role.in_(("cbo_staff", "cbo_admin")),
            User.active.is_(True),
        )
    )
    return list(db.session.scalars(stmt).unique())


def coordinator_email(referral: Referral) -> list[str]:
    if referral.coordinator_id is None:
        return []
    user = db.session.get(User, referral.coordinator_id)
    return [user.email] if user is not None and user.active else []


# The words people read for a referral's status — in the pages and the e-mails alike. The
# stored and API status codes stay FHIR's (``rejected``); only the words change.
STATUS_WORDS = {
    "requested": "requested",
    "accepted": "accepted",
    "in-progress": "in progress",
    "on-hold": "on hold",
    "completed": "completed",
    "rejected": "declined",
    "failed": "not delivered",
    "cancelled": "cancelled",
}


def status_words(status: str | None) -> str:
    """``rejected`` → ``declined``, ``in-progress`` → ``in progress`` (docs/workflow.md)."""
    return STATUS_WORDS.get(status or "", (status or "").replace("-", " "))


def _names(referral: Referral) -> tuple[str, str]:
    """The service and the organization running it — never anything about the client."""
    organization = referral.recipient_organization
    return referral.service_name, (organization.name if organization is not None else "")


def enqueue_new_referral(referral: Referral) -> None:
    """Tell the receiving organization's staff a referral is waiting."""
    service, organization = _names(referral)
    sender = referral.sender_organization
    _enqueue(
        "referral-new",
        staff_emails(referral.recipient_organization_id),
        f"carenet: a new referral to {service}",
        f"{sender.name if sender is not None else 'A care team'} sent a new referral to "
        f"{service} ({organization}). Open it in carenet (sign in first) to accept or "
        "decline it:",
        referral,
    )


def enqueue_status_change(referral: Referral, status: str) -> None:
    """Tell the referring coordinator that a referral moved."""
    service, organization = _names(referral)
    words = status_words(status)
    _enqueue(
        "referral-status",
        coordinator_email(referral),
        f"carenet: your referral to {service} is {words}",
        f"A referral you sent to {service} ({organization}) is now {words}. "
        "Open it in carenet (sign in first) for the details:",
        referral,
    )
    for listener in STATUS_LISTENERS.values():
        listener(referral, status)


def enqueue_overdue(referral: Referral) -> None:
    """Tell both sides, once, that a referral has stalled."""
    service, organization = _names(referral)
    _enqueue(
        "referral-overdue",
        staff_emails(referral.recipient_organization_id) + coordinator_email(referral),
        f"carenet: a referral to {service} is overdue",
        f"A referral to {service} ({organization}) has had no response in time. "
        "Open it in carenet (sign in first) to follow it up:",
        referral,
    )


# --- settings ----------------------------------------------------------------


@dataclass(frozen=True)
class OutboxSettings:
    """How the worker delivers: from ``CARENET_OUTBOX_*`` / ``CARENET_SMTP_*`` (config.py)."""

    smtp_url: str
    sender: str
    lease: timedelta
    max_attempts: int
    batch_size: int
    smtp_timeout: float

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> OutboxSettings:
        return cls(
            smtp_url=str(config["SMTP_URL"]),
            sender=str(config.get("MAIL_FROM") or "carenet@localhost"),
            lease=timedelta(seconds=float(config.get("OUTBOX_LEASE_SECONDS", 120))),
            max_attempts=max(int(config.get("OUTBOX_MAX_ATTEMPTS", 10)), 1),
            batch_size=max(int(config.get("OUTBOX_BATCH_SIZE", 20)), 1),
            smtp_timeout=float(config.get("SMTP_TIMEOUT_SECONDS", 10)),
        )

    @property
    def send_window(self) -> float:
        """Seconds after the claim during which a send may still start: half the lease."""
        return self.lease.total_seconds() / 2

    @property
    def send_timeout(self) -> float:
        """The socket timeout of one SMTP step, so that a send begun in the window ends in
        the lease: the rest of the lease divided among the steps (at most the setting)."""
        return min(self.smtp_timeout, self.send_window / SMTP_STEPS)


def outbox_settings() -> OutboxSettings:
    return OutboxSettings.from_config(current_app.config)


# --- sending -----------------------------------------------------------------


@dataclass(frozen=True)
class Claimed:
    """A claimed message, read in the claiming transaction: no session is open while sending."""

    id: int
    message_id: str
    recipient: str
    subject: str
    body: str
    attempts: int
    kind: str = "email"


def _smtp_target(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "") or not parts.hostname:
        raise ValueError(f"CARENET_SMTP_URL must look like smtp://host:port, not {url!r}")
    return parts.hostname, parts.port or 25


def send_email(message: Claimed, smtp_url: str, sender: str, timeout: float = 10) -> None:
    """Hand one message to the SMTP server; raises on any failure. Returning means accepted."""
    host, port = _smtp_target(smtp_url)
    email = EmailMessage()
    email["From"] = sender
    email["To"] = message.recipient
    email["Subject"] = message.subject
    email["Message-ID"] = message.message_id  # the same on every attempt
    email.set_content(message.body)
    with smtplib.SMTP(host, port, timeout=timeout) as smtp:
        smtp.send_message(email)


def worker_name() -> str:
    """Who claims: host, process and a random tag (one per pass; the tag tells passes apart)."""
    return f"{socket.gethostname()[:80]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def claim_batch(worker: str, now: datetime, settings: OutboxSettings, limit: int) -> list[Claimed]:
    """Claim up to ``limit`` due messages for ``worker`` in one short transaction."""

    def work() -> list[Claimed]:
        ids = claim_due(db.session(), worker, now, now + settings.lease, limit)
        if not ids:
            return []
        rows = db.session.execute(
            select(
                OutboxMessage.id,
                OutboxMessage.message_id,
                OutboxMessage.recipient,
                OutboxMessage.subject,
                OutboxMessage.body,
                OutboxMessage.attempts,
                OutboxMessage.kind,
            )
            .where(OutboxMessage.id.in_(ids))
            .order_by(OutboxMessage.id)
        )
        return [Claimed(*row) for row in rows]

    return run_in_transaction(
        work, conflict="The outbox is busy; the next pass claims again.", session=db.session()
    )


def _held_by(worker: str, message_id: int) -> ColumnElement[bool]:
    return (
        (OutboxMessage.id == message_id)
        & (OutboxMessage.claimed_by == worker)
        & (OutboxMessage.status == "pending")
    )


def _write(statement: Any) -> None:
    run_in_transaction(
        lambda: db.session.execute(statement.execution_options(synchronize_session=False)),
        session=db.session(),
    )


def mark_sent(message: Claimed, worker: str, at: datetime) -> None:
    """The server accepted it: record that, whoever holds the lease now (it was delivered)."""
    _write(
        update(OutboxMessage)
        .where(OutboxMessage.id == message.id, OutboxMessage.status == "pending")
        .values(
            status="sent",
            sent_at=at,
            last_attempt_at=at,
            attempts=message.attempts + 1,
            last_error=None,
            claimed_by=worker,
            lease_until=None,
        )
    )


def mark_failed(
    message: Claimed, worker: str, at: datetime, error: str, settings: OutboxSettings
) -> str:
    """Attempt failed: retry after ``backoff`` or, at the last allowed attempt, a dead letter."""
    attempts = message.attempts + 1
    dead = attempts >= settings.max_attempts
    _write(
        update(OutboxMessage)
        .where(_held_by(worker, message.id))
        .values(
            status="dead" if dead else "pending",
            attempts=attempts,
            last_error=error[:1000],
            last_attempt_at=at,
            next_attempt_at=at + backoff(attempts),
            lease_until=None,
        )
    )
    return "dead" if dead else "failed"


def release(worker: str, ids: list[int]) -> None:
    """Hand back the claimed messages this pass did not try: due again at once."""
    if ids:
        _write(
            update(OutboxMessage)
            .where(
                OutboxMessage.id.in_(ids),
                OutboxMessage.claimed_by == worker,
                OutboxMessage.status == "pending",
            )
            .values(lease_until=None)
        )


def _attempt(message: Claimed, worker: str, at: datetime, settings: OutboxSettings) -> str:
    try:
        deliver = DELIVERERS.get(message.kind)
        if deliver is not None:
            deliver(message, settings.send_timeout)
        else:
            send_email(message, settings.smtp_url, settings.sender, settings.send_timeout)
    except Exception as exc:  # any failure: retry later (or give up after the last attempt)
        return mark_failed(message, worker, at, f"{type(exc).__name__}: {exc}", settings)
    mark_sent(message, worker, utcnow())
    return "sent"


def drain_outbox(
    now: datetime | None = None, limit: int | None = None, worker: str | None = None
) -> dict[str, int]:
    """Claim one batch of due messages and send it; counts of ``sent``, ``failed``, ``dead``.

    Sends start only during the first half of the lease (``send_window``) and each
    SMTP step times out so that a started send ends before the lease does; what is
    left is released. Owns its transactions: call it with no unsaved work.
    """
    settings = outbox_settings()
    worker = worker or worker_name()
    now = now or utcnow()
    started = time.monotonic()
    batch = claim_batch(worker, now, settings, limit or settings.batch_size)
    counts = {"sent": 0, "failed": 0, "dead": 0}
    left = [message.id for message in batch]
    try:
        for message in batch:
            elapsed = time.monotonic() - started
            if elapsed > settings.send_window:
                break
            counts[_attempt(message, worker, now + timedelta(seconds=elapsed), settings)] += 1
            left.remove(message.id)
    except BaseException:
        with contextlib.suppress(Exception):  # the database is gone: the lease runs out instead
            release(worker, left)
        raise
    release(worker, left)
    return counts


# --- the outbox for admins ---------------------------------------------------

OUTBOX_STATES = ("due", "sending", "retrying", "sent", "dead")


def _state(now: datetime) -> Any:
    return case(
        (OutboxMessage.status != "pending", OutboxMessage.status),
        (OutboxMessage.lease_until >= now, "sending"),
        (OutboxMessage.attempts > 0, "retrying"),
        else_="due",
    )


def pending_count() -> int:
    return int(
        db.session.scalar(
            select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status == "pending")
        )
        or 0
    )


def outbox_summary(now: datetime | None = None) -> dict[str, Any]:
    """Messages by state — due (waiting for a worker), sending (under a lease), retrying
    (failed before, next attempt scheduled), sent, dead — and the oldest pending one's age."""
    now = now or utcnow()
    state = _state(now).label("state")
    counts = dict.fromkeys(OUTBOX_STATES, 0)
    for name, count in db.session.execute(select(state, func.count()).group_by(state)):
        counts[str(name)] = int(count)
    oldest = db.session.scalar(
        select(func.min(OutboxMessage.created_at)).where(OutboxMessage.status == "pending")
    )
    return {
        "counts": counts,
        "pending": counts["due"] + counts["sending"] + counts["retrying"],
        "oldest_pending": oldest,
    }


def dead_letters(limit: int = 100) -> list[OutboxMessage]:
    """The messages given up on, the most recent first, with their last error."""
    return list(
        db.session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.status == "dead")
            .order_by(OutboxMessage.last_attempt_at.desc(), OutboxMessage.id.desc())
            .limit(limit)
        )
    )


def retry_dead_letter(actor: Actor, message_pk: int) -> OutboxMessage:
    """Put a dead letter back in the queue (attempts from zero, due now); admins only."""
    policy.require("retry", actor, None, "outbox_message")

    def work() -> OutboxMessage:
        message = db.session.get(OutboxMessage, message_pk)
        if message is None:
            raise NotFound("No such message.")
        if message.status != "dead":
            raise Conflict(f"This message is {message.status}, not a dead letter.")
        message.status = "pending"
        message.attempts = 0
        message.next_attempt_at = utcnow()
        message.lease_until = None
        audit.record(
            actor,
            "retry",
            "outbox_message",
            str(message.id),
            {"message_id": message.message_id, "last_error": message.last_error},
        )
        return message

    return run_in_transaction(work, session=db.session())
