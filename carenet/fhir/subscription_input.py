"""Reading a Subscription resource (R4 + Subscriptions R5 Backport IG) into the fields of a
new subscription; every refusal names the element (``SubscriptionRefused``, answered as an
OperationOutcome by ``carenet.fhir.subscriptions``).

What is read: ``criteria`` (a topic of ``carenet.fhir.topics``), ``status`` (requested or
active), ``reason``, ``end`` and the rest-hook ``channel``: endpoint, headers, payload and
its ``backport-payload-content`` (id-only or empty), and ``channel.extension``
``backport-heartbeat-period`` (seconds between heartbeats, ``MIN_HEARTBEAT``–``MAX_HEARTBEAT``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from flask import current_app

from carenet.db.types import as_utc, utcnow
from carenet.errors import DomainError
from carenet.fhir import topics

FHIR_JSON = "application/fhir+json"
CONTENTS = ("id-only", "empty")
MAX_HEADERS = 10
MAX_HEADER_LENGTH = 1024
MAX_ENDPOINT_LENGTH = 255
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")
B = topics.BACKPORT
HEARTBEAT_URL = f"{B}/backport-heartbeat-period"
MIN_HEARTBEAT = 60  # seconds: a minute at least ...
MAX_HEARTBEAT = 86_400  # ... a day at most


class SubscriptionRefused(DomainError):
    """A refused Subscription request: answered as an OperationOutcome naming the element."""

    def __init__(self, status: int, detail: str, expression: str, code: str = "invalid") -> None:
        super().__init__(detail)
        self.status, self.expression, self.code = status, expression, code


# --- reading a Subscription resource -------------------------------------------------


def refuse(detail: str, expression: str, code: str = "invalid", status: int = 400) -> None:
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
        refuse(f"An endpoint URL of at most {MAX_ENDPOINT_LENGTH} characters.", where)
    assert isinstance(value, str)
    try:
        parts = urlsplit(value)
        host, _port = parts.hostname, parts.port
    except ValueError:
        host = None
    if host is None or any(ord(c) < 33 or ord(c) > 126 for c in value) or parts.username:
        refuse("The endpoint is not a usable URL.", where)
    local = current_app.config.get("ENV_NAME") in ("development", "test") and host in LOCAL_HOSTS
    if parts.scheme != "https" and not (parts.scheme == "http" and local):
        refuse("The endpoint must be https (http only to this machine in development).", where)
    return value


def parse_headers(value: Any) -> list[str]:
    where = "Subscription.channel.header"
    if value is None:
        return []
    if not isinstance(value, list) or len(value) > MAX_HEADERS:
        refuse(f"At most {MAX_HEADERS} headers, as a list of strings.", where)
    headers = []
    for item in value:
        if not isinstance(item, str) or len(item) > MAX_HEADER_LENGTH:
            refuse("Each header is a string 'Name: value'.", where)
        name, sep, _ = item.partition(":")
        printable = all(31 < ord(c) < 127 for c in item)
        if not sep or not name.strip() or " " in name.strip() or not printable:
            refuse("Each header is 'Name: value' in printable ASCII.", where)
        headers.append(item)
    return headers


def parse_heartbeat(channel: dict[str, Any]) -> int | None:
    """``channel.extension`` ``backport-heartbeat-period``: whole seconds, a minute to a day."""
    extensions = channel.get("extension")
    if extensions is None:
        return None
    if not isinstance(extensions, list) or not all(isinstance(e, dict) for e in extensions):
        refuse("channel.extension is a list of extensions.", "Subscription.channel.extension")
    found = [e for e in extensions if e.get("url") == HEARTBEAT_URL]
    where = f"Subscription.channel.extension('{HEARTBEAT_URL}')"
    if not found:
        return None
    if len(found) > 1:
        refuse("One heartbeat period at most.", where)
    value = found[0].get("valueUnsignedInt")
    if not isinstance(value, int) or isinstance(value, bool):
        refuse("The heartbeat period is a valueUnsignedInt (seconds).", where)
    assert isinstance(value, int)
    if not MIN_HEARTBEAT <= value <= MAX_HEARTBEAT:
        refuse(
            f"The heartbeat period is {MIN_HEARTBEAT} to {MAX_HEARTBEAT} seconds.",
            where,
            "not-supported",
        )
    return value


def _parse_channel(channel: Any) -> dict[str, Any]:
    if not isinstance(channel, dict):
        refuse("A channel is required.", "Subscription.channel")
    if channel.get("type") != "rest-hook":
        refuse("Only rest-hook channels.", "Subscription.channel.type", "not-supported")
    payload = channel.get("payload", FHIR_JSON)
    if payload not in (FHIR_JSON, "application/json"):
        refuse(f"The payload is {FHIR_JSON}.", "Subscription.channel.payload", "not-supported")
    content = _extension_code(channel.get("_payload"), f"{B}/backport-payload-content")
    if content is None:
        content = "id-only"
    if content not in CONTENTS:
        refuse(
            "Payload content id-only or empty (full-resource is not offered).",
            "Subscription.channel.payload",
            "not-supported",
        )
    return {
        "endpoint": parse_endpoint(channel.get("endpoint")),
        "headers": parse_headers(channel.get("header")),
        "content": content,
        "heartbeat_period": parse_heartbeat(channel),
    }


def _parse_end(value: Any) -> datetime | None:
    if value is None:
        return None
    try:
        end = as_utc(datetime.fromisoformat(str(value).replace("Z", "+00:00")))
    except (ValueError, OverflowError):
        end = None
    if end is None or end <= utcnow():
        refuse("end is an instant in the future.", "Subscription.end")
    return end


def parse_subscription(body: Any) -> dict[str, Any]:
    """The fields of a new subscription from a Subscription resource; refusals name the
    element (``SubscriptionRefused``)."""
    if not isinstance(body, dict) or body.get("resourceType") != "Subscription":
        refuse("The body is a Subscription resource.", "Subscription")
    criteria = body.get("criteria")
    if not isinstance(criteria, str) or not topics.known(criteria):
        refuse(
            f"criteria is a topic canonical: {', '.join(topics.TOPICS)}.",
            "Subscription.criteria",
            "not-supported",
        )
    if isinstance(body.get("_criteria"), dict) and body["_criteria"].get("extension"):
        refuse("Filters on the topic are not offered.", "Subscription.criteria", "not-supported")
    if body.get("status", "requested") not in ("requested", "active"):
        refuse("A new subscription is requested (or active).", "Subscription.status")
    channel = _parse_channel(body.get("channel"))
    reason = body.get("reason")
    if reason is not None and (not isinstance(reason, str) or len(reason) > 1000):
        refuse("reason is a string of at most 1000 characters.", "Subscription.reason")
    return {
        "topic": criteria,
        **channel,
        "reason": reason,
        "end_at": _parse_end(body.get("end")),
    }
