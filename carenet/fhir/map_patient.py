"""Patient (US Core shape) from a ``patient`` row: HumanName, identifier = carenet's id."""

from __future__ import annotations

from typing import Any

from carenet.fhir.codes import PATIENT_ID_SYSTEM
from carenet.fhir.resource import day, drop_empty, meta, ref
from carenet.referrals.models import Patient


def patient_resource(patient: Patient) -> dict[str, Any]:
    telecom = []
    if patient.phone:
        telecom.append({"system": "phone", "value": patient.phone, "use": "home"})
    if patient.email:
        telecom.append({"system": "email", "value": patient.email})
    address = drop_empty(
        {
            "use": "home",
            "line": [patient.address_1] if patient.address_1 else None,
            "city": patient.city,
            "state": patient.state_province,
            "postalCode": patient.postal_code,
            "country": "US" if patient.address_line else None,
        }
    )
    language = None
    if patient.preferred_language:
        language = [
            {
                "language": {
                    "coding": [{"system": "urn:ietf:bcp:47", "code": patient.preferred_language}]
                },
                "preferred": True,
            }
        ]
    return drop_empty(
        {
            "resourceType": "Patient",
            "id": patient.id,
            "meta": meta("Patient", patient.updated_at),
            "identifier": [{"system": PATIENT_ID_SYSTEM, "value": patient.id}],
            "active": True,
            "name": [
                {
                    "use": "official",
                    "family": patient.family_name,
                    "given": [patient.given_name],
                    "text": patient.name,
                }
            ],
            "birthDate": day(patient.birth_date),
            "telecom": telecom,
            "address": [address] if len(address) > 2 else None,
            "communication": language,
            "managingOrganization": ref("Organization", patient.organization_id),
        }
    )
