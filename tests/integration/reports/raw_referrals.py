"""Each referral of a generated history read back from the raw tables (``referral``,
``patient``, ``postcode_area``, ``referral_event``): what the report tests recompute the
released figures from, independently of the report tables."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import text

from carenet.extensions import db


@dataclass(frozen=True)
class RawReferral:
    created: datetime
    status: str
    dims: dict[str, str]  # domain, care_org, cbo, zip, county
    seconds: list[float | None]  # to first response (accept or reject), acceptance, completion


def moment(value) -> datetime:  # type: ignore[no-untyped-def]
    """A stored timestamp (text on SQLite) as an aware UTC datetime."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)


def raw_referrals() -> list[RawReferral]:
    """Every referral with its dimensions and the seconds from creation to the first event
    of each duration (None when it never happened)."""
    rows = db.session.execute(
        text(
            "SELECT r.id, r.created_at, r.status, r.category, r.sender_organization_id,"
            " r.recipient_organization_id, substr(p.postal_code, 1, 5),"
            " COALESCE((SELECT pa.county || ', ' || pa.state FROM postcode_area pa"
            " WHERE pa.postcode = substr(p.postal_code, 1, 5)), 'Unknown')"
            " FROM referral r JOIN patient p ON p.id = r.patient_id"
        )
    ).all()
    firsts: dict[tuple[str, str], datetime] = {}
    for rid, to, at in db.session.execute(
        text("SELECT referral_id, to_status, occurred_at FROM referral_event")
    ):
        at = moment(at)
        if (rid, to) not in firsts or at < firsts[(rid, to)]:
            firsts[(rid, to)] = at
    found = []
    for rid, created, status, domain, care, cbo, zip5, county in rows:
        created = moment(created)
        answered = [firsts[(rid, s)] for s in ("accepted", "rejected") if (rid, s) in firsts]
        moments = [min(answered) if answered else None, firsts.get((rid, "accepted")),
                   firsts.get((rid, "completed"))]  # fmt: skip
        dims = {"domain": domain, "care_org": care, "cbo": cbo, "zip": zip5, "county": county}
        seconds = [None if m is None else (m - created).total_seconds() for m in moments]
        found.append(RawReferral(created, status, dims, seconds))
    return found
