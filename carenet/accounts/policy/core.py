"""The machinery of the policy: roles, the rule table, deciding.

The rules themselves live beside this module (``rules_accounts.py``,
``rules_referrals.py``) and register with ``@rule``; the package
``carenet.accounts.policy`` imports them all, so its table is complete as soon
as the package is imported. This module imports no rule module and no model.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum
from typing import Any

from carenet.accounts.actor import Actor
from carenet.errors import NotAllowed, NotFound

ROLES = ("coordinator", "cbo_staff", "cbo_admin", "program_lead", "admin")

# Which kinds of organization a role's membership may belong to.
ROLE_ORGANIZATION_KINDS: dict[str, tuple[str, ...]] = {
    "coordinator": ("care",),
    "cbo_staff": ("community",),
    "cbo_admin": ("community",),
    "program_lead": ("network", "care"),
    "admin": ("care", "community", "network"),
}

# Roles that may see the street address of a confidential location (e.g. a shelter).
CONFIDENTIAL_LOCATION_ROLES = frozenset({"coordinator", "cbo_staff", "cbo_admin", "admin"})


class Decision(Enum):
    ALLOW = "allow"
    FORBID = "forbid"
    HIDE = "hide"


Rule = Callable[[Actor | None, Any], Decision]
RULES: dict[tuple[str, str], Rule] = {}


def rule(action: str, object_type: str) -> Callable[[Rule], Rule]:
    """Register the rule deciding ``action`` on objects of ``object_type``."""

    def register(function: Rule) -> Rule:
        RULES[(action, object_type)] = function
        return function

    return register


# --- facts about a user ------------------------------------------------------


def roles_of(user: Actor | None) -> frozenset[str]:
    """The roles a user holds in any organization (none when anonymous)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return frozenset()
    return frozenset(getattr(user, "roles", ()))


def is_admin(user: Actor | None) -> bool:
    return "admin" in roles_of(user)


def has_any_role(user: Actor | None, *roles: str) -> bool:
    return bool(roles_of(user) & set(roles))


def visible_organization_ids(user: Actor | None, *roles: str) -> frozenset[str]:
    """Organizations the user belongs to (through one of ``roles``, if given)."""
    if user is None or not roles_of(user):
        return frozenset()
    return frozenset(user.organization_ids(*roles))


def curatable_organization_ids(user: Actor | None) -> frozenset[str] | None:
    """Organizations whose directory entries the user may edit; ``None`` means all of them."""
    if is_admin(user):
        return None
    return visible_organization_ids(user, "cbo_admin")


def can_view_confidential_locations(user: Actor | None) -> bool:
    """Whether addresses of confidential locations are shown to this user."""
    return bool(roles_of(user) & CONFIDENTIAL_LOCATION_ROLES)


def can_edit_service(user: Actor | None, service: Any) -> bool:
    return decide("edit", user, service, "service") is Decision.ALLOW


# --- deciding ----------------------------------------------------------------


def object_type_of(obj: Any) -> str:
    return str(getattr(obj, "__tablename__", type(obj).__name__.lower()))


def decide(
    action: str, user: Actor | None, obj: Any = None, object_type: str | None = None
) -> Decision:
    """The decision for ``user`` doing ``action`` to ``obj`` (or to the type, when no object)."""
    kind = object_type or object_type_of(obj)
    decide_rule = RULES.get((action, kind))
    if decide_rule is None:
        return Decision.FORBID
    return decide_rule(user, obj)


def allows(
    action: str, user: Actor | None, obj: Any = None, object_type: str | None = None
) -> bool:
    return decide(action, user, obj, object_type) is Decision.ALLOW


def require(
    action: str, user: Actor | None, obj: Any = None, object_type: str | None = None
) -> None:
    """Raise ``NotFound`` (hidden) or ``NotAllowed`` unless the policy allows it."""
    decision = decide(action, user, obj, object_type)
    if decision is Decision.HIDE:
        raise NotFound("No such record.")
    if decision is Decision.FORBID:
        raise NotAllowed("You are not allowed to do that.")


def allow_if(condition: bool, otherwise: Decision = Decision.FORBID) -> Decision:
    """``ALLOW`` when ``condition`` holds, else ``otherwise`` (``FORBID`` unless told)."""
    return Decision.ALLOW if condition else otherwise
