"""Condition (SDOHCC Condition) for each need: an SDOH health concern with its category."""

from __future__ import annotations

from typing import Any

from carenet.fhir.codes import (
    CONDITION_CATEGORY,
    CONDITION_CLINICAL,
    CONDITION_VERIFICATION,
    SDOH_CATEGORY_SYSTEM,
    sdoh_category,
)
from carenet.fhir.resource import drop_empty, instant, meta, ref
from carenet.referrals.models import Need

CLINICAL_STATUS = {"open": "active", "addressed": "resolved", "unmet": "active"}


def condition_resource(need: Need) -> dict[str, Any]:
    label = need.category.replace("-", " ").capitalize()
    clinical = CLINICAL_STATUS.get(need.status, "active")
    return drop_empty(
        {
            "resourceType": "Condition",
            "id": need.id,
            "meta": meta("Condition", need.updated_at),
            "clinicalStatus": {"coding": [{"system": CONDITION_CLINICAL, "code": clinical}]},
            "verificationStatus": {
                "coding": [{"system": CONDITION_VERIFICATION, "code": "confirmed"}]
            },
            "category": [
                {
                    "coding": [
                        {
                            "system": CONDITION_CATEGORY,
                            "code": "health-concern",
                            "display": "Health Concern",
                        }
                    ]
                },
                sdoh_category(need.category),
            ],
            "code": {
                "coding": [{"system": SDOH_CATEGORY_SYSTEM, "code": need.category}],
                "text": label,
            },
            "subject": ref("Patient", need.patient_id),
            "onsetDateTime": instant(need.created_at),
            "abatementDateTime": instant(need.updated_at) if clinical == "resolved" else None,
            "recordedDate": instant(need.created_at),
            "evidence": (
                [{"detail": [ref("QuestionnaireResponse", need.screening_id)]}]
                if need.screening_id
                else None
            ),
        }
    )
