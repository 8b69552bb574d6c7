"""Both kinds of caller have every member of ``Actor`` (no database)."""

from __future__ import annotations

import pytest

from carenet.accounts.actor import Actor
from carenet.accounts.models import Membership, User
from carenet.security import Anonymous

MEMBERS = sorted(name for name in vars(Actor) if not name.startswith("_"))


def test_actor_members_are_the_ones_the_policy_and_services_read():
    assert MEMBERS == ["email", "id", "is_authenticated", "label", "organization_ids", "roles"]


def test_the_anonymous_caller_is_an_actor_with_nothing():
    anonymous = Anonymous()
    for name in MEMBERS:
        assert hasattr(anonymous, name), name
    assert anonymous.is_authenticated is False
    assert (anonymous.id, anonymous.email) == (None, None)
    assert anonymous.roles == frozenset()
    assert anonymous.organization_ids() == set()
    assert anonymous.organization_ids("coordinator") == set()


@pytest.mark.parametrize("display_name, label", [("Ana", "Ana"), (None, "ana@example.org")])
def test_a_user_is_an_actor(display_name, label):
    user = User(id="u1", email="ana@example.org", display_name=display_name)
    user.memberships.append(Membership(organization_id="care", role="coordinator"))
    user.memberships.append(Membership(organization_id="cbo", role="cbo_staff"))
    for name in MEMBERS:
        assert hasattr(user, name), name
    assert user.is_authenticated is True
    assert (user.id, user.email, user.label) == ("u1", "ana@example.org", label)
    assert user.roles == frozenset({"coordinator", "cbo_staff"})
    assert user.organization_ids() == {"care", "cbo"}
    assert user.organization_ids("cbo_staff") == {"cbo"}
