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
- The worker hands ``fhir-rest-hook`` messages to ``deliver`` (POST to the endpoint with
  the subscription's headers); leases, retries with backoff and dead letters are the
  outbox's.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
import uuid
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

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
from carenet.errors import DomainError
from carenet.extensions import Model, db
from carenet.fhir import topics
from carenet.referrals import notifications
from carenet.referrals.models import OutboxMessage, Referral

FHIR_JSON = "application/fhir+json"
KIND = "fhir-rest-hook"
CONTENTS = ("id-only", "empty")
STATUSES = ("active", "off", "error")
MAX_HEADERS = 10
MAX_HEADER_LENGTH = 1024
MAX_ENDPOINT_LENGTH = 255
MAX_BODY = 64 * 1024
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")
ORGANIZATION_ROLES = ("coordinator", "cbo_staff", "cbo_admin")
B = topics.BACKPORT


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


class SubscriptionRefused(DomainError):
    """A refused Subscription request: answered as an OperationOutcome naming the element."""

    def __init__(self, status: int, detail: str, expression: str, code: str = "invalid") -> None:
        super().__init__(detail)
        self.status, self.expression, self.code = status, expression, code


# --- reading a Subscription resource -------------------------------------------------


def _refuse(detail: str, expression: str, code: str = "invalid", status: int = 400) -> None:
    raise SubscriptionRefused(status, detail, expression, code)


def _extension_code(element: Any, url: str) -> str | None:
    if not isinstance(element, dict):
        return None
    for ext in element.get("extension") or []:
        if isinstance(ext, dict) and ext.get("url") == url:
            value = ext.get("valueCode")
            return value if isinstance(value, str) else ""
    return None


def parse_endpoint(value: Any) -> str:
    """An https URL, or http to this machine in development and tests."""
    where = "Subscription.channel.endpoint"
    if not isinstance(value, str) or not value or len(value) > MAX_ENDPOINT_LENGTH:
        _refuse(f"An endpoint URL of at most {MAX_ENDPOINT_LENGTH} characters.", where)
    assert isinstance(value, str)
    try:
        parts = urlsplit(value)
        host, _port = parts.hostname, parts.port
    except ValueError:
        host = None
    if host is None or any(ord(c) < 33 or ord(c) > 126 for c in value) or parts.username:
        _refuse("The endpoint is not a usable URL.", where)
    local = current_app.config.get("ENV_NAME") in ("development", "test") and host in LOCAL_HOSTS
    if parts.scheme != "https" and not (parts.scheme == "http" and local):
        _refuse("The endpoint must be https (http only to this machine in development).", where)
    return value


def parse_headers(value: Any) -> list[str]:
    where = "Subscription.channel.header"
    if value is None:
        return []
    if not isinstance(value, list) or len(value) > MAX_HEADERS:
        _refuse(f"At most {MAX_HEADERS} headers, as a list of strings.", where)
    headers = []
    for item in value:
        if not isinstance(item, str) or len(item) > MAX_HEADER_LENGTH:
            _refuse("Each header is a string 'Name: value'.", where)
        name, sep, _ = item.partition(":")
        printable = all(31 < ord(c) < 127 for c in item)
        if not sep or not name.strip() or " " in name.strip() or not printable:
            _refuse("Each header is 'Name: value' in printable ASCII.", where)
        headers.append(item)
    return headers


def _parse_channel(channel: Any) -> tuple[str, list[str], str]:
    if not isinstance(channel, dict):
        _refuse("A channel is required.", "Subscription.channel")
    if channel.get("type") != "rest-hook":
        _refuse("Only rest-hook channels.", "Subscription.channel.type", "not-supported")
    payload = channel.get("payload", FHIR_JSON)
    if payload not in (FHIR_JSON, "application/json"):
        _refuse(f"The payload is {FHIR_JSON}.", "Subscription.channel.payload", "not-supported")
    content = _extension_code(channel.get("_payload"), f"{B}/backport-payload-content")
    if content is None:
        content = "id-only"
    if content not in CONTENTS:
        _refuse(
            "Payload content id-only or empty (full-resource is not offered).",
            "Subscription.channel.payload",
            "not-supported",
        )
    endpoint = parse_endpoint(channel.get("endpoint"))
    return endpoint, parse_headers(channel.get("header")), content


def _parse_end(value: Any) -> datetime | None:
    if value is None:
        return None
    try:
        end = as_utc(datetime.fromisoformat(str(value).replace("Z", "+00:00")))
    except (ValueError, OverflowError):
        end = None
    if end is None or end <= utcnow():
        _refuse("end is an instant in the future.", "Subscription.end")
    return end


def parse_subscription(body: Any) -> dict[str, Any]:
    """The fields of a new subscription from a Subscription resource; refusals name the
    element (``SubscriptionRefused``)."""
    if not isinstance(body, dict) or body.get("resourceType") != "Subscription":
        _refuse("The body is a Subscription resource.", "Subscription")
    criteria = body.get("criteria")
    if not isinstance(criteria, str) or not topics.known(criteria):
        _refuse(
            f"criteria is a topic canonical: {', '.join(topics.TOPICS)}.",
            "Subscription.criteria",
            "not-supported",
        )
    if isinstance(body.get("_criteria"), dict) and body["_criteria"].get("extension"):
        _refuse("Filters on the topic are not offered.", "Subscription.criteria", "not-supported")
    if body.get("status", "requested") not in ("requested", "active"):
        _refuse("A new subscription is requested (or active).", "Subscription.status")
    endpoint, headers, content = _parse_channel(body.get("channel"))
    reason = body.get("reason")
    if reason is not None and (not isinstance(reason, str) or len(reason) > 1000):
        _refuse("reason is a string of at most 1000 characters.", "Subscription.reason")
    return {
        "topic": criteria,
        "endpoint": endpoint,
        "headers": headers,
        "content": content,
        "reason": reason,
        "end_at": _parse_end(body.get("end")),
    }


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
        row = FhirSubscription(
            owner_id=actor.id, organization_id=organization_id, status="active", **fields
        )
        row.events_since_start = 0
        db.session.add(row)
        db.session.flush()
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


def delete_subscription(actor: Actor, subscription_id: str) -> None:
    def work() -> None:
        row = get_subscription(actor, subscription_id)
        db.session.delete(row)
        audit.record(actor, "delete", "fhir_subscription", row.id, None, row.organization_id)

    run_in_transaction(work)


# --- notifications -----------------------------------------------------------------


def fhir_base() -> str:
    return str(current_app.config.get("BASE_URL") or "").rstrip("/") + "/fhir"


def _live(now: datetime) -> Any:
    return (
        (FhirSubscription.topic == topics.TASK_STATUS_TOPIC)
        & (FhirSubscription.status == "active")
        & ((FhirSubscription.end_at.is_(None)) | (FhirSubscription.end_at > now))
    )


def enqueue_task_status(referral: Referral, status: str) -> int:
    """In the move's transaction: one outbox message per live subscription whose owner may
    see the referral; returns how many."""
    now = utcnow()
    rows = db.session.execute(
        select(FhirSubscription.id, FhirSubscription.owner_id).where(_live(now))
    ).all()
    queued = 0
    for subscription_id, owner_id in rows:
        owner = db.session.get(User, owner_id)
        if owner is None or not owner.active or not policy.allows("view", owner, referral):
            continue
        number = db.session.execute(
            update(FhirSubscription)
            .where(FhirSubscription.id == subscription_id)
            .values(events_since_start=FhirSubscription.events_since_start + 1)
            .returning(FhirSubscription.events_since_start, FhirSubscription.endpoint)
            .execution_options(synchronize_session=False)
        ).one()
        content = db.session.scalar(
            select(FhirSubscription.content).where(FhirSubscription.id == subscription_id)
        )
        bundle = notification_bundle(
            subscription_id, int(number[0]), referral.id, now, content or "id-only"
        )
        db.session.add(
            OutboxMessage(
                message_id=f"<{KIND}.{uuid.uuid4().hex}@carenet>",
                kind=KIND,
                recipient=str(number[1]),
                subject=f"Subscription/{subscription_id}",
                body=json.dumps(bundle, separators=(",", ":")),
                referral_id=referral.id,
                status="pending",
                attempts=0,
                next_attempt_at=now,
            )
        )
        queued += 1
    return queued


def notification_bundle(
    subscription_id: str, number: int, task_id: str, at: datetime, content: str = "id-only"
) -> dict[str, Any]:
    """The R4 backport notification: a ``history`` Bundle whose first entry is the
    SubscriptionStatus (``Parameters``), then (id-only) the focus Task without its body."""
    base = fhir_base()
    stamp = at.isoformat().replace("+00:00", "Z")
    event: list[dict[str, Any]] = [
        {"name": "event-number", "valueString": str(number)},
        {"name": "timestamp", "valueInstant": stamp},
    ]
    if content == "id-only":
        event.append({"name": "focus", "valueReference": {"reference": f"{base}/Task/{task_id}"}})
    status = {
        "resourceType": "Parameters",
        "id": str(uuid.uuid4()),
        "meta": {"profile": [f"{B}/backport-subscription-status-r4"]},
        "parameter": [
            {
                "name": "subscription",
                "valueReference": {"reference": f"{base}/Subscription/{subscription_id}"},
            },
            {"name": "topic", "valueCanonical": topics.TASK_STATUS_TOPIC},
            {"name": "status", "valueCode": "active"},
            {"name": "type", "valueCode": "event-notification"},
            {"name": "events-since-subscription-start", "valueString": str(number)},
            {"name": "notification-event", "part": event},
        ],
    }
    entries: list[dict[str, Any]] = [
        {
            "fullUrl": f"urn:uuid:{status['id']}",
            "resource": status,
            "request": {"method": "GET", "url": f"{base}/Subscription/{subscription_id}/$status"},
            "response": {"status": "200"},
        }
    ]
    if content == "id-only":
        entries.append(
            {
                "fullUrl": f"{base}/Task/{task_id}",
                "request": {"method": "PUT", "url": f"Task/{task_id}"},
                "response": {"status": "200"},
            }
        )
    return {
        "resourceType": "Bundle",
        "id": str(uuid.uuid4()),
        "meta": {"profile": [f"{B}/backport-subscription-notification-r4"]},
        "type": "history",
        "timestamp": stamp,
        "entry": entries,
    }


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
            _give_up(subscription_id, f"Delivery failed {message.attempts + 1} times: {exc}")
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


@blueprint.delete("/<subscription_id>")
@access.authenticated
def remove(subscription_id: str) -> Response:
    delete_subscription(current_user, subscription_id)
    return Response(status=204)


def init_app() -> None:
    """Hook into the referral notifications and the outbox worker (idempotent)."""
    notifications.STATUS_LISTENERS[KIND] = enqueue_task_status
    notifications.DELIVERERS[KIND] = deliver
