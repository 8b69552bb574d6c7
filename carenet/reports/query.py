"""What a report is asked for, and the words it is asked in.

``ReportQuery`` is the parameter object every report and measure takes: a date
range, one grouping and optional filters. Beside it, the vocabulary the page,
the API and the store share: the groupings, the periods, and the referral
statuses as reports use them — derived from the workflow's own definitions
(``carenet.referrals.workflow``, ``carenet.referrals.models``), never written
out again here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from carenet.referrals.models import REFERRAL_STATUSES
from carenet.referrals.workflow import FINAL_STATUSES, OPEN_STATUSES, RECIPIENT, TRANSITIONS

GROUPS = ("none", "domain", "period", "zip", "county", "cbo", "care_org")
NEED_GROUPS = ("none", "domain", "period", "zip", "county", "care_org")
PAIRS = {"period_domain": ("period", "domain"), "domain_zip": ("domain", "zip")}
PERIODS = ("week", "month", "quarter")  # kept in the report tables
RELEASE_PERIODS = ("month", "quarter")  # what reports are released by (whole months)

# Referral statuses (the orders are the reports' columns and keep the SQL text stable).
DELIVERED = "completed"
NOT_DELIVERED = tuple(s for s in REFERRAL_STATUSES if s in FINAL_STATUSES and s != DELIVERED)
FINAL = (DELIVERED, *NOT_DELIVERED)  # the workflow's final statuses: the loop is closed
OPEN = OPEN_STATUSES
OUTCOMES = (*OPEN, *FINAL)  # the columns of the referral-outcomes report
# the CBO's first response: its moves out of "requested" (accept or reject)
RESPONSES = tuple(to for (frm, to), move in TRANSITIONS.items()
                  if frm == "requested" and move.side == RECIPIENT)  # fmt: skip


@dataclass(frozen=True)
class ReportQuery:
    """A date range [start, end), one grouping and optional filters."""

    start: datetime
    end: datetime
    group_by: str = "domain"
    period: str = "month"
    domain: str | None = None
    county: str | None = None
    zip: str | None = None
    cbo: str | None = None
    care_org: str | None = None
    as_of: datetime | None = None  # "now" for the 14- and 30-day rules (tests pin it)
    extra: dict[str, str] = field(default_factory=dict)
