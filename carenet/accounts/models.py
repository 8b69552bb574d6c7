"""Users, their memberships in organizations (with a role), sign-in sessions,
API tokens and failed sign-in attempts (for throttling).

``organization`` itself lives in the directory: a CBO's staff and its listings
are one organization.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from carenet.accounts.policy import ROLES
from carenet.db.types import ID, UTCDateTime, as_utc, new_id, one_of, utcnow
from carenet.directory.models import Organization
from carenet.extensions import Model


class User(Model):
    """A person who signs in. ``email`` is stored lower-case."""

    __tablename__ = "user_account"

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    email: Mapped[str] = mapped_column(String(255), unique=True)
    display_name: Mapped[str | None] = mapped_column(String(255))
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default="1")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    memberships: Mapped[list[Membership]] = relationship(
        back_populates="user", cascade="all, delete-orphan", lazy="selectin"
    )

    # Flask-Login's protocol
    is_anonymous = False

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return bool(self.active)

    def get_id(self) -> str:
        return self.id

    @property
    def roles(self) -> frozenset[str]:
        return frozenset(m.role for m in self.memberships)

    def organization_ids(self, *roles: str) -> set[str]:
        """Organizations the user belongs to, through any of ``roles`` when given."""
        return {m.organization_id for m in self.memberships if not roles or m.role in roles}

    @property
    def label(self) -> str:
        return self.display_name or self.email


class Membership(Model):
    __tablename__ = "membership"
    __table_args__ = (
        CheckConstraint(one_of("role", ROLES), name="ck_membership_role"),
        Index("ix_membership_unique", "user_id", "organization_id", "role", unique=True),
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ID, ForeignKey("user_account.id", ondelete="CASCADE"))
    organization_id: Mapped[str] = mapped_column(
        ID, ForeignKey("organization.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    user: Mapped[User] = relationship(back_populates="memberships")
    organization: Mapped[Organization] = relationship(lazy="joined")


class UserSession(Model):
    """A signed-in browser session. The cookie holds a random key; we keep its hash.

    Sign-in makes a new row (the session id rotates), sign-out ends it, so a
    copied cookie stops working; ``last_seen_at`` enforces the idle timeout and
    ``created_at`` the absolute lifetime (``SESSION_MAX_HOURS``).
    """

    __tablename__ = "user_session"

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[str] = mapped_column(
        ID, ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    remote_addr: Mapped[str | None] = mapped_column(String(64))

    user: Mapped[User] = relationship()


class ApiToken(Model):
    """A bearer token for the API. Only its SHA-256 is stored; the token is shown once.

    It works until ``expires_at`` (chosen at creation, at most ``TOKEN_MAX_DAYS``) unless
    revoked first; revocation is final (a password change or deactivation revokes all of
    a user's tokens, and reactivation does not bring them back).
    """

    __tablename__ = "api_token"

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(
        ID, ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(128))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship()

    @property
    def expired(self) -> bool:
        return as_utc(self.expires_at) <= utcnow()

    @property
    def active(self) -> bool:
        """Usable: neither revoked (final) nor past its expiry."""
        return self.revoked_at is None and not self.expired

    @property
    def state(self) -> str:
        if self.revoked_at is not None:
            return "revoked"
        return "expired" if self.expired else "active"


class LoginFailure(Model):
    """One failed sign-in, counted per account and per remote address over a window."""

    __tablename__ = "login_failure"
    __table_args__ = (
        Index("ix_login_failure_account", "account", "created_at"),
        Index("ix_login_failure_address", "remote_addr", "created_at"),
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    account: Mapped[str] = mapped_column(String(255))
    remote_addr: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
