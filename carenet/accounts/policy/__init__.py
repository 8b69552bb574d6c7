"""The one place that decides who may do what to which object.

Every view, API handler and service function asks this package; nothing
re-implements a rule inline. Rules live in a table keyed by
``(action, object_type)``; a rule returns a ``Decision``:

- ``ALLOW``;
- ``FORBID`` (403): the object's existence is no secret (a public service);
- ``HIDE`` (404): the caller may not even learn the object exists (another
  organization's user, token, patient or referral) so ids are not confirmed.

An action with no rule is refused (deny by default).

- ``core.py``: roles, facts about a user, the table, ``rule``, ``decide`` /
  ``allows`` / ``require``;
- ``rules_accounts.py``: the directory, accounts, users, API tokens,
  curation, the audit log, aggregate reports;
- ``rules_referrals.py``: patients, referrals, a service's capacity.

Importing this package imports every rule module, so ``RULES`` is complete on
first import, whatever was imported before. A new domain's rules go in a new
``rules_<domain>.py`` here, imported below.
"""

from carenet.accounts.policy import rules_accounts, rules_referrals
from carenet.accounts.policy.core import (
    CONFIDENTIAL_LOCATION_ROLES,
    ROLE_ORGANIZATION_KINDS,
    ROLES,
    RULES,
    Decision,
    Rule,
    allow_if,
    allows,
    can_edit_service,
    can_view_confidential_locations,
    curatable_organization_ids,
    decide,
    has_any_role,
    is_admin,
    object_type_of,
    require,
    roles_of,
    rule,
    visible_organization_ids,
)
from carenet.accounts.policy.rules_referrals import (
    CBO_STAFF,
    CLOSING_WHILE_WITHDRAWN,
    COORDINATOR,
    STUB_FIELDS,
    Sight,
    cbo_orgs,
    coordinator_orgs,
    move_decision,
    note_decision,
    patient_details,
    referral_sight,
)

__all__ = [
    "CBO_STAFF",
    "CLOSING_WHILE_WITHDRAWN",
    "CONFIDENTIAL_LOCATION_ROLES",
    "COORDINATOR",
    "RULES",
    "ROLES",
    "ROLE_ORGANIZATION_KINDS",
    "STUB_FIELDS",
    "Decision",
    "Rule",
    "allow_if",
    "allows",
    "can_edit_service",
    "can_view_confidential_locations",
    "cbo_orgs",
    "coordinator_orgs",
    "curatable_organization_ids",
    "decide",
    "has_any_role",
    "is_admin",
    "move_decision",
    "note_decision",
    "object_type_of",
    "patient_details",
    "referral_sight",
    "require",
    "roles_of",
    "rule",
    "rules_accounts",
    "rules_referrals",
    "Sight",
    "visible_organization_ids",
]
