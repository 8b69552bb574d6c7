"""FHIR R4 Subscriptions as the Subscriptions R5 Backport IG has them: a rest-hook on the
topic "referral Task status changed", id-only (or empty) payloads, delivered by the
outbox worker (docs/fhir-access.md "Subscriptions").

- ``POST /fhir/Subscription`` creates one for the caller (a person or a SMART client's
  service account) and its organization; ``GET /fhir/Subscription[/{id}]`` and
  ``DELETE /fhir/Subscription/{id}`` see and end only the caller's own.
- When a referral moves (``carenet.referrals.notifications.enqueue_status_change``, in
  the move's transaction), ``enqueue_task_status`` writes one outbox message per active
  subscription on the topic whose owner may see that referral (the policy's ``view``
  rule): its body is the notification Bundle (``history``, a SubscriptionStatus
  ``Parameters`` first, ``events-since-subscription-start`` counted per subscription,
  the focus ``Task/{id}``). No patient data: ids only.
- Creating one queues its ``handshake`` (kind ``fhir-handshake``) in the same transaction;
  the subscription is active at once. Each worker pass runs ``queue_heartbeats`` (a
  ``heartbeat``, kind ``fhir-heartbeat``, for each subscription with a heartbeat period
  whose last notification is a period old). ``GET /fhir/Subscription[/{id}]/$status``
  answers the caller's own statuses (``subscription_status.status_bundle``).
- The worker hands all three kinds to ``deliver`` (POST to the endpoint with the
  subscription's headers); leases, retries with backoff and dead letters are the
  outbox's. A last failed attempt puts the subscription in ``error``.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
import uuid
from datetime import datetime, timedelta
from typing import Any

from flask import Blueprint, Response, current_app, request
from flask_login import current_user
from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, select, update
from sqlalchemy.orm import Mapped, mapped_column

from carenet import audit
from carenet.accounts import access, policy
from carenet.accounts.actor import Actor
from carenet.accounts.models import User
from carenet.db.retry import run_in_transaction
from carenet.db.types import ID, UTCDateTime, as_utc, new_id, utcnow
from carenet.extensions import Model, db
from carenet.fhir import topics
from carenet.fhir.subscription_input import (
    FHIR_JSON,
    HEARTBEAT_URL,
    MIN_HEARTBEAT,
    SubscriptionRefused,
    parse_subscription,
    refuse,
)
from carenet.fhir.subscription_status import StatusOf, event_bundle, notification_bundle
from carenet.fhir.subscription_status import status_bundle as _status_bundle
from carenet.referrals import commands, notifications
from carenet.referrals.models import OutboxMessage, Referral

KIND = "fhir-rest-hook"  # event notifications
HANDSHAKE = "fhir-handshake"
HEARTBEAT = "fhir-heartbeat"
STATUSES = ("active", "off", "error")
MAX_BODY = 64 * 1024
MAX_STATUS_IDS = 100
ORGANIZATION_ROLES = ("coordinator", "cbo_staff", "cbo_admin")
B = topics.BACKPORT
_refuse = refuse

__all__ = ["FhirSubscription", "SubscriptionRefused", "parse_subscription"]


class FhirSubscription(Model):
    """A rest-hook subscription of ``owner`` (for ``organization``) to a topic."""

    __tablename__ = "fhir_subscription"
    __table_args__ = (
        Index("ix_fhir_subscription_topic_status", "topic", "status"),
        Index("ix_fhir_subscription_organization", "organization_id"),
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    owner_id: Mapped[str] = mapped_column(ID, ForeignKey("user_account.id", ondelete="CASCADE"))
    organization_id: Mapped[str] = mapped_column(
        ID, ForeignKey("organization.id", ondelete="CASCADE")
    )
    topic: Mapped[str] = mapped_column(String(255))
    endpoint: Mapped[str] = mapped_column(String(255))
    headers: Mapped[list[str] | None] = mapped_column(JSON)
    content: Mapped[str] = mapped_column(String(16), default="id-only")
    status: Mapped[str] = mapped_column(String(16), default="active")
    reason: Mapped[str | None] = mapped_column(Text)
    end_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    events_since_start: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # 0024: seconds between heartbeats (None: no heartbeats); when the last notification
    # (handshake, heartbeat or event) was queued.
    heartbeat_period: Mapped[int | None] = mapped_column(Integer)
    last_notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


# --- the service -------------------------------------------------------------------


def _organization_of(actor: Actor) -> str:
    orgs = sorted(actor.organization_ids(*ORGANIZATION_ROLES))
    if not orgs:
        _refuse(
            "Only members of a care or community organization subscribe.",
            "Subscription",
            "forbidden",
            403,
        )
    return orgs[0]


def create_subscription(actor: Actor, body: Any) -> FhirSubscription:
    fields = parse_subscription(body)
    organization_id = _organization_of(actor)

    def work() -> FhirSubscription:
        now = utcnow()
        row = FhirSubscription(
            owner_id=actor.id, organization_id=organization_id, status="active", **fields
        )
        row.events_since_start, row.last_notified_at = 0, now
        db.session.add(row)
        db.session.flush()
        bundle = notification_bundle(fhir_base(), status_of(row), "handshake", now)
        _queue(HANDSHAKE, row.id, row.endpoint, bundle, now)
        detail = {"topic": row.topic, "content": row.content}
        audit.record(actor, "create", "fhir_subscription", row.id, detail, organization_id)
        return row

    return run_in_transaction(work)


def get_subscription(actor: Actor, subscription_id: str) -> FhirSubscription:
    row = db.session.get(FhirSubscription, subscription_id[:64])
    if row is None or row.owner_id != actor.id:
        _refuse("No such Subscription.", "Subscription", "not-found", 404)
    assert row is not None
    return row


def subscriptions_of(actor: Actor, status: str | None = None) -> list[FhirSubscription]:
    stmt = select(FhirSubscription).where(FhirSubscription.owner_id == actor.id)
    if status is not None:
        if status not in STATUSES:
            _refuse(f"status is one of {', '.join(STATUSES)}.", "status")
        stmt = stmt.where(FhirSubscription.status == status)
    return list(db.session.scalars(stmt.order_by(FhirSubscription.created_at)))


def statuses_of(actor: Actor, ids: list[str], statuses: list[str]) -> list[FhirSubscription]:
    """``$status`` at the type level: the caller's subscriptions, those of ``ids`` (any of
    them; unknown or others' ids are left out) and ``statuses`` if given."""
    if len(ids) > MAX_STATUS_IDS or any(not i or len(i) > 64 for i in ids):
        _refuse(f"At most {MAX_STATUS_IDS} ids of at most 64 characters.", "id")
    if any(status not in (*STATUSES, "requested") for status in statuses):
        _refuse(f"status is one of requested, {', '.join(STATUSES)}.", "status")
    stmt = select(FhirSubscription).where(FhirSubscription.owner_id == actor.id)
    if ids:
        stmt = stmt.where(FhirSubscription.id.in_(ids))
    if statuses:
        stmt = stmt.where(FhirSubscription.status.in_(statuses))
    return list(db.session.scalars(stmt.order_by(FhirSubscription.created_at)))


def delete_subscription(actor: Actor, subscription_id: str) -> None:
    def work() -> None:
        row = get_subscription(actor, subscription_id)
        db.session.delete(row)
        audit.record(actor, "delete", "fhir_subscription", row.id, None, row.organization_id)

    run_in_transaction(work)


# --- notifications -----------------------------------------------------------------


def fhir_base() -> str:
    return str(current_app.config.get("BASE_URL") or "").rstrip("/") + "/fhir"


def status_of(row: FhirSubscription) -> StatusOf:
    error = row.reason if row.status == "error" else None
    return StatusOf(row.id, row.topic, row.status, row.events_since_start or 0, error)


def _queue(
    kind: str,
    subscription_id: str,
    endpoint: str,
    bundle: dict[str, Any],
    now: datetime,
    referral_id: str | None = None,
) -> None:
    """One notification in the outbox (in the caller's transaction), due now."""
    db.session.add(
        OutboxMessage(
            message_id=f"<{kind}.{uuid.uuid4().hex}@carenet>",
            kind=kind,
            recipient=endpoint,
            subject=f"Subscription/{subscription_id}",
            body=json.dumps(bundle, separators=(",", ":")),
            referral_id=referral_id,
            status="pending",
            attempts=0,
            next_attempt_at=now,
        )
    )


def _live(now: datetime) -> Any:
    return (FhirSubscription.status == "active") & (
        (FhirSubscription.end_at.is_(None)) | (FhirSubscription.end_at > now)
    )


def enqueue_task_status(referral: Referral, status: str) -> int:
    """In the move's transaction: one outbox message per live subscription whose owner may
    see the referral; returns how many."""
    now = utcnow()
    rows = db.session.execute(
        select(FhirSubscription.id, FhirSubscription.owner_id).where(
            _live(now) & (FhirSubscription.topic == topics.TASK_STATUS_TOPIC)
        )
    ).all()
    queued = 0
    for subscription_id, owner_id in rows:
        owner = db.session.get(User, owner_id)
        if owner is None or not owner.active or not policy.allows("view", owner, referral):
            continue
        number, endpoint, content = db.session.execute(
            update(FhirSubscription)
            .where(FhirSubscription.id == subscription_id)
            .values(
                events_since_start=FhirSubscription.events_since_start + 1, last_notified_at=now
            )
            .returning(
                FhirSubscription.events_since_start,
                FhirSubscription.endpoint,
                FhirSubscription.content,
            )
            .execution_options(synchronize_session=False)
        ).one()
        of = StatusOf(subscription_id, topics.TASK_STATUS_TOPIC, "active", int(number))
        bundle = event_bundle(fhir_base(), of, referral.id, now, content or "id-only")
        _queue(KIND, subscription_id, str(endpoint), bundle, now, referral.id)
        queued += 1
    return queued


def _heartbeats_due(at: datetime) -> Any:
    """Candidates, in id order (every worker locks the rows in the same order: no deadlock)."""
    return (
        select(FhirSubscription.id, FhirSubscription.heartbeat_period)
        .where(
            _live(at)
            & FhirSubscription.heartbeat_period.is_not(None)
            & (FhirSubscription.last_notified_at <= at - timedelta(seconds=MIN_HEARTBEAT))
        )
        .order_by(FhirSubscription.id)
    )


def queue_heartbeats(now: datetime | None = None) -> int:
    """Queue a ``heartbeat`` for each live subscription with a heartbeat period whose last
    notification was queued a period or more before ``now``; returns how many.

    A reading look first (most passes find nothing: no write lock taken); then one writing
    transaction (SQLite: the write lock up front) in which each subscription is claimed by a
    conditional UPDATE of its ``last_notified_at``, so two workers at once queue one
    heartbeat between them (PostgreSQL re-checks the condition after the other commits)."""
    at = now or utcnow()
    if db.session.execute(_heartbeats_due(at).limit(1)).first() is None:
        db.session.rollback()
        return 0

    def work() -> int:
        due = db.session.execute(_heartbeats_due(at)).all()
        return sum(_heartbeat(subscription_id, int(period), at) for subscription_id, period in due)

    return run_in_transaction(work)


def _heartbeat(subscription_id: str, period: int, at: datetime) -> int:
    claimed = db.session.execute(
        update(FhirSubscription)
        .where(
            (FhirSubscription.id == subscription_id)
            & _live(at)
            & (FhirSubscription.last_notified_at <= at - timedelta(seconds=period))
        )
        .values(last_notified_at=at)
        .returning(
            FhirSubscription.topic, FhirSubscription.events_since_start, FhirSubscription.endpoint
        )
        .execution_options(synchronize_session=False)
    ).one_or_none()
    if claimed is None:
        return 0
    topic, events, endpoint = claimed
    of = StatusOf(subscription_id, str(topic), "active", int(events or 0))
    _queue(
        HEARTBEAT,
        subscription_id,
        str(endpoint),
        notification_bundle(fhir_base(), of, "heartbeat", at),
        at,
    )
    return 1


def deliver(message: notifications.Claimed, timeout: float) -> None:
    """POST one notification to its endpoint; raises on anything but a 2xx (the outbox
    retries). A subscription deleted or switched off since is not notified any more."""
    subscription_id = message.subject.removeprefix("Subscription/")
    row = db.session.get(FhirSubscription, subscription_id)
    headers = list(row.headers or []) if row is not None and row.status == "active" else None
    db.session.rollback()  # no transaction stays open while sending
    if headers is None:
        return
    # The endpoint was checked when the subscription was made: https (or local http).
    req = urllib.request.Request(  # noqa: S310
        message.recipient, data=message.body.encode(), method="POST"
    )
    req.add_header("Content-Type", FHIR_JSON)
    for header in headers:
        name, _, value = header.partition(":")
        req.add_header(name.strip(), value.strip())
    try:
        with urllib.request.urlopen(req, timeout=timeout) as response:  # noqa: S310
            if not 200 <= response.status < 300:
                raise urllib.error.HTTPError(
                    message.recipient, response.status, "refused", response.headers, None
                )
    except Exception as exc:
        if message.attempts + 1 >= notifications.outbox_settings().max_attempts:
            what = "Handshake" if message.kind == HANDSHAKE else "Delivery"
            _give_up(subscription_id, f"{what} failed {message.attempts + 1} times: {exc}")
        raise


def _give_up(subscription_id: str, reason: str) -> None:
    """The last attempt failed: the subscription is in ``error`` (no more events queued)."""

    def work() -> None:
        row = db.session.get(FhirSubscription, subscription_id)
        if row is not None and row.status == "active":
            row.status, row.reason = "error", reason[:1000]

    run_in_transaction(work)


# --- the resource and the endpoints ------------------------------------------------


def as_resource(row: FhirSubscription) -> dict[str, Any]:
    """The Subscription as R4 + backport (header values are not shown: they may be secrets)."""
    resource: dict[str, Any] = {
        "resourceType": "Subscription",
        "id": row.id,
        "meta": {"profile": [f"{B}/backport-subscription"]},
        "status": row.status,
        "reason": row.reason or "Referral Task status changes",
        "criteria": row.topic,
        "channel": {
            "type": "rest-hook",
            "endpoint": row.endpoint,
            "payload": FHIR_JSON,
            "_payload": {
                "extension": [{"url": f"{B}/backport-payload-content", "valueCode": row.content}]
            },
        },
    }
    if row.heartbeat_period is not None:
        resource["channel"]["extension"] = [
            {"url": HEARTBEAT_URL, "valueUnsignedInt": row.heartbeat_period}
        ]
    if row.end_at is not None:
        resource["end"] = as_utc(row.end_at).isoformat().replace("+00:00", "Z")
    return resource


blueprint = Blueprint("fhir_subscriptions", __name__, url_prefix="/fhir/Subscription")


def _fhir(body: dict[str, Any], status: int = 200, **headers: str) -> Response:
    response = Response(json.dumps(body), status=status, mimetype=FHIR_JSON)
    for name, value in headers.items():
        response.headers[name.replace("_", "-")] = value
    return response


@blueprint.errorhandler(SubscriptionRefused)
def _refused(exc: SubscriptionRefused) -> Response:
    issue: dict[str, Any] = {"severity": "error", "code": exc.code, "diagnostics": exc.detail}
    issue["expression"] = [exc.expression]
    return _fhir({"resourceType": "OperationOutcome", "issue": [issue]}, exc.status)


def _body() -> Any:
    if (request.content_length or 0) > MAX_BODY:
        _refuse("The body is too large.", "Subscription", "too-costly", 413)
    try:
        return json.loads(request.get_data(cache=True) or b"null")
    except (ValueError, UnicodeDecodeError):
        _refuse("The body is not JSON.", "Subscription", "structure")


@blueprint.post("")
@access.authenticated
def create() -> Response:
    row = create_subscription(current_user, _body())
    location = f"{request.url_root.rstrip('/')}/fhir/Subscription/{row.id}"
    return _fhir(as_resource(row), 201, Location=location)


@blueprint.get("/<subscription_id>")
@access.authenticated
def read(subscription_id: str) -> Response:
    return _fhir(as_resource(get_subscription(current_user, subscription_id)))


@blueprint.get("")
@access.authenticated
def search() -> Response:
    rows = subscriptions_of(current_user, request.args.get("status"))
    return _fhir(
        {
            "resourceType": "Bundle",
            "type": "searchset",
            "total": len(rows),
            "entry": [
                {
                    "fullUrl": f"{request.url_root.rstrip('/')}/fhir/Subscription/{row.id}",
                    "resource": as_resource(row),
                    "search": {"mode": "match"},
                }
                for row in rows
            ],
        }
    )


def _status_answer(rows: list[FhirSubscription]) -> Response:
    base = request.url_root.rstrip("/") + "/fhir"
    return _fhir(_status_bundle(base, [status_of(row) for row in rows]))


@blueprint.get("/$status")
@access.authenticated
def status_of_type() -> Response:
    """``$status`` on the type: the caller's subscriptions (``id``, ``status`` filters)."""
    ids = [i for value in request.args.getlist("id") for i in value.split(",")]
    statuses = [c for value in request.args.getlist("status") for c in value.split(",")]
    return _status_answer(statuses_of(current_user, ids, statuses))


@blueprint.get("/<subscription_id>/$status")
@access.authenticated
def status_of_instance(subscription_id: str) -> Response:
    """``$status`` on one of the caller's subscriptions (anyone else's: 404)."""
    return _status_answer([get_subscription(current_user, subscription_id)])


@blueprint.delete("/<subscription_id>")
@access.authenticated
def remove(subscription_id: str) -> Response:
    delete_subscription(current_user, subscription_id)
    return Response(status=204)


def init_app() -> None:
    """Hook into the referral notifications and the outbox worker (idempotent)."""
    notifications.STATUS_LISTENERS[KIND] = enqueue_task_status
    for kind in (KIND, HANDSHAKE, HEARTBEAT):
        notifications.DELIVERERS[kind] = deliver
    commands.PASS_HOOKS["heartbeats"] = queue_heartbeats
