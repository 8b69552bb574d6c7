"""E-mail notifications through an outbox table, sent by ``carenet worker``.

A message is written in the same transaction as the change it reports, so a
change is never announced without having happened, nor lost when SMTP is
down. E-mails carry no health information: a short subject and a link.
"""

from __future__ import annotations

import smtplib
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import select, update

from carenet.accounts.models import Membership, User
from carenet.db.types import utcnow
from carenet.extensions import db
from carenet.referrals.models import OutboxMessage, Referral

MAX_BACKOFF = timedelta(hours=1)
CLAIM_LEASE = timedelta(minutes=5)


def backoff(attempts: int) -> timedelta:
    """Wait before retry number ``attempts``: 1, 2, 4 ... minutes, at most an hour."""
    return min(timedelta(minutes=2 ** max(attempts - 1, 0)), MAX_BACKOFF)


def _link(referral: Referral) -> str:
    base = str(current_app.config.get("BASE_URL", "")).rstrip("/")
    return f"{base}/referrals/{referral.id}"


def _enqueue(kind: str, recipients: list[str], subject: str, text: str, referral: Referral) -> None:
    for address in sorted(set(recipients)):
        db.session.add(
            OutboxMessage(
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


def enqueue_new_referral(referral: Referral) -> None:
    """Tell the receiving organization's staff a referral is waiting."""
    _enqueue(
        "referral-new",
        staff_emails(referral.recipient_organization_id),
        "carenet: a new referral is waiting",
        "A new referral was sent to your organization. Sign in to carenet to see it.",
        referral,
    )


def enqueue_status_change(referral: Referral, status: str) -> None:
    """Tell the referring coordinator that a referral moved."""
    _enqueue(
        "referral-status",
        coordinator_email(referral),
        f"carenet: a referral is now {status}",
        f"A referral you sent is now {status}. Sign in to carenet for details.",
        referral,
    )


def enqueue_overdue(referral: Referral) -> None:
    """Tell both sides, once, that a referral has stalled."""
    _enqueue(
        "referral-overdue",
        staff_emails(referral.recipient_organization_id) + coordinator_email(referral),
        "carenet: a referral is overdue",
        "A referral has had no response in time. Sign in to carenet to follow it up.",
        referral,
    )


# --- sending -----------------------------------------------------------------


def _smtp_target(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "") or not parts.hostname:
        raise ValueError(f"CARENET_SMTP_URL must look like smtp://host:port, not {url!r}")
    return parts.hostname, parts.port or 25


def send_email(message: OutboxMessage, smtp_url: str, sender: str, timeout: float = 10) -> None:
    """Hand one message to the SMTP server; raises on any failure."""
    host, port = _smtp_target(smtp_url)
    email = EmailMessage()
    email["From"] = sender
    email["To"] = message.recipient
    email["Subject"] = message.subject
    email["Message-ID"] = f"<outbox-{message.id}@carenet>"
    email.set_content(message.body)
    with smtplib.SMTP(host, port, timeout=timeout) as smtp:
        smtp.send_message(email)


def _claim(message: OutboxMessage, now: datetime) -> bool:
    """Take a due message so a second worker does not send it too (a short lease)."""
    result = db.session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.id == message.id,
            OutboxMessage.status == "pending",
            OutboxMessage.next_attempt_at == message.next_attempt_at,
        )
        .values(next_attempt_at=now + CLAIM_LEASE)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return getattr(result, "rowcount", 0) == 1


def drain_outbox(now: datetime | None = None, limit: int = 100) -> dict[str, int]:
    """Send the due messages; a failure keeps the message with attempts + 1 and a later try."""
    now = now or utcnow()
    smtp_url = current_app.config["SMTP_URL"]
    sender = current_app.config.get("MAIL_FROM", "carenet@localhost")
    due = list(
        db.session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= now)
            .order_by(OutboxMessage.id)
            .limit(limit)
        )
    )
    counts = {"sent": 0, "failed": 0}
    for message in due:
        if not _claim(message, now):
            continue
        try:
            send_email(message, smtp_url, sender)
        except Exception as exc:  # any failure: keep the message and try later
            message.attempts += 1
            message.last_error = f"{type(exc).__name__}: {exc}"[:1000]
            message.next_attempt_at = now + backoff(message.attempts)
            counts["failed"] += 1
        else:
            message.attempts += 1
            message.status = "sent"
            message.sent_at = utcnow()
            message.last_error = None
            counts["sent"] += 1
        db.session.commit()
    return counts


def pending_count() -> int:
    from sqlalchemy import func

    return int(
        db.session.scalar(
            select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status == "pending")
        )
        or 0
    )


def outbox_summary() -> dict[str, Any]:
    return {"pending": pending_count()}
