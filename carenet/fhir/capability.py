"""GET /fhir/metadata: the CapabilityStatement, built from the same tables the views dispatch
on (``INTERACTIONS``, ``SEARCH_PARAMS``), so it claims exactly what the server does."""

from __future__ import annotations

from typing import Any

from carenet.fhir import smart, subscription_status, topics
from carenet.fhir.codes import FHIR_JSON, FHIR_VERSION, PROFILE

# resource type → interactions the server answers
INTERACTIONS: dict[str, tuple[str, ...]] = {
    "Patient": ("read", "search-type", "create"),
    "Consent": ("read", "search-type", "create"),
    "Condition": ("read", "search-type"),
    "QuestionnaireResponse": ("read", "search-type"),
    "Observation": ("read", "search-type"),
    "ServiceRequest": ("read", "search-type", "create"),
    "Task": ("read", "search-type", "create", "update"),
    "Procedure": ("read", "search-type"),
    "Organization": ("read", "search-type"),
    "Location": ("read", "search-type"),
    "HealthcareService": ("read", "search-type"),
}
# resource type → search parameter → FHIR type
SEARCH_PARAMS: dict[str, dict[str, str]] = {
    "Patient": {
        "_id": "token",
        "identifier": "token",
        "name": "string",
        "family": "string",
        "given": "string",
        "birthdate": "date",
    },
    "Consent": {"_id": "token", "patient": "reference"},
    "Condition": {"_id": "token", "patient": "reference"},
    "QuestionnaireResponse": {"_id": "token", "patient": "reference"},
    "Observation": {"_id": "token", "patient": "reference"},
    "ServiceRequest": {
        "_id": "token",
        "patient": "reference",
        "status": "token",
        "category": "token",
    },
    "Task": {
        "_id": "token",
        "owner": "reference",
        "requester": "reference",
        "status": "token",
        "focus": "reference",
        "patient": "reference",
        "_lastUpdated": "date",
    },
    "Procedure": {"_id": "token", "patient": "reference"},
    "Organization": {"_id": "token", "name": "string"},
    "Location": {"_id": "token", "organization": "reference"},
    "HealthcareService": {
        "_id": "token",
        "location": "reference",
        "category": "token",
        "organization": "reference",
    },
}
INCLUDES = {"Task": ["Task:focus"]}
VERSIONED = frozenset({"Task", "ServiceRequest"})  # meta.versionId, ETag, If-Match


def capability_statement(base_url: str, software_version: str) -> dict[str, Any]:
    resources = []
    for resource_type, interactions in INTERACTIONS.items():
        entry: dict[str, Any] = {
            "type": resource_type,
            "profile": PROFILE[resource_type],
            "interaction": [{"code": code} for code in interactions],
            "versioning": "versioned-update" if resource_type in VERSIONED else "no-version",
            "readHistory": False,
            "updateCreate": False,
            "conditionalCreate": False,
            "conditionalUpdate": False,
            "conditionalDelete": "not-supported",
            "searchParam": [
                {"name": name, "type": kind}
                for name, kind in SEARCH_PARAMS.get(resource_type, {}).items()
            ],
        }
        if resource_type in INCLUDES:
            entry["searchInclude"] = INCLUDES[resource_type]
        resources.append(entry)
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": "2026-12-02",
        "publisher": "carenet",
        "kind": "instance",
        "software": {"name": "carenet", "version": software_version},
        "implementation": {"description": "carenet FHIR R4 endpoint", "url": base_url},
        "fhirVersion": FHIR_VERSION,
        "format": [FHIR_JSON, "application/json"],
        "implementationGuide": [
            "http://hl7.org/fhir/us/sdoh-clinicalcare/ImplementationGuide/hl7.fhir.us.sdoh-clinicalcare"
        ],
        "rest": [
            {
                "mode": "server",
                "security": smart.capability_security(base_url),
                "resource": [
                    *resources,
                    {
                        **topics.capability_resource(),
                        "operation": subscription_status.capability_operation(),
                    },
                ],
                "interaction": [{"code": "transaction"}],
            }
        ],
    }
