"""The accounting of disclosures a patient may request (HIPAA §164.528): every audit row
that disclosed the patient — when, to whom (person and organization), what, and why.

Rows disclosing a patient carry ``audit_event.patient_id`` (``carenet.audit.service``):
the patient's record read by a coordinator, a page of the patient list or of referrals
showing them (one row per patient per page), a referral read with the patient's details,
a referral sent (details shared with the service's organization). A referral *stub* (a
CBO without valid consent) or a refused request discloses nothing and is not listed.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy import select

from carenet.audit.models import AuditEvent
from carenet.db.types import as_utc
from carenet.directory.models import Organization
from carenet.errors import NotFound
from carenet.extensions import db
from carenet.referrals.models import Patient, Referral

CARE = "treatment and care coordination by the patient's care organization"
REFERRAL = "referral to a community service for a social need"

# (action, object type) → (what was disclosed, purpose)
KINDS: dict[tuple[str, str], tuple[str, str]] = {
    ("read", "patient"): ("patient record (identity, contact, needs, consents)", CARE),
    ("list", "patient"): ("name and birth date in the patient list", CARE),
    ("create", "referral"): ("patient details sent with a referral", REFERRAL),
    ("read", "referral"): ("patient details on a referral", REFERRAL),
    ("list", "referral"): ("patient details in a list of referrals", REFERRAL),
}


@dataclass(frozen=True)
class Entry:
    occurred_at: str  # ISO 8601, UTC
    person: str  # who saw it: e-mail (or "system")
    organization: str  # for which organization
    disclosed: str
    purpose: str
    audit_id: int


@dataclass(frozen=True)
class Accounting:
    patient_id: str
    patient_name: str
    since: str | None
    entries: list[Entry]

    def as_dict(self) -> dict[str, Any]:
        return {
            "patient_id": self.patient_id,
            "patient_name": self.patient_name,
            "since": self.since,
            "disclosures": [asdict(e) for e in self.entries],
        }


def accounting(patient_id: str, since: date | None = None) -> Accounting:
    """The patient's disclosures, oldest first; ``NotFound`` naming the id when unknown."""
    patient = db.session.get(Patient, patient_id)
    if patient is None:
        raise NotFound(f"No patient with id {patient_id!r}.")
    stmt = select(AuditEvent).where(AuditEvent.patient_id == patient.id)
    if since is not None:
        stmt = stmt.where(AuditEvent.occurred_at >= datetime.combine(since, time.min, tzinfo=UTC))
    rows = list(db.session.scalars(stmt.order_by(AuditEvent.occurred_at, AuditEvent.id)))
    names = _organization_names(rows)
    referrals = _referrals(rows)
    entries = [_entry(row, names, referrals) for row in rows]
    return Accounting(
        patient.id,
        patient.name,
        since.isoformat() if since else None,
        entries,
    )


def _organization_names(rows: list[AuditEvent]) -> dict[str, str]:
    ids = {r.organization_id for r in rows if r.organization_id}
    if not ids:
        return {}
    found = db.session.execute(
        select(Organization.id, Organization.name).where(Organization.id.in_(ids))
    )
    return dict(found.tuples().all())


def _referrals(rows: list[AuditEvent]) -> dict[str, Referral]:
    ids = {r.object_id for r in rows if r.object_type == "referral" and r.object_id}
    if not ids:
        return {}
    return {r.id: r for r in db.session.scalars(select(Referral).where(Referral.id.in_(ids)))}


def _entry(row: AuditEvent, names: dict[str, str], referrals: dict[str, Referral]) -> Entry:
    disclosed, purpose = KINDS.get(
        (row.action, row.object_type), (f"{row.action} of {row.object_type}", CARE)
    )
    referral = referrals.get(row.object_id or "") if row.object_type == "referral" else None
    if referral is not None:
        recipient = referral.recipient_organization.name if referral.recipient_organization else ""
        disclosed += f" ({referral.service_name}, {recipient})".replace(", )", ")")
        purpose += f": {referral.category}"
    count = len((row.detail or {}).get("referral_ids") or [])
    if count > 1:
        disclosed += f", {count} referrals"
    organization = names.get(row.organization_id or "", row.organization_id or "")
    return Entry(
        occurred_at=as_utc(row.occurred_at).isoformat(timespec="seconds"),
        person=row.actor_email or "system",
        organization=organization,
        disclosed=disclosed,
        purpose=purpose,
        audit_id=row.id,
    )


def table(result: Accounting) -> str:
    """The accounting as a plain-text table."""
    head = f"Accounting of disclosures for {result.patient_name} (patient {result.patient_id})"
    if result.since:
        head += f", since {result.since}"
    if not result.entries:
        return head + "\nNo disclosures recorded."
    columns = ("Date (UTC)", "Who", "Organization", "What was disclosed", "Purpose")
    cells = [
        (e.occurred_at.replace("T", " ").removesuffix("+00:00"), e.person, e.organization,
         e.disclosed, e.purpose)
        for e in result.entries
    ]  # fmt: skip
    widths = [max(len(c[i]) for c in [columns, *cells]) for i in range(len(columns))]
    lines = [head, ""]
    for cells_of_row in [columns, tuple("-" * w for w in widths), *cells]:
        lines.append("  ".join(c.ljust(w) for c, w in zip(cells_of_row, widths, strict=True)))
    lines.append("")
    lines.append(f"{len(result.entries)} disclosure(s).")
    return "\n".join(line.rstrip() for line in lines)
