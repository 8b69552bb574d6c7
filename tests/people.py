"""A plain stand-in for the acting user, for unit tests of the policy and the workflow.

It has what ``carenet.accounts.actor.Actor`` reads — roles, organization ids by
role, ``is_authenticated`` — and no database row. Import with
``from people import Person`` (tests/ is on sys.path through tests/conftest.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Person:
    id: str
    memberships: dict[str, set[str]] = field(default_factory=dict)  # role -> organization ids
    is_authenticated: bool = True
    email: str | None = None
    label: str = "person"

    @property
    def roles(self) -> frozenset[str]:
        return frozenset(self.memberships)

    def organization_ids(self, *roles: str) -> set[str]:
        wanted = roles or tuple(self.memberships)
        return set().union(*(self.memberships.get(r, set()) for r in wanted))
