"""``Actor``: the caller as the access policy and the service functions see it.

Either a signed-in ``carenet.accounts.models.User`` or the anonymous caller
(``carenet.security.Anonymous``); views pass ``current_user``, the CLI and
the workers pass a ``User``. This is the whole of what the policy and the
services read from a caller; anything else about a user needs the ``User``
model itself.

A structural type (no base class), so this module imports nothing of carenet.
"""

from __future__ import annotations

from typing import Protocol


class Actor(Protocol):
    @property
    def is_authenticated(self) -> bool:
        """True for a signed-in user, False for the anonymous caller."""
        ...

    @property
    def id(self) -> str | None:
        """The user's id; None when anonymous."""
        ...

    @property
    def email(self) -> str | None:
        """The user's e-mail (written to audit rows); None when anonymous."""
        ...

    @property
    def label(self) -> str:
        """How the user is named to others (display name, else e-mail)."""
        ...

    @property
    def roles(self) -> frozenset[str]:
        """The roles held in any organization; empty when anonymous."""
        ...

    def organization_ids(self, *roles: str) -> set[str]:
        """Organizations the user belongs to, through any of ``roles`` when given."""
        ...
