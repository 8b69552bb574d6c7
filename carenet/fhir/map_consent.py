"""Consent (SDOHCC Consent) from each decision of a patient's consent history: a permit
(active, or inactive once superseded, expired or revoked) or a revocation (a deny)."""

from __future__ import annotations

from typing import Any

from carenet.fhir.codes import (
    ACT_CODE,
    CARENET,
    CONSENT_POLICY,
    CONSENT_SCOPE,
)
from carenet.fhir.resource import drop_empty, instant, meta, ref
from carenet.referrals.models import Consent

METHOD_EXTENSION = f"{CARENET}/StructureDefinition/consent-method"
REVOKES_EXTENSION = f"{CARENET}/StructureDefinition/consent-revokes"
STATUS_OF_STATE = {
    "active": "active",
    "pending": "proposed",
    "superseded": "inactive",
    "expired": "inactive",
    "revoked": "inactive",
    "revocation": "active",
}


def consent_resource(consent: Consent, state: str, organization_id: str) -> dict[str, Any]:
    """One decision; ``state`` from ``referrals.consent.consent_states``."""
    provision = drop_empty(
        {
            "type": consent.decision,
            "period": drop_empty(
                {"start": instant(consent.starts_at), "end": instant(consent.expires_at)}
            ),
        }
    )
    extensions: list[dict[str, Any]] = [{"url": METHOD_EXTENSION, "valueCode": consent.method}]
    if consent.decision == "deny" and consent.revokes_id:
        extensions.append(
            {"url": REVOKES_EXTENSION, "valueReference": ref("Consent", consent.revokes_id)}
        )
    return drop_empty(
        {
            "resourceType": "Consent",
            "id": consent.id,
            "meta": meta("Consent", consent.revoked_at or consent.recorded_at),
            "extension": extensions,
            "status": STATUS_OF_STATE.get(state, "inactive"),
            "scope": {
                "coding": [
                    {
                        "system": CONSENT_SCOPE,
                        "code": "patient-privacy",
                        "display": "Privacy Consent",
                    }
                ]
            },
            "category": [
                {
                    "coding": [
                        {"system": ACT_CODE, "code": "IDSCL", "display": "information disclosure"}
                    ]
                }
            ],
            "patient": ref("Patient", consent.patient_id),
            "dateTime": instant(consent.recorded_at),
            "organization": [ref("Organization", organization_id)],
            "sourceAttachment": {
                "contentType": "text/plain",
                "title": f"{consent.method} consent recorded in carenet",
            },
            "policyRule": {
                "coding": [{"system": CONSENT_POLICY, "code": "hipaa-auth"}],
            },
            "provision": provision,
        }
    )
