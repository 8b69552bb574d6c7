"""API tokens: 32 random bytes (URL-safe), shown once, stored as a SHA-256.

A fast hash is right here: the token has 256 bits of entropy, so there is
nothing to brute-force, and lookup by hash must be quick on every request.

Every token expires: its lifetime is chosen at creation, ``TOKEN_DEFAULT_DAYS``
(90) unless asked, never more than ``TOKEN_MAX_DAYS`` (365). Revocation is final:
``revoke_all_tokens`` runs on a password change and on deactivation, and
reactivating a user brings no token back.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from flask import current_app, has_app_context
from sqlalchemy import select

from carenet import audit
from carenet.accounts import policy
from carenet.accounts.actor import Actor
from carenet.accounts.models import ApiToken, User
from carenet.db import bookkeeping
from carenet.db.retry import run_in_transaction
from carenet.db.types import utcnow
from carenet.errors import InvalidInput, NotFound
from carenet.extensions import db

PREFIX_LENGTH = 8
DEFAULT_DAYS = 90
MAX_DAYS = 365


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def token_prefix(token: str) -> str:
    """The first characters, shown in lists so people can tell their tokens apart."""
    return token[:PREFIX_LENGTH]


def lifetime_limits() -> tuple[int, int]:
    """(default, maximum) lifetime of a new token in days, from the settings."""
    config = current_app.config if has_app_context() else {}
    most = max(1, int(config.get("TOKEN_MAX_DAYS") or MAX_DAYS))
    default = max(1, int(config.get("TOKEN_DEFAULT_DAYS") or DEFAULT_DAYS))
    return min(default, most), most


def lifetime_days(requested: int | None) -> int:
    """The lifetime of a new token: ``requested`` days, or the default; refused beyond the
    maximum or below one day."""
    default, most = lifetime_limits()
    if requested is None:
        return default
    if isinstance(requested, bool) or not isinstance(requested, int) or not 1 <= requested <= most:
        raise InvalidInput(
            f"A token lives from 1 to {most} days.",
            {"expires_in_days": [f"Between 1 and {most}."]},
        )
    return requested


def create_api_token(
    owner: User, name: str, actor: Actor | None = None, days: int | None = None
) -> tuple[ApiToken, str]:
    """A new token for ``owner`` living ``days`` (default ``TOKEN_DEFAULT_DAYS``, at most
    ``TOKEN_MAX_DAYS``); returns the row and the token text (shown once, never stored)."""
    policy.require("create", actor or owner, owner, "api_token")
    name = (name or "").strip() or "API token"
    if len(name) > 128:
        raise InvalidInput("A token name has at most 128 characters.", {"name": ["too long"]})
    lifetime = lifetime_days(days)
    text = new_token()

    def work() -> ApiToken:
        now = utcnow()
        row = ApiToken(
            user_id=owner.id,
            name=name,
            token_hash=token_hash(text),
            prefix=token_prefix(text),
            created_at=now,
            expires_at=now + timedelta(days=lifetime),
        )
        db.session.add(row)
        db.session.flush()
        detail = {"name": name, "owner": owner.email, "days": lifetime}
        audit.record(actor or owner, "create", "api_token", row.id, detail)
        return row

    return run_in_transaction(work), text


def revoke_api_token(actor: Actor, token_id: str) -> ApiToken:
    """Revoke a token (its owner or an admin); another person's token is reported as not found."""

    def work() -> ApiToken:
        row = db.session.get(ApiToken, token_id, populate_existing=True)
        if row is None:
            raise NotFound("No such token.")
        policy.require("revoke", actor, row, "api_token")
        if row.revoked_at is None:
            row.revoked_at = utcnow()
            audit.record(actor, "revoke", "api_token", row.id, {"owner_id": row.user_id})
        return row

    return run_in_transaction(work)


def revoke_all_tokens(user: User, actor: Actor | None, reason: str) -> int:
    """Revoke every unrevoked token of ``user`` (a building block: in the caller's
    transaction), one audit row each with ``reason``; returns how many."""
    rows = db.session.scalars(
        select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
    ).all()
    now = utcnow()
    for row in rows:
        row.revoked_at = now
        detail = {"owner_id": user.id, "reason": reason}
        audit.record(actor or user, "revoke", "api_token", row.id, detail)
    return len(rows)


def user_for_token(text: str) -> User | None:
    """The active user owning this live token (not revoked, not expired); stamps
    ``last_used_at`` (bookkeeping: at most once a minute, after the response, never the
    request's error). The token's id is noted for the request's audit rows, refused or not."""
    row = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == token_hash(text)))
    if row is None:
        return None
    audit.note_credential("token", row.id)
    if row.revoked_at is not None or row.expired or not row.user.active:
        return None
    bookkeeping.stamp(
        ApiToken.__table__, row.id, "last_used_at", utcnow(), previous=row.last_used_at
    )
    return row.user


def tokens_of(user: User) -> list[ApiToken]:
    return list(
        db.session.scalars(
            select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.created_at.desc())
        )
    )
