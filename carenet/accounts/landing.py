"""Where each role lands after signing in (an explicit, safe ``next`` still wins)."""

from __future__ import annotations

from carenet.accounts.actor import Actor
from carenet.accounts.policy import roles_of

# The first of a user's roles in this order decides: a coordinator who is also an admin
# starts the day on the worklist.
LANDINGS = (
    ("coordinator", "referrals.worklist"),
    ("cbo_staff", "referrals.inbox"),
    ("cbo_admin", "referrals.inbox"),
    ("program_lead", "reports.dashboard_page"),
    ("admin", "accounts_admin.users"),
)


def landing_for(user: Actor | None) -> str:
    """The endpoint ``user`` lands on after signing in, by role; else their account page."""
    roles = roles_of(user)
    return next((endpoint for role, endpoint in LANDINGS if role in roles), "accounts.account")
