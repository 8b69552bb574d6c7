"""Synthetic history of needs, referrals with consistent events, and zero-result searches.

Used by ``carenet seed --demo-history`` (a few thousand referrals) and by
``carenet bench reports`` (a million). Rows are written in bulk — COPY on
PostgreSQL, executemany on SQLite (``write_rows``; ``carenet.db.bulk`` holds the
difference) — never as ORM objects. Every referral walks
the real workflow's edges (``workflow.TRANSITIONS``) with one event per move,
and its current status, reason and version agree with its last event.
Patients are obviously synthetic ("Demo Patient 0001") with no address.
"""

from __future__ import annotations

import math
import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from carenet.db import bulk
from carenet.directory.taxonomy import CATEGORIES
from carenet.referrals.workflow import TRANSITIONS

CHUNK = 20_000  # needs per write
DOMAIN_WEIGHTS = {
    "food-insecurity": 30, "transportation-insecurity": 22, "housing-instability": 16,
    "utility-insecurity": 12, "financial-insecurity": 9, "social-connection": 8,
    "intimate-partner-violence": 3,
}  # fmt: skip
REJECT_RATE = {"housing-instability": 0.38, "utility-insecurity": 0.22, "food-insecurity": 0.10}
REJECT_REASONS = {"no-capacity": 45, "not-eligible": 25, "outside-service-area": 15,
                  "duplicate": 5, "other": 10}  # fmt: skip
COLUMNS = {
    "patient": ("id", "organization_id", "given_name", "family_name", "birth_date",
                "postal_code", "latitude", "longitude", "created_at", "updated_at"),
    "consent": ("id", "patient_id", "method", "scope", "starts_at", "recorded_at",
                "revoked_at", "revocation_note", "decision", "revokes_id", "historical"),
    "need": ("id", "patient_id", "category", "status", "created_at", "updated_at"),
    "referral": ("id", "patient_id", "need_id", "category", "sender_organization_id",
                 "coordinator_id", "service_id", "service_name", "recipient_organization_id",
                 "status", "business_status", "status_reason", "version", "outcome", "delivered_on",
                 "viewed_at", "created_at", "updated_at"),
    "referral_event": ("referral_id", "from_status", "to_status", "version", "occurred_at",
                       "reason_code", "actor_email", "note"),
    "search_gap": ("category", "domain", "postcode", "radius_mi", "searched_at"),
}  # fmt: skip


@dataclass(frozen=True)
class Recipient:
    organization_id: str
    service_id: str | None
    service_name: str
    domains: frozenset[str]


@dataclass(frozen=True)
class World:
    """Where the history happens: organizations, services and ZIP codes."""

    care_organization_ids: list[str]
    recipients: list[Recipient]
    postcodes: list[str]
    start: datetime
    end: datetime
    name_prefix: str = "Demo Patient"
    # care organization → the coordinator who sends its referrals (None: nobody named)
    coordinators: dict[str, str] = field(default_factory=dict)
    # ZIP code → its centroid (latitude, longitude): the patients' map points
    points: dict[str, tuple[float, float]] = field(default_factory=dict)
    consent: bool = False  # write each patient's consent decisions (the demo does)
    revoked_share: float = 0.03  # of patients whose consent is later revoked
    domains: dict[str, int] = field(default_factory=lambda: dict(DOMAIN_WEIGHTS))  # and weights
    growth: bool = True  # the network grows (fewer needs early on); else evenly over time
    reasons: dict[str, int] = field(default_factory=lambda: dict(REJECT_REASONS))  # and weights
    reject_rates: dict[str, float] = field(default_factory=lambda: dict(REJECT_RATE))
    withdrawn: float = 0.5  # of never-answered referrals, the share later cancelled


@dataclass
class Counts:
    consents: int = 0
    patients: int = 0
    needs: int = 0
    referrals: int = 0
    events: int = 0
    searches: int = 0


Rows = dict[str, list[tuple]]  # table → rows waiting to be written, in COLUMNS order
# a referral_event row: referral, from, to, version, when, reason, actor e-mail, note
Event = tuple[str, str | None, str, int, datetime, str | None, None, None]

SLUGS: dict[str, str] = {}  # SDOH domain → the first category slug in it
for _c in CATEGORIES:
    SLUGS.setdefault(_c.sdoh_code, _c.slug)


def generate_history(
    conn: Any, world: World, referrals: int, seed: int = 7, echo: Callable[[str], None] = print
) -> Counts:
    """Write about ``referrals`` referrals (and their needs, patients, events, searches)."""
    rng = random.Random(seed)
    counts = Counts()
    n_patients = max(20, referrals // 4)
    zip_weights = [rng.paretovariate(1.2) for _ in world.postcodes]
    patients = []
    rows: Rows = {name: [] for name in COLUMNS}
    for i in range(n_patients):
        pid = _id(rng)
        postcode = rng.choices(world.postcodes, zip_weights)[0]
        care = rng.choice(world.care_organization_ids)
        patients.append((pid, postcode, care))
        born = date(1935, 1, 1) + timedelta(days=rng.randrange(365 * 70))
        lat, lon = world.points.get(postcode, (None, None))
        rows["patient"].append((pid, care, "Demo",
                                f"{world.name_prefix.split()[-1]} {i + 1:04d}", born, postcode,
                                lat, lon, world.start, world.start))  # fmt: skip
        if world.consent:
            _consent(rng, world, rows, pid)
    _flush(conn, rows, counts)
    by_domain = {d: [r for r in world.recipients if d in r.domains] for d in world.domains}
    domains, weights = list(world.domains), list(world.domains.values())
    span = (world.end - world.start).total_seconds()
    while counts.referrals + len(rows["referral"]) < referrals:
        pid, postcode, care = rng.choice(patients)
        domain = rng.choices(domains, weights)[0]
        # more needs in winter (utilities, housing) and a slow growth of the network
        share = math.sqrt(rng.random()) if world.growth else rng.random()
        at = world.start + timedelta(seconds=span * share)
        need_id = _id(rng)
        completed = _need_referrals(rng, world, rows, by_domain[domain] or world.recipients,
                                    (pid, care), need_id, domain, at)  # fmt: skip
        rows["need"].append((need_id, pid, domain, "addressed" if completed else "open", at, at))
        if not rows["referral"] or rows["referral"][-1][2] != need_id:
            if rng.random() < 0.6:  # the coordinator searched and found nothing to refer to
                searched = at - timedelta(minutes=rng.randrange(5, 120))
                radius = rng.choice((5.0, 10.0, 25.0))
                rows["search_gap"].append((SLUGS.get(domain), domain, postcode, radius, searched))
        if len(rows["need"]) >= CHUNK:
            _flush(conn, rows, counts)
            echo(f"  {counts.referrals} referrals, {counts.events} events")
    _flush(conn, rows, counts)
    return counts


def _need_referrals(
    rng: random.Random,
    world: World,
    rows: Rows,
    recipients: list[Recipient],
    patient: tuple[str, str],
    need_id: str,
    domain: str,
    at: datetime,
) -> bool:
    """Zero, one or two referrals for a need; True when one was completed."""
    if rng.random() < 0.12:
        return False
    sent = at + timedelta(hours=rng.uniform(0.5, 72))
    for _attempt in range(2):
        if sent >= world.end:
            return False
        status = _referral(rng, world, rows, rng.choice(recipients), patient, need_id, domain,
                           sent)  # fmt: skip
        if status == "completed":
            return True
        if status not in ("rejected", "failed") or rng.random() < 0.5:
            return False
        sent = sent + timedelta(days=rng.uniform(2, 10))
    return False


def _referral(
    rng: random.Random,
    world: World,
    rows: Rows,
    recipient: Recipient,
    patient: tuple[str, str],
    need_id: str,
    domain: str,
    sent: datetime,
) -> str:
    """One referral (from the patient's care organization) and its events; returns the status
    it ends in."""
    pid, care = patient
    rid = _id(rng)
    steps = _path(rng, world, domain, sent)
    status, version, reason, moved_at = "requested", 1, None, sent
    events: list[Event] = [(rid, None, "requested", 1, sent, None, None, None)]
    for to, when, code in steps:
        if when >= world.end or (status, to) not in TRANSITIONS:
            break
        version += 1
        events.append((rid, status, to, version, when, code, None, None))
        status, reason, moved_at = to, code, when
    done = status == "completed"
    rows["referral"].append((
        rid, pid, need_id, domain, care, world.coordinators.get(care),
        recipient.service_id, recipient.service_name, recipient.organization_id, status,
        "service-delivered" if done else ("accepted" if status == "accepted" else None),
        reason, version, "Service delivered" if done else None,
        moved_at.date() if done else None, events[1][4] if len(events) > 1 else None,
        sent, moved_at,
    ))  # fmt: skip
    rows["referral_event"].extend(events)
    return status


Move = tuple[str, datetime, str | None]


def _path(rng: random.Random, world: World, domain: str, sent: datetime) -> list[Move]:
    """The moves a referral makes, with times: a plausible walk through the workflow."""
    hours = lambda median, spread=0.9: rng.lognormvariate(math.log(median), spread)  # noqa: E731
    answered = sent + timedelta(hours=hours(20))
    roll = rng.random()
    if roll < 0.05:  # never answered; some are withdrawn after a while
        if rng.random() < world.withdrawn:
            return [("cancelled", sent + timedelta(days=rng.uniform(8, 20)), "other")]
        return []
    if roll < 0.05 + world.reject_rates.get(domain, 0.15):
        code = rng.choices(list(world.reasons), list(world.reasons.values()))[0]
        return [("rejected", answered, code)]
    moves: list[Move] = [("accepted", answered, None)]
    later = rng.random()
    if later < 0.10:
        return moves + [("failed", answered + timedelta(hours=hours(96)), "could-not-contact")]
    if later < 0.16:
        return moves + [("cancelled", answered + timedelta(hours=hours(72)), "declined-by-client")]
    started = answered + timedelta(hours=hours(24))
    moves.append(("in-progress", started, None))
    if later < 0.22:
        held = started + timedelta(hours=hours(48))
        moves += [("on-hold", held, "no-capacity"), ("in-progress", held + timedelta(days=4), None)]
        started = held + timedelta(days=4)
    return moves + [("completed", started + timedelta(hours=hours(100, 0.7)), None)]


def _consent(rng: random.Random, world: World, rows: Rows, pid: str) -> None:
    """The patient's permit to share with CBOs, from their record's creation; for a few, a
    later revocation (the permit marked revoked and a deny decision naming it)."""
    permit = _id(rng)
    method = rng.choice(("verbal", "written", "electronic"))
    revoked = None
    if rng.random() < world.revoked_share:
        revoked = world.start + (world.end - world.start) * rng.uniform(0.3, 0.95)
    note = "Patient asked to stop sharing." if revoked else None
    rows["consent"].append((permit, pid, method, "share-with-cbo", world.start, world.start,
                            revoked, note, "permit", None, False))  # fmt: skip
    if revoked:
        rows["consent"].append((_id(rng), pid, method, "share-with-cbo", revoked, revoked,
                                None, note, "deny", permit, False))  # fmt: skip


def _id(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _flush(conn: Any, rows: Rows, counts: Counts) -> None:
    for table in ("patient", "consent", "need", "referral", "referral_event", "search_gap"):
        if rows[table]:
            write_rows(conn, table, COLUMNS[table], rows[table])
    counts.patients += len(rows["patient"])
    counts.consents += len(rows["consent"])
    counts.needs += len(rows["need"])
    counts.referrals += len(rows["referral"])
    counts.events += len(rows["referral_event"])
    counts.searches += len(rows["search_gap"])
    for table in rows:
        rows[table].clear()


def write_rows(conn: Any, table: str, columns: tuple[str, ...], rows: list[tuple]) -> None:
    """Bulk insert: COPY on PostgreSQL, executemany on SQLite (timestamps as SQLAlchemy stores)."""
    if bulk.can_copy(conn):
        bulk.copy_rows(conn, table, columns, rows)
        return
    marks = ", ".join("?" for _ in columns)
    firsts = [next((r[i] for r in rows if r[i] is not None), None) for i in range(len(columns))]
    typed = [i for i, v in enumerate(firsts) if isinstance(v, date)]
    if typed:  # convert only the columns holding dates and times (a million rows: seconds)
        converted = []
        for row in rows:
            values = list(row)
            for i in typed:
                values[i] = _sqlite_value(values[i])
            converted.append(tuple(values))
        rows = converted
    conn.exec_driver_sql(
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})",  # noqa: S608
        rows,
    )


def _sqlite_value(value: Any) -> Any:
    if isinstance(value, datetime):
        if value.utcoffset():
            value = value.astimezone(UTC)
        return value.isoformat(" ", "microseconds")[:26]  # as "%Y-%m-%d %H:%M:%S.%f"
    if isinstance(value, date):
        return value.isoformat()
    return value
