"""API tokens: 32 random bytes (URL-safe), shown once, stored as a SHA-256.

A fast hash is right here: the token has 256 bits of entropy, so there is
nothing to brute-force, and lookup by hash must be quick on every request.
"""

from __future__ import annotations

import hashlib
import secrets

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


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def token_prefix(token: str) -> str:
    """The first characters, shown in lists so people can tell their tokens apart."""
    return token[:PREFIX_LENGTH]


def create_api_token(owner: User, name: str, actor: Actor | None = None) -> tuple[ApiToken, str]:
    """A new token for ``owner``; returns the row and the token text (shown once, never stored)."""
    policy.require("create", actor or owner, owner, "api_token")
    name = (name or "").strip() or "API token"
    if len(name) > 128:
        raise InvalidInput("A token name has at most 128 characters.", {"name": ["too long"]})
    text = new_token()

    def work() -> ApiToken:
        row = ApiToken(
            user_id=owner.id,
            name=name,
            token_hash=token_hash(text),
            prefix=token_prefix(text),
            created_at=utcnow(),
        )
        db.session.add(row)
        db.session.flush()
        audit.record(
            actor or owner, "create", "api_token", row.id, {"name": name, "owner": owner.email}
        )
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


def user_for_token(text: str) -> User | None:
    """The active user owning this live token; stamps ``last_used_at`` (bookkeeping: at most
    once a minute, after the response, never the request's error)."""
    row = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == token_hash(text)))
    if row is None or row.revoked_at is not None or not row.user.active:
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
