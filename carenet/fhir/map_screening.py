"""An AHC HRSN screening (LOINC panel 96777-8) as a QuestionnaireResponse and one Observation
per answered question (LOINC question code, LOINC answer codes), from the ``screening`` row."""

from __future__ import annotations

from typing import Any

from carenet.fhir.codes import LOINC, OBSERVATION_CATEGORY
from carenet.fhir.resource import drop_empty, instant, meta, ref
from carenet.referrals.models import Screening
from carenet.screening import ahc

QUESTIONNAIRE = "http://loinc.org/q/96777-8"


def _answers(code: str, value: Any) -> list[dict[str, Any]]:
    question = ahc.BY_CODE.get(code)
    labels = dict(question.options) if question else {}
    values = value if isinstance(value, list) else [value]
    return [
        {"system": LOINC, "code": str(v), "display": labels.get(str(v), str(v))} for v in values
    ]


def questionnaire_response_resource(screening: Screening) -> dict[str, Any]:
    items = []
    for code, value in sorted(screening.answers.items()):
        question = ahc.BY_CODE.get(code)
        items.append(
            drop_empty(
                {
                    "linkId": code,
                    "text": question.text if question else None,
                    "answer": [{"valueCoding": coding} for coding in _answers(code, value)],
                }
            )
        )
    return drop_empty(
        {
            "resourceType": "QuestionnaireResponse",
            "id": screening.id,
            "meta": meta("QuestionnaireResponse", screening.screened_at),
            "questionnaire": QUESTIONNAIRE,
            "status": "completed",
            "subject": ref("Patient", screening.patient_id),
            "authored": instant(screening.screened_at),
            "item": items,
        }
    )


def observation_id(screening: Screening, code: str) -> str:
    return f"{screening.id}.{code}"


def observation_resources(screening: Screening) -> list[dict[str, Any]]:
    found = []
    for code, value in sorted(screening.answers.items()):
        question = ahc.BY_CODE.get(code)
        codings = _answers(code, value)
        found.append(
            drop_empty(
                {
                    "resourceType": "Observation",
                    "id": observation_id(screening, code),
                    "meta": meta("Observation", screening.screened_at),
                    "status": "final",
                    "category": [
                        {"coding": [{"system": OBSERVATION_CATEGORY, "code": "social-history"}]},
                        {"coding": [{"system": OBSERVATION_CATEGORY, "code": "survey"}]},
                    ],
                    "code": {
                        "coding": [{"system": LOINC, "code": code}],
                        "text": question.text if question else None,
                    },
                    "subject": ref("Patient", screening.patient_id),
                    "effectiveDateTime": instant(screening.screened_at),
                    "valueCodeableConcept": {"coding": codings},
                    "derivedFrom": [ref("QuestionnaireResponse", screening.id)],
                }
            )
        )
    return found
