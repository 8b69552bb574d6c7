"""Sign-in throttling: at most N failures per account and per address in a sliding window.

Not a lockout: the window slides, so sign-in works again once the oldest
counted failure is older than the window; attempts refused while throttled are
not counted, so hammering does not extend it. A successful sign-in clears the
account's count (not the address's).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, func, select

from carenet.accounts.models import LoginFailure
from carenet.db.types import as_utc, utcnow
from carenet.extensions import db


@dataclass(frozen=True)
class Throttle:
    retry_after_seconds: int

    @property
    def minutes(self) -> int:
        return max(1, math.ceil(self.retry_after_seconds / 60))

    @property
    def message(self) -> str:
        unit = "minute" if self.minutes == 1 else "minutes"
        return f"Too many failed sign-ins; try again in {self.minutes} {unit}."


def _limits() -> tuple[int, int, timedelta]:
    config = current_app.config
    per_account = int(config.get("LOGIN_MAX_FAILURES", 5))
    per_address = int(config.get("LOGIN_MAX_FAILURES_PER_ADDRESS") or per_account)
    window = timedelta(minutes=int(config.get("LOGIN_FAILURE_WINDOW_MINUTES", 15)))
    return per_account, per_address, window


def check(account: str, remote_addr: str, cleared_at: datetime | None = None) -> Throttle | None:
    """The throttle in force for this account or address, or None when sign-in may proceed."""
    per_account, per_address, window = _limits()
    now = utcnow()
    since = now - window
    account_since = max(since, as_utc(cleared_at)) if cleared_at else since
    oldest = []
    for column, value, start, limit in (
        (LoginFailure.account, account, account_since, per_account),
        (LoginFailure.remote_addr, remote_addr, since, per_address),
    ):
        times = db.session.scalars(
            select(LoginFailure.created_at)
            .where(column == value, LoginFailure.created_at > start)
            .order_by(LoginFailure.created_at.desc())
            .limit(limit)
        ).all()
        if len(times) >= limit:
            oldest.append(as_utc(times[-1]))
    if not oldest:
        return None
    retry_at = max(oldest) + window
    return Throttle(max(1, int((retry_at - now).total_seconds())))


def failures_counted(account: str, cleared_at: datetime | None) -> bool:
    """Whether failed sign-ins of ``account`` count against it now (inside the window and
    after ``cleared_at``, its last sign-in): a successful sign-in must then clear them."""
    _, _, window = _limits()
    since = utcnow() - window
    if cleared_at is not None:
        since = max(since, as_utc(cleared_at))
    found = db.session.scalar(
        select(LoginFailure.id)
        .where(LoginFailure.account == account, LoginFailure.created_at > since)
        .limit(1)
    )
    return found is not None


def record_failure(account: str, remote_addr: str) -> None:
    """Count one failed sign-in (part of the caller's transaction)."""
    db.session.add(LoginFailure(account=account, remote_addr=remote_addr, created_at=utcnow()))


def prune(older_than: timedelta = timedelta(days=1)) -> int:
    """Delete failures long past any window; returns how many."""
    result = db.session.execute(
        delete(LoginFailure).where(LoginFailure.created_at < utcnow() - older_than)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def failure_count(account: str) -> int:
    return (
        db.session.scalar(
            select(func.count()).select_from(LoginFailure).where(LoginFailure.account == account)
        )
        or 0
    )
