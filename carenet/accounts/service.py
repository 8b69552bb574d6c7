"""Use cases of accounts: making users, signing in and out, sessions and API tokens.

A function that finishes a use case commits it (signing in and out, changing a
password, (de)activating a user; API tokens in ``tokens.py``). Building blocks
(``create_user``, ``set_password``, ``end_other_sessions``) add to the current
transaction, so a command or the seed can make many users in one.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from carenet import audit
from carenet.accounts import passwords, policy, throttle
from carenet.accounts.actor import Actor
from carenet.accounts.models import Membership, User, UserSession
from carenet.accounts.tokens import (  # noqa: F401  (API tokens live in tokens.py; names kept here)
    create_api_token,
    revoke_all_tokens,
    revoke_api_token,
    tokens_of,
    user_for_token,
)
from carenet.db import bookkeeping
from carenet.db.paging import Page, PageRequest, paginate
from carenet.db.retry import run_in_transaction
from carenet.db.types import as_utc, utcnow
from carenet.directory.models import Organization
from carenet.errors import DomainError, InvalidInput, NotFound
from carenet.extensions import db

SESSION_TOUCH_SECONDS = 60  # write last_seen_at at most once a minute per session


class SignInRefused(DomainError):
    status = 401
    title = "Sign-in refused"


class TooManyAttempts(DomainError):
    status = 429
    title = "Too many attempts"

    def __init__(self, detail: str, retry_after_seconds: int) -> None:
        super().__init__(detail)
        self.retry_after_seconds = retry_after_seconds


def normalize_email(email: str) -> str:
    return email.strip().lower()


def find_user(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == normalize_email(email)))


def find_organization(reference: str) -> Organization | None:
    """An organization by id or by exact name (case-insensitive)."""
    found = db.session.get(Organization, reference)
    if found:
        return found
    matches = db.session.scalars(
        select(Organization).where(func.lower(Organization.name) == reference.strip().lower())
    ).all()
    if len(matches) > 1:
        raise InvalidInput(
            f"More than one organization is named {reference!r}; use its id.",
            {"org": ["ambiguous"]},
        )
    return matches[0] if matches else None


def create_user(
    email: str,
    password: str,
    role: str,
    organization_ref: str,
    display_name: str | None = None,
    actor: Actor | None = None,
    password_hash: str | None = None,
) -> User:
    """Make a user with one membership; refuses bad e-mails, roles, organizations, passwords."""
    email = normalize_email(email)
    if "@" not in email or len(email) > 255 or email.startswith("@") or email.endswith("@"):
        raise InvalidInput(f"Not an e-mail address: {email!r}.", {"email": ["invalid"]})
    if find_user(email):
        raise InvalidInput(f"A user with e-mail {email} exists already.", {"email": ["taken"]})
    organization = _organization_for_role(role, organization_ref)
    if password_hash is None:
        problems = passwords.password_problems(password, email)
        if problems:
            raise InvalidInput("Password refused: " + " ".join(problems), {"password": problems})
        password_hash = passwords.hash_password(password)
    user = User(email=email, display_name=display_name, password_hash=password_hash)
    user.memberships.append(Membership(organization_id=organization.id, role=role))
    db.session.add(user)
    db.session.flush()
    audit.record(
        actor,
        "create",
        "user",
        user.id,
        {"email": email, "role": role},
        organization_id=organization.id,
    )
    return user


def _organization_for_role(role: str, organization_ref: str) -> Organization:
    if role not in policy.ROLES:
        raise InvalidInput(
            f"Unknown role {role!r}; choose one of {', '.join(policy.ROLES)}.",
            {"role": ["invalid"]},
        )
    organization = find_organization(organization_ref)
    if organization is None:
        raise InvalidInput(
            f"No organization with id or name {organization_ref!r}.", {"org": ["not found"]}
        )
    kinds = policy.ROLE_ORGANIZATION_KINDS[role]
    if organization.kind not in kinds:
        raise InvalidInput(
            f"Role {role} belongs to a {' or '.join(kinds)} organization; "
            f"{organization.name!r} is a {organization.kind} organization.",
            {"org": ["wrong kind for role"]},
        )
    return organization


def set_password(user: User, password: str, actor: Actor | None = None) -> None:
    """Replace a user's password, checked against the password rules."""
    problems = passwords.password_problems(password, user.email)
    if problems:
        raise InvalidInput("Password refused: " + " ".join(problems), {"password": problems})
    user.password_hash = passwords.hash_password(password)
    audit.record(actor or user, "change_password", "user", user.id)


# --- signing in and out -----------------------------------------------------------


def authenticate(email: str, password: str, remote_addr: str) -> User:
    """The user for these credentials, or ``TooManyAttempts`` / ``SignInRefused``.

    Every answer costs one argon2 verification (``_password_matches``); the attempt is
    counted before it and the count committed even though the caller's request fails.
    """
    account = normalize_email(email)
    attempt = _begin_attempt(account, remote_addr)
    if not _password_matches(attempt, password):
        run_in_transaction(lambda: _count_failure("sign_in_failed", None, account, attempt))
        raise SignInRefused("E-mail or password is incorrect.")
    assert attempt.user_id is not None and attempt.password_hash is not None
    rehashed = None
    if passwords.needs_rehash(attempt.password_hash):
        rehashed = passwords.hash_password(password)  # before the transaction: no lock held

    def succeeded() -> User:
        throttle.forget(attempt.failure_id)  # the right password is not a failure
        user = db.session.get(User, attempt.user_id)
        assert user is not None
        if rehashed is not None:
            user.password_hash = rehashed
        return user

    return run_in_transaction(succeeded)


def reauthenticate(user: User, password: str, remote_addr: str) -> None:
    """Check a signed-in user's current password before a sensitive change (a new
    password): throttled and counted like a sign-in of that account; a wrong one is
    audited (``reauthenticate_failed``). ``TooManyAttempts`` / ``SignInRefused``."""
    account = normalize_email(user.email)
    attempt = _begin_attempt(account, remote_addr)
    if not _password_matches(attempt, password):
        run_in_transaction(lambda: _count_failure("reauthenticate_failed", user, account, attempt))
        raise SignInRefused("The current password is not right.")
    run_in_transaction(lambda: throttle.forget(attempt.failure_id))


@dataclass(frozen=True)
class _Attempt:
    """A password check let through by the throttle and already counted as a failure."""

    failure_id: str
    user_id: str | None
    password_hash: str | None
    active: bool


def _begin_attempt(account: str, remote_addr: str) -> _Attempt:
    """Decide and count in one writing transaction, one attempt at a time per account and
    address (``throttle.serialize``): concurrent guesses cannot all pass the check."""

    def work() -> _Attempt:
        throttle.serialize(account, remote_addr)
        user = find_user(account)
        limit = throttle.check(account, remote_addr, user.last_login_at if user else None)
        if limit:
            raise TooManyAttempts(limit.message, limit.retry_after_seconds)
        failure_id = throttle.record_failure(account, remote_addr)
        if user is None:
            return _Attempt(failure_id, None, None, False)
        return _Attempt(failure_id, user.id, user.password_hash, bool(user.active))

    # Committed before the password is checked (a tenth of a second or more): no lock held.
    return run_in_transaction(work)


def _password_matches(attempt: _Attempt, password: str) -> bool:
    """Exactly one argon2 verification whatever the account: unknown ones against a dummy
    hash, deactivated ones against their own — so timing tells neither apart."""
    stored = attempt.password_hash or passwords.dummy_hash()
    matched = passwords.verify_password(stored, password)
    return matched and attempt.password_hash is not None and attempt.active


def _count_failure(action: str, actor: Actor | None, account: str, attempt: _Attempt) -> None:
    throttle.prune()  # failures older than a day count for nothing: keep the table small
    audit.record(actor, action, "user", attempt.user_id, {"email": account})


def start_session(user: User, remote_addr: str | None) -> str:
    """A new session for ``user``; returns the random key for the cookie (its hash is stored).

    ``last_login_at`` is bookkeeping (``carenet.db.bookkeeping``), except when it clears
    failed sign-ins still counted against the account (``throttle``): then it is part of
    the sign-in's transaction.
    """
    key = secrets.token_urlsafe(32)

    def work() -> tuple[str, datetime, datetime | None]:
        now = utcnow()
        row = UserSession(
            key_hash=_hash(key),
            user_id=user.id,
            created_at=now,
            last_seen_at=now,
            remote_addr=remote_addr,
        )
        db.session.add(row)
        db.session.flush()
        previous = user.last_login_at
        if throttle.failures_counted(user.email, previous):
            user.last_login_at = previous = now
        audit.record(user, "sign_in", "user", user.id, session_id=row.id)
        return user.id, now, previous

    user_id, now, previous = run_in_transaction(work)  # with a password re-hashed by authenticate
    bookkeeping.stamp(User.__table__, user_id, "last_login_at", now, previous=previous)
    return key


def user_for_session(user_id: str, key: str | None) -> User | None:
    """The user of a live session (right user, not ended, not idle too long, younger than
    ``SESSION_MAX_HOURS``), else None. Its id is noted for the request's audit rows."""
    if not key:
        return None
    row = db.session.scalar(select(UserSession).where(UserSession.key_hash == _hash(key)))
    if row is None or row.user_id != user_id or row.ended_at is not None:
        return None
    audit.note_credential("session", row.id)
    now = utcnow()
    idle = timedelta(minutes=int(current_app.config.get("IDLE_TIMEOUT_MINUTES", 30)))
    most = timedelta(hours=float(current_app.config.get("SESSION_MAX_HOURS") or 12))
    last_seen = as_utc(row.last_seen_at)
    too_old = now - as_utc(row.created_at) > most  # the absolute lifetime, however active
    if too_old or now - last_seen > idle:  # refused now, whether or not ``ended_at`` is written
        bookkeeping.stamp(UserSession.__table__, row.id, "ended_at", now, every=None)
        return None
    if not row.user.active:
        return None
    touch = timedelta(seconds=SESSION_TOUCH_SECONDS)
    bookkeeping.stamp(
        UserSession.__table__, row.id, "last_seen_at", now, previous=last_seen, every=touch
    )
    return row.user


def end_session(user: Actor, key: str | None) -> None:
    """End the session whose key the cookie held; a copy of the old cookie no longer works."""

    def work() -> None:
        if key:
            row = db.session.scalar(select(UserSession).where(UserSession.key_hash == _hash(key)))
            if row is not None and row.ended_at is None:
                row.ended_at = utcnow()
        if getattr(user, "is_authenticated", False):
            audit.record(user, "sign_out", "user", user.id)

    run_in_transaction(work)


def change_password(user: User, new_password: str, keep_key: str | None) -> int:
    """Set a new password (checked by the rules), end the user's other sessions and revoke
    all their API tokens.

    Returns how many sessions were ended; nothing is written when the password is refused.
    """

    def work() -> int:
        set_password(user, new_password)
        revoke_all_tokens(user, user, "password_change")
        return end_other_sessions(user, keep_key)

    return run_in_transaction(work)


def end_other_sessions(user: User, keep_key: str | None) -> int:
    """End every live session of ``user`` except the one whose key is ``keep_key``."""
    keep = _hash(keep_key) if keep_key else None
    rows = db.session.scalars(
        select(UserSession).where(UserSession.user_id == user.id, UserSession.ended_at.is_(None))
    ).all()
    now = utcnow()
    ended = 0
    for row in rows:
        if row.key_hash != keep:
            row.ended_at = now
            ended += 1
    return ended


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def set_active(actor: Actor, user_id: str, active: bool) -> User:
    """Deactivate (ending every session, revoking every token) or reactivate a user (no
    token comes back): admins only."""

    def work() -> User:
        user = db.session.get(User, user_id, populate_existing=True)
        if user is None:
            raise NotFound("No such user.")
        policy.require("activate" if active else "deactivate", actor, user, "user")
        if user.active != active:
            user.active = active
            if not active:  # tokens revoked for good: reactivation brings none back
                end_other_sessions(user, None)
                revoke_all_tokens(user, actor, "deactivated")
            action = "activate" if active else "deactivate"
            audit.record(actor, action, "user", user.id, {"email": user.email})
        return user

    return run_in_transaction(work)


def list_users() -> list[User]:
    return list(db.session.scalars(select(User).order_by(User.email)))


def users_page(wanted: PageRequest) -> Page[User]:
    """A page of users by e-mail, their memberships loaded with them."""
    stmt = select(User).options(selectinload(User.memberships)).order_by(User.email, User.id)
    return paginate(stmt, wanted)
