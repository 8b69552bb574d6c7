"""The subscription topics carenet offers (Subscriptions R5 Backport IG, on FHIR R4).

One topic: a referral's Task changed status. A Subscription names it by its canonical in
``Subscription.criteria``; the CapabilityStatement lists it with the backport extension
``capabilitystatement-subscriptiontopic-canonical`` on the Subscription resource
(``capability_extension``), and docs/fhir-access.md describes it.
"""

from __future__ import annotations

from typing import Any

BACKPORT = "http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition"
TASK_STATUS_TOPIC = "http://carenet.org/fhir/SubscriptionTopic/referral-task-status"
TOPICS = {
    TASK_STATUS_TOPIC: {
        "title": "Referral Task status changed",
        "resource": "Task",
        "description": (
            "A Task for referral management (SDOHCC) moved to another status: accepted, "
            "rejected, in-progress, on-hold, completed, failed or cancelled. The "
            "notification's focus is the Task."
        ),
    }
}


def known(canonical: str) -> bool:
    return canonical in TOPICS


def capability_extension() -> list[dict[str, Any]]:
    """Extensions for ``CapabilityStatement.rest.resource`` (type Subscription): the topics."""
    return [
        {
            "url": f"{BACKPORT}/capabilitystatement-subscriptiontopic-canonical",
            "valueCanonical": canonical,
        }
        for canonical in TOPICS
    ]


def capability_resource() -> dict[str, Any]:
    """The CapabilityStatement entry for Subscription (R4 + backport), with the topics."""
    return {
        "type": "Subscription",
        "profile": f"{BACKPORT}/backport-subscription",
        "extension": capability_extension(),
        "interaction": [{"code": code} for code in ("create", "read", "search-type", "delete")],
        "versioning": "no-version",
        "searchParam": [{"name": "status", "type": "token"}],
    }
