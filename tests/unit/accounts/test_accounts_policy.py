"""The policy table, decided for plain objects (no database)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from people import Person

from carenet.accounts import policy
from carenet.accounts.policy import Decision
from carenet.errors import NotAllowed, NotFound


@dataclass
class Thing:
    __tablename__ = "service"
    organization_id: str


ANONYMOUS = Person("anon", is_authenticated=False)
COORDINATOR = Person("c", {"coordinator": {"care"}})
STAFF = Person("s", {"cbo_staff": {"cbo-a"}})
CBO_ADMIN = Person("ca", {"cbo_admin": {"cbo-a"}})
LEAD = Person("l", {"program_lead": {"net"}})
ADMIN = Person("a", {"admin": {"net"}})


def test_confidential_locations_only_for_people_who_refer_or_serve():
    allowed = {
        p.id
        for p in (ANONYMOUS, COORDINATOR, STAFF, CBO_ADMIN, LEAD, ADMIN)
        if policy.can_view_confidential_locations(p)
    }
    assert allowed == {"c", "s", "ca", "a"}
    assert not policy.can_view_confidential_locations(None)


def test_cbo_admin_edits_only_their_own_services():
    assert policy.can_edit_service(CBO_ADMIN, Thing("cbo-a"))
    assert not policy.can_edit_service(CBO_ADMIN, Thing("cbo-b"))
    assert not policy.can_edit_service(STAFF, Thing("cbo-a"))
    assert policy.can_edit_service(ADMIN, Thing("cbo-b"))
    with pytest.raises(NotAllowed):
        policy.require("edit", CBO_ADMIN, Thing("cbo-b"))


def test_curation_scope():
    assert policy.curatable_organization_ids(ADMIN) is None
    assert policy.curatable_organization_ids(CBO_ADMIN) == {"cbo-a"}
    assert policy.curatable_organization_ids(COORDINATOR) == frozenset()
    assert policy.curatable_organization_ids(ANONYMOUS) == frozenset()


def test_another_persons_token_is_hidden():
    @dataclass
    class Token:
        user_id: str

    assert policy.decide("revoke", STAFF, Token("s"), "api_token") is Decision.ALLOW
    assert policy.decide("revoke", STAFF, Token("c"), "api_token") is Decision.HIDE
    with pytest.raises(NotFound):
        policy.require("revoke", STAFF, Token("c"), "api_token")


def test_program_leads_see_aggregates_and_nothing_personal():
    assert policy.allows("view", LEAD, None, "aggregate_report")
    assert not policy.allows("view", COORDINATOR, None, "aggregate_report")
    for action, kind in (("list", "audit_event"), ("list", "user"), ("list", "service")):
        assert not policy.allows(action, LEAD, None, kind)


def test_unknown_actions_are_refused():
    assert policy.decide("launch", ADMIN, None, "rocket") is Decision.FORBID


def test_anonymous_sees_the_public_directory_only():
    assert policy.allows("view", ANONYMOUS, None, "directory")
    denied = [
        key
        for key in policy.RULES
        if key != ("view", "directory") and policy.allows(key[0], ANONYMOUS, None, key[1])
    ]
    assert denied == []
