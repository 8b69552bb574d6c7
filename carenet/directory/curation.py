"""Directory curation: a CBO's admin keeps their own services fresh; admins curate all.

Every change is checked by the policy, audited, and re-indexed for search in
one transaction, which the function commits (or rolls back when it refuses).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from carenet import audit
from carenet.accounts import policy
from carenet.accounts.actor import Actor
from carenet.db.paging import Page, PageRequest, paginate
from carenet.db.retry import run_in_transaction
from carenet.db.types import utcnow
from carenet.directory.models import CAPACITY_STATUSES, Organization, Phone, Schedule, Service
from carenet.directory.search import index as search_index
from carenet.errors import InvalidInput, NotFound
from carenet.extensions import db

STALE_AFTER_DAYS = 180
DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
_HOURS_LINE = re.compile(
    r"^(?P<days>[A-Za-z,\- ]+?)\s+(?P<opens>\d{1,2}:\d{2})\s*-\s*(?P<closes>\d{1,2}:\d{2})$"
)
_PHONE_LINE = re.compile(
    r"^(?P<number>[+(\d][\d ().\-]{5,30}\d)(?:\s*(?:x|ext\.?)\s*(?P<ext>\d{1,8}))?$"
)


@dataclass(frozen=True)
class WeeklyHours:
    byday: str  # "MO,TU,WE"
    opens_at: time
    closes_at: time


@dataclass(frozen=True)
class PhoneNumber:
    number: str
    extension: str | None = None


@dataclass(frozen=True)
class ServiceChanges:
    capacity_status: str
    hours: list[WeeklyHours]
    phones: list[PhoneNumber]
    description: str | None = None
    url: str | None = None
    email: str | None = None
    # None leaves a text field as it is; "" clears it.


def curatable_services(
    actor: Actor, organization_id: str | None = None, wanted: PageRequest = PageRequest()
) -> Page[Service]:
    """A page of the services the actor may curate (their organizations', or all for an
    admin), by organization and name."""
    policy.require("list", actor, None, "service")
    stmt = select(Service).join(Service.organization).options(selectinload(Service.organization))
    scope = policy.curatable_organization_ids(actor)
    if scope is not None:
        stmt = stmt.where(Service.organization_id.in_(scope))
    if organization_id:
        stmt = stmt.where(Service.organization_id == organization_id)
    return paginate(stmt.order_by(Organization.name, Service.name, Service.id), wanted)


def stale_services(
    actor: Actor, now: datetime | None = None, wanted: PageRequest = PageRequest()
) -> Page[Service]:
    """A page of the services in the actor's scope not verified in ``STALE_AFTER_DAYS`` days
    (or never), never-verified first, then the longest unverified."""
    policy.require("list", actor, None, "stale_service")
    cutoff = (now or utcnow()) - timedelta(days=STALE_AFTER_DAYS)
    stmt = (
        select(Service)
        .join(Service.organization)
        .options(selectinload(Service.organization))
        .where(Service.status == "active")
        .where(or_(Service.last_verified_at.is_(None), Service.last_verified_at < cutoff))
    )
    scope = policy.curatable_organization_ids(actor)
    if scope is not None:
        stmt = stmt.where(Service.organization_id.in_(scope))
    order = (
        Service.last_verified_at.is_(None).desc(),
        Service.last_verified_at,
        Service.name,
        Service.id,
    )
    return paginate(stmt.order_by(*order), wanted)


def service_for_curation(actor: Actor, service_id: str) -> Service:
    """The service, if the actor may edit it (403 otherwise; 404 when there is none)."""
    service = db.session.get(Service, service_id)
    if service is None:
        raise NotFound(f"No service with id {service_id!r}.")
    policy.require("edit", actor, service)
    return service


def update_service(actor: Actor, service_id: str, changes: ServiceChanges) -> Service:
    """Replace capacity, weekly hours and phone numbers of a service; commits, or writes nothing
    (a refused field after others were set: the transaction is rolled back, none kept)."""
    return run_in_transaction(lambda: _apply_changes(actor, service_id, changes))


def _apply_changes(actor: Actor, service_id: str, changes: ServiceChanges) -> Service:
    service = service_for_curation(actor, service_id)
    if changes.capacity_status not in CAPACITY_STATUSES:
        message = "Unknown capacity status."
        raise InvalidInput(message, {"capacity_status": [message]})
    before = describe(service)
    service.capacity_status = changes.capacity_status
    if changes.description is not None:
        service.description = changes.description.strip() or None
    if changes.url is not None:
        service.url = _checked_url(changes.url.strip()) or None
    if changes.email is not None:
        service.email = _checked_email(changes.email.strip()) or None
    for schedule in [s for s in service.schedules if s.freq == "WEEKLY" and s.location_id is None]:
        service.schedules.remove(schedule)
    for hours in changes.hours:
        service.schedules.append(
            Schedule(
                freq="WEEKLY", byday=hours.byday, opens_at=hours.opens_at, closes_at=hours.closes_at
            )
        )
    service.phones.clear()
    for phone in changes.phones:
        service.phones.append(Phone(number=phone.number, extension=phone.extension, type="voice"))
    db.session.flush()
    after = describe(service)
    changed = {k: {"from": before[k], "to": after[k]} for k in after if before[k] != after[k]}
    audit.record(
        actor,
        "update",
        "service",
        service.id,
        changed or None,
        organization_id=service.organization_id,
    )
    search_index.refresh_services([service.id])
    return service


def verify_service(actor: Actor, service_id: str) -> Service:
    """Stamp the service as verified today by the actor."""
    return run_in_transaction(lambda: _verify_service(actor, service_id))


def _verify_service(actor: Actor, service_id: str) -> Service:
    service = service_for_curation(actor, service_id)
    service.last_verified_at = utcnow()
    service.last_verified_by = actor.email
    audit.record(actor, "verify", "service", service.id, organization_id=service.organization_id)
    search_index.refresh_services([service.id])
    return service


def describe(service: Service) -> dict[str, Any]:
    """The curated fields as plain values (for the audit row and the edit form)."""
    return {
        "capacity_status": service.capacity_status,
        "description": service.description or "",
        "url": service.url or "",
        "email": service.email or "",
        "hours": format_hours(service),
        "phones": "\n".join(
            p.number + (f" x{p.extension}" if p.extension else "") for p in service.phones
        ),
    }


def format_hours(service: Service) -> str:
    lines = []
    for s in service.schedules:
        if s.freq == "WEEKLY" and s.location_id is None and s.opens_at and s.closes_at:
            days = _day_ranges(s.byday or ",".join(DAYS))
            lines.append(f"{days} {s.opens_at:%H:%M}-{s.closes_at:%H:%M}")
    return "\n".join(lines)


def _day_ranges(byday: str) -> str:
    """ "MO,TU,WE,TH,FR,SU" -> "MO-FR,SU": runs of three or more days as ranges."""
    indexes = sorted(DAYS.index(d) for d in byday.split(",") if d in DAYS)
    runs: list[list[int]] = []
    for index in indexes:
        if runs and index == runs[-1][-1] + 1:
            runs[-1].append(index)
        else:
            runs.append([index])
    parts = []
    for run in runs:
        if len(run) >= 3:
            parts.append(f"{DAYS[run[0]]}-{DAYS[run[-1]]}")
        else:
            parts.extend(DAYS[i] for i in run)
    return ",".join(parts) or byday


def parse_hours(text: str) -> list[WeeklyHours]:
    """Lines like ``MO-FR 09:00-17:00`` or ``SA,SU 10:00-14:00``; errors name the line."""
    result = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        match = _HOURS_LINE.match(line)
        if not match:
            raise _bad("hours", number, line, "write days then hours, e.g. MO-FR 09:00-17:00")
        days = _days(match["days"])
        if not days:
            raise _bad("hours", number, line, "days are MO TU WE TH FR SA SU")
        try:
            opens, closes = (time.fromisoformat(match[k].zfill(5)) for k in ("opens", "closes"))
        except ValueError:
            raise _bad("hours", number, line, "times are HH:MM, 00:00 to 23:59") from None
        if opens == closes:
            raise _bad("hours", number, line, "opening and closing times are the same")
        result.append(WeeklyHours(",".join(days), opens, closes))
    return result


def parse_phones(text: str) -> list[PhoneNumber]:
    """One number per line, optionally with ``x123`` for an extension."""
    result = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        match = _PHONE_LINE.match(line)
        if not match:
            raise _bad("phones", number, line, "write a phone number, e.g. 555-123-4567 x12")
        result.append(PhoneNumber(match["number"].strip(), match["ext"]))
    return result


def _days(text: str) -> list[str]:
    days: list[str] = []
    for part in re.split(r"[,\s]+", text.strip().upper()):
        if not part:
            continue
        first, _, last = part.partition("-")
        if first not in DAYS or (last and last not in DAYS):
            return []
        span = DAYS[DAYS.index(first) : DAYS.index(last) + 1] if last else (first,)
        if not span:
            return []
        days.extend(d for d in span if d not in days)
    return days


def _checked_url(url: str) -> str:
    if url and (not re.match(r"^https?://[^\s/]+\.[^\s]+$", url) or len(url) > 512):
        message = "The website must be an http(s) address."
        raise InvalidInput(message, {"url": [message]})
    return url


def _checked_email(email: str) -> str:
    if email and (not re.match(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", email) or len(email) > 255):
        raise InvalidInput("Not an e-mail address.", {"email": ["Not an e-mail address."]})
    return email


def _bad(field: str, number: int, line: str, why: str) -> InvalidInput:
    message = f"Line {number} ({line!r}): {why}."
    return InvalidInput(message, {field: [message]})
