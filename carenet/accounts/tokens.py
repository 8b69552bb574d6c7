"""API tokens: 32 random bytes (URL-safe), shown once, stored as a SHA-256.

A fast hash is right here: the token has 256 bits of entropy, so there is
nothing to brute-force, and lookup by hash must be quick on every request.
"""

from __future__ import annotations

import hashlib
import secrets

PREFIX_LENGTH = 8


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def token_prefix(token: str) -> str:
    """The first characters, shown in lists so people can tell their tokens apart."""
    return token[:PREFIX_LENGTH]
