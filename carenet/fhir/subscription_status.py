"""The SubscriptionStatus of the Subscriptions R5 Backport IG on R4 (a ``Parameters`` of the
profile ``backport-subscription-status-r4``) and the Bundles that carry it:

- notifications (a ``history`` Bundle, the status first): ``handshake`` when a subscription
  is made, ``heartbeat`` when nothing was sent for its heartbeat period, and
  ``event-notification`` (then the focus Task, id-only);
- the ``$status`` operation's answer (a ``searchset`` Bundle, one status per subscription,
  type ``query-status``).

Pure builders: ids, counts and references in, JSON out (no database, no patient data).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from carenet.fhir import topics

B = topics.BACKPORT
STATUS_OPERATION = (
    "http://hl7.org/fhir/uv/subscriptions-backport/OperationDefinition/backport-subscription-status"
)
NOTIFICATION_TYPES = ("handshake", "heartbeat", "event-notification", "query-status")


@dataclass(frozen=True)
class StatusOf:
    """What a SubscriptionStatus tells of one subscription."""

    subscription_id: str
    topic: str
    status: str
    events: int  # events-since-subscription-start
    error: str | None = None


def instant(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


def status_parameters(
    base: str, of: StatusOf, kind: str, event: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """The ``backport-subscription-status-r4`` Parameters of ``kind`` (a notification type)."""
    parameter: list[dict[str, Any]] = [
        {
            "name": "subscription",
            "valueReference": {"reference": f"{base}/Subscription/{of.subscription_id}"},
        },
        {"name": "topic", "valueCanonical": of.topic},
        {"name": "status", "valueCode": of.status},
        {"name": "type", "valueCode": kind},
        {"name": "events-since-subscription-start", "valueString": str(of.events)},
    ]
    if event is not None:
        parameter.append({"name": "notification-event", "part": event})
    if of.error:
        parameter.append({"name": "error", "valueCodeableConcept": {"text": of.error[:1000]}})
    return {
        "resourceType": "Parameters",
        "id": str(uuid.uuid4()),
        "meta": {"profile": [f"{B}/backport-subscription-status-r4"]},
        "parameter": parameter,
    }


def notification_bundle(
    base: str, of: StatusOf, kind: str, at: datetime, entries: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """A notification (``history`` Bundle): the status first, then ``entries``."""
    return _notification(base, of, status_parameters(base, of, kind), at, entries or [])


def _notification(
    base: str, of: StatusOf, status: dict[str, Any], at: datetime, entries: list[dict[str, Any]]
) -> dict[str, Any]:
    first = {
        "fullUrl": f"urn:uuid:{status['id']}",
        "resource": status,
        "request": {"method": "GET", "url": f"{base}/Subscription/{of.subscription_id}/$status"},
        "response": {"status": "200"},
    }
    return {
        "resourceType": "Bundle",
        "id": str(uuid.uuid4()),
        "meta": {"profile": [f"{B}/backport-subscription-notification-r4"]},
        "type": "history",
        "timestamp": instant(at),
        "entry": [first, *entries],
    }


def event_bundle(
    base: str, of: StatusOf, task_id: str, at: datetime, content: str = "id-only"
) -> dict[str, Any]:
    """An event notification: event number ``of.events``, the focus ``Task/{task_id}`` (its
    reference and an entry without the resource when ``content`` is id-only)."""
    event: list[dict[str, Any]] = [
        {"name": "event-number", "valueString": str(of.events)},
        {"name": "timestamp", "valueInstant": instant(at)},
    ]
    entries: list[dict[str, Any]] = []
    if content == "id-only":
        event.append({"name": "focus", "valueReference": {"reference": f"{base}/Task/{task_id}"}})
        entries.append(
            {
                "fullUrl": f"{base}/Task/{task_id}",
                "request": {"method": "PUT", "url": f"Task/{task_id}"},
                "response": {"status": "200"},
            }
        )
    status = status_parameters(base, of, "event-notification", event)
    return _notification(base, of, status, at, entries)


def status_bundle(base: str, statuses: list[StatusOf]) -> dict[str, Any]:
    """The answer of ``$status``: a ``searchset`` of ``query-status`` statuses."""
    entries = []
    for of in statuses:
        resource = status_parameters(base, of, "query-status")
        entries.append(
            {
                "fullUrl": f"urn:uuid:{resource['id']}",
                "resource": resource,
                "search": {"mode": "match"},
            }
        )
    return {
        "resourceType": "Bundle",
        "id": str(uuid.uuid4()),
        "type": "searchset",
        "total": len(entries),
        "entry": entries,
    }


def capability_operation() -> list[dict[str, Any]]:
    """``CapabilityStatement.rest.resource.operation`` for Subscription: ``$status``."""
    return [{"name": "status", "definition": STATUS_OPERATION}]
