"""Sign-in throttling: progressive delays per account and address, a softer limit per
account, a higher one per address (docs/security.md "Throttling" has the rules).

Every failed password check is a ``login_failure`` row (account tried, remote
address, time), counted over a sliding window (``LOGIN_FAILURE_WINDOW_MINUTES``,
15). Three limits, each only ever a wait, never a lock:

- **account at one address** (``LOGIN_MAX_FAILURES``, 5): past it, each further
  attempt from that address for that account waits ``LOGIN_FIRST_DELAY_SECONDS``
  (60) after the latest failure, doubling with each further failure, at most the
  window: 1, 2, 4, 8, 15, 15 … minutes;
- **account from anywhere** (``LOGIN_MAX_FAILURES_PER_ACCOUNT``, 20): past it,
  ``LOGIN_ACCOUNT_DELAY_SECONDS`` (60) after the account's latest failure — a
  short pause, so failures from other addresses slow the real user down for a
  minute at most;
- **address across accounts** (``LOGIN_MAX_FAILURES_PER_ADDRESS``, 50): past it,
  that address waits until its oldest counted failure leaves the window.

A successful sign-in clears the account's counts (both account limits count
only failures after ``cleared_at``, its last sign-in), not the address's.
Attempts refused while throttled are not counted, so hammering does not extend a
wait. The sign-in service (``accounts.service._begin_attempt``) decides and counts
in one writing transaction, under a lock per account and per address
(``serialize``, ``carenet.db.locks``): concurrent guesses are
admitted one at a time, each counted as a failure *before* its password is
checked, so no more than the limits are ever evaluated.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import delete, func, select

from carenet.accounts.models import LoginFailure
from carenet.db import locks
from carenet.db.types import as_utc, utcnow
from carenet.extensions import db

DEFAULTS = {
    "LOGIN_MAX_FAILURES": 5,
    "LOGIN_MAX_FAILURES_PER_ACCOUNT": 20,
    "LOGIN_MAX_FAILURES_PER_ADDRESS": 50,
    "LOGIN_FAILURE_WINDOW_MINUTES": 15,
    "LOGIN_FIRST_DELAY_SECONDS": 60,
    "LOGIN_ACCOUNT_DELAY_SECONDS": 60,
}


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


@dataclass(frozen=True)
class Rules:
    per_pair: int  # failures of one account from one address before the delays
    per_account: int  # failures of one account from anywhere before the short delay
    per_address: int  # failures from one address, any accounts, before it waits
    window: timedelta
    first_delay: timedelta
    account_delay: timedelta

    def pair_delay(self, failures: int) -> timedelta | None:
        """The wait after the latest of ``failures`` (one account, one address)."""
        if failures < self.per_pair:
            return None
        doublings = min(failures - self.per_pair, 30)
        return min(self.window, self.first_delay * 2**doublings)


def rules() -> Rules:
    def setting(name: str) -> int:
        return int(current_app.config.get(name) or DEFAULTS[name])  # 0 / empty: the default

    return Rules(
        per_pair=setting("LOGIN_MAX_FAILURES"),
        per_account=setting("LOGIN_MAX_FAILURES_PER_ACCOUNT"),
        per_address=setting("LOGIN_MAX_FAILURES_PER_ADDRESS"),
        window=timedelta(minutes=setting("LOGIN_FAILURE_WINDOW_MINUTES")),
        first_delay=timedelta(seconds=setting("LOGIN_FIRST_DELAY_SECONDS")),
        account_delay=timedelta(seconds=setting("LOGIN_ACCOUNT_DELAY_SECONDS")),
    )


def serialize(account: str, remote_addr: str) -> None:
    """Make concurrent attempts on this account or from this address wait for each other
    until the current (writing) transaction ends."""
    locks.hold(db.session, f"sign-in:account:{account}", f"sign-in:address:{remote_addr}")


def check(account: str, remote_addr: str, cleared_at: datetime | None = None) -> Throttle | None:
    """The wait in force for this account at this address, or None when it may try now."""
    limits = rules()
    now = utcnow()
    since = now - limits.window
    account_since = max(since, as_utc(cleared_at)) if cleared_at else since
    waits = []
    count, latest = _count_and_latest(account_since, account, remote_addr)
    delay = limits.pair_delay(count)
    if delay is not None and latest is not None:
        waits.append(latest + delay)
    count, latest = _count_and_latest(account_since, account)
    if count >= limits.per_account and latest is not None:
        waits.append(latest + limits.account_delay)
    times = db.session.scalars(
        select(LoginFailure.created_at)
        .where(LoginFailure.remote_addr == remote_addr, LoginFailure.created_at > since)
        .order_by(LoginFailure.created_at.desc())
        .limit(limits.per_address)
    ).all()
    if len(times) >= limits.per_address:
        waits.append(as_utc(times[-1]) + limits.window)
    retry_at = max(waits, default=now)
    if retry_at <= now:
        return None
    return Throttle(max(1, math.ceil((retry_at - now).total_seconds())))


def _count_and_latest(
    since: datetime, account: str, remote_addr: str | None = None
) -> tuple[int, datetime | None]:
    conditions: list[Any] = [LoginFailure.account == account, LoginFailure.created_at > since]
    if remote_addr is not None:
        conditions.append(LoginFailure.remote_addr == remote_addr)
    count, latest = db.session.execute(
        select(func.count(), func.max(LoginFailure.created_at)).where(*conditions)
    ).one()
    return int(count or 0), as_utc(latest) if latest is not None else None


def failures_counted(account: str, cleared_at: datetime | None) -> bool:
    """Whether failed sign-ins of ``account`` count against it now (inside the window and
    after ``cleared_at``, its last sign-in): a successful sign-in must then clear them."""
    since = utcnow() - rules().window
    if cleared_at is not None:
        since = max(since, as_utc(cleared_at))
    found = db.session.scalar(
        select(LoginFailure.id)
        .where(LoginFailure.account == account, LoginFailure.created_at > since)
        .limit(1)
    )
    return found is not None


def record_failure(account: str, remote_addr: str) -> str:
    """Count one failed attempt (part of the caller's transaction); returns its id."""
    row = LoginFailure(account=account, remote_addr=remote_addr, created_at=utcnow())
    db.session.add(row)
    db.session.flush()
    return row.id


def forget(failure_id: str) -> None:
    """Take back an attempt counted before its password was checked: it was right."""
    db.session.execute(delete(LoginFailure).where(LoginFailure.id == failure_id))


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
