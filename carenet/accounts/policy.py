"""The one place that decides who may do what to which object.

Every view, API handler and service function asks this module; nothing
re-implements a rule inline. Rules live in a table keyed by
``(action, object_type)``; a rule returns a ``Decision``:

- ``ALLOW``;
- ``FORBID`` (403): the object's existence is no secret (a public service);
- ``HIDE`` (404): the caller may not even learn the object exists (another
  organization's user, token or, later, referral) so ids are not confirmed.

An action with no rule is refused (deny by default). Later domains (patients,
referrals, reports) add rules with ``@rule("view", "referral")``.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum
from typing import Any

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


Rule = Callable[[Any, Any], Decision]
RULES: dict[tuple[str, str], Rule] = {}


def rule(action: str, object_type: str) -> Callable[[Rule], Rule]:
    """Register the rule deciding ``action`` on objects of ``object_type``."""

    def register(function: Rule) -> Rule:
        RULES[(action, object_type)] = function
        return function

    return register


# --- facts about a user ------------------------------------------------------


def roles_of(user: Any) -> frozenset[str]:
    """The roles a user holds in any organization (none when anonymous)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return frozenset()
    return frozenset(getattr(user, "roles", ()))


def is_admin(user: Any) -> bool:
    return "admin" in roles_of(user)


def has_any_role(user: Any, *roles: str) -> bool:
    return bool(roles_of(user) & set(roles))


def visible_organization_ids(user: Any, *roles: str) -> frozenset[str]:
    """Organizations the user belongs to (through one of ``roles``, if given)."""
    if not roles_of(user):
        return frozenset()
    return frozenset(user.organization_ids(*roles))


def curatable_organization_ids(user: Any) -> frozenset[str] | None:
    """Organizations whose directory entries the user may edit; ``None`` means all of them."""
    if is_admin(user):
        return None
    return visible_organization_ids(user, "cbo_admin")


def can_view_confidential_locations(user: Any) -> bool:
    """Whether addresses of confidential locations are shown to this user."""
    return bool(roles_of(user) & CONFIDENTIAL_LOCATION_ROLES)


def can_edit_service(user: Any, service: Any) -> bool:
    return decide("edit", user, service, "service") is Decision.ALLOW


# --- deciding ----------------------------------------------------------------


def object_type_of(obj: Any) -> str:
    return str(getattr(obj, "__tablename__", type(obj).__name__.lower()))


def decide(action: str, user: Any, obj: Any = None, object_type: str | None = None) -> Decision:
    """The decision for ``user`` doing ``action`` to ``obj`` (or to the type, when no object)."""
    kind = object_type or object_type_of(obj)
    decide_rule = RULES.get((action, kind))
    if decide_rule is None:
        return Decision.FORBID
    return decide_rule(user, obj)


def allows(action: str, user: Any, obj: Any = None, object_type: str | None = None) -> bool:
    return decide(action, user, obj, object_type) is Decision.ALLOW


def require(action: str, user: Any, obj: Any = None, object_type: str | None = None) -> None:
    """Raise ``NotFound`` (hidden) or ``NotAllowed`` unless the policy allows it."""
    decision = decide(action, user, obj, object_type)
    if decision is Decision.HIDE:
        raise NotFound("No such record.")
    if decision is Decision.FORBID:
        raise NotAllowed("You are not allowed to do that.")


def _when(condition: bool, otherwise: Decision = Decision.FORBID) -> Decision:
    return Decision.ALLOW if condition else otherwise


# --- the rules ----------------------------------------------------------------


@rule("view", "directory")
def _view_directory(user: Any, obj: Any) -> Decision:
    return Decision.ALLOW  # the public directory: anyone, signed in or not


@rule("view_confidential_locations", "directory")
def _view_confidential(user: Any, obj: Any) -> Decision:
    return _when(can_view_confidential_locations(user))


@rule("view", "account")
def _view_own_account(user: Any, obj: Any) -> Decision:
    return _when(bool(getattr(user, "is_authenticated", False)))


@rule("list", "service")
def _list_curatable(user: Any, obj: Any) -> Decision:
    return _when(has_any_role(user, "cbo_admin", "admin"))


@rule("edit", "service")
def _edit_service(user: Any, service: Any) -> Decision:
    if is_admin(user):
        return Decision.ALLOW
    if service is None:
        return _when(has_any_role(user, "cbo_admin"))
    # Services are public: refusing with 403 reveals nothing new.
    return _when(service.organization_id in visible_organization_ids(user, "cbo_admin"))


RULES[("verify", "service")] = _edit_service


@rule("list", "stale_service")
def _list_stale(user: Any, obj: Any) -> Decision:
    return _when(has_any_role(user, "cbo_admin", "admin"))


@rule("list", "user")
def _list_users(user: Any, obj: Any) -> Decision:
    return _when(is_admin(user))


@rule("deactivate", "user")
def _deactivate_user(user: Any, other: Any) -> Decision:
    if not is_admin(user):
        return Decision.FORBID if other is None else Decision.HIDE
    if other is not None and getattr(user, "id", None) == other.id:
        return Decision.FORBID  # an admin cannot lock themselves out
    return Decision.ALLOW


RULES[("activate", "user")] = _deactivate_user


@rule("view", "user")
def _view_user(user: Any, other: Any) -> Decision:
    if is_admin(user) or (other is not None and getattr(user, "id", None) == other.id):
        return Decision.ALLOW
    return Decision.HIDE


@rule("create", "api_token")
def _create_token(user: Any, owner: Any) -> Decision:
    if owner is None:
        return _when(bool(roles_of(user)))
    return _view_user(user, owner)


@rule("revoke", "api_token")
def _revoke_token(user: Any, token: Any) -> Decision:
    if token is None:
        return _when(bool(roles_of(user)))
    if is_admin(user) or getattr(user, "id", None) == token.user_id:
        return Decision.ALLOW
    return Decision.HIDE


@rule("list", "audit_event")
def _list_audit(user: Any, obj: Any) -> Decision:
    return _when(is_admin(user))


@rule("view", "aggregate_report")
def _view_aggregates(user: Any, obj: Any) -> Decision:
    return _when(has_any_role(user, "program_lead", "admin"))
