"""Access rules of accounts and the directory: users, API tokens, curation, audit, reports,
the e-mail outbox.

Registered in the table of ``carenet.accounts.policy`` (which imports this module).
"""

from __future__ import annotations

from typing import Any

from carenet.accounts.actor import Actor
from carenet.accounts.policy.core import (
    RULES,
    Decision,
    allow_if,
    can_view_confidential_locations,
    has_any_role,
    is_admin,
    roles_of,
    rule,
    visible_organization_ids,
)


@rule("view", "directory")
def _view_directory(user: Actor | None, obj: Any) -> Decision:
    return Decision.ALLOW  # the public directory: anyone, signed in or not


@rule("view_confidential_locations", "directory")
def _view_confidential(user: Actor | None, obj: Any) -> Decision:
    return allow_if(can_view_confidential_locations(user))


@rule("view", "account")
def _view_own_account(user: Actor | None, obj: Any) -> Decision:
    return allow_if(bool(getattr(user, "is_authenticated", False)))


@rule("list", "service")
def _list_curatable(user: Actor | None, obj: Any) -> Decision:
    return allow_if(has_any_role(user, "cbo_admin", "admin"))


@rule("edit", "service")
def _edit_service(user: Actor | None, service: Any) -> Decision:
    if is_admin(user):
        return Decision.ALLOW
    if service is None:
        return allow_if(has_any_role(user, "cbo_admin"))
    # Services are public: refusing with 403 reveals nothing new.
    return allow_if(service.organization_id in visible_organization_ids(user, "cbo_admin"))


RULES[("verify", "service")] = _edit_service


@rule("list", "stale_service")
def _list_stale(user: Actor | None, obj: Any) -> Decision:
    return allow_if(has_any_role(user, "cbo_admin", "admin"))


@rule("list", "user")
def _list_users(user: Actor | None, obj: Any) -> Decision:
    return allow_if(is_admin(user))


@rule("deactivate", "user")
def _deactivate_user(user: Actor | None, other: Any) -> Decision:
    if not is_admin(user):
        return Decision.FORBID if other is None else Decision.HIDE
    if other is not None and getattr(user, "id", None) == other.id:
        return Decision.FORBID  # an admin cannot lock themselves out
    return Decision.ALLOW


RULES[("activate", "user")] = _deactivate_user


@rule("view", "user")
def _view_user(user: Actor | None, other: Any) -> Decision:
    if is_admin(user) or (other is not None and getattr(user, "id", None) == other.id):
        return Decision.ALLOW
    return Decision.HIDE


@rule("create", "api_token")
def _create_token(user: Actor | None, owner: Any) -> Decision:
    if owner is None:
        return allow_if(bool(roles_of(user)))
    return _view_user(user, owner)


@rule("revoke", "api_token")
def _revoke_token(user: Actor | None, token: Any) -> Decision:
    if token is None:
        return allow_if(bool(roles_of(user)))
    if is_admin(user) or getattr(user, "id", None) == token.user_id:
        return Decision.ALLOW
    return Decision.HIDE


@rule("list", "audit_event")
def _list_audit(user: Actor | None, obj: Any) -> Decision:
    return allow_if(is_admin(user))


@rule("view", "aggregate_report")
def _view_aggregates(user: Actor | None, obj: Any) -> Decision:
    return allow_if(has_any_role(user, "program_lead", "admin"))


@rule("view", "outbox")
def _view_outbox(user: Actor | None, obj: Any) -> Decision:
    return allow_if(is_admin(user))  # the e-mail queue, its dead letters and their errors


RULES[("retry", "outbox_message")] = _view_outbox
