"""FHIR URLs and code systems, defined once: profiles of the SDOH Clinical Care guide (STU 2.x/3)
and US Core, the terminologies, and carenet's own systems for its identifiers and codes."""

from __future__ import annotations

FHIR_VERSION = "4.0.1"
FHIR_JSON = "application/fhir+json"

SDOHCC = "http://hl7.org/fhir/us/sdoh-clinicalcare"
PROFILE = {
    "Patient": "http://hl7.org/fhir/us/core/StructureDefinition/us-core-patient",
    "Consent": f"{SDOHCC}/StructureDefinition/SDOHCC-Consent",
    "Condition": f"{SDOHCC}/StructureDefinition/SDOHCC-Condition",
    "ServiceRequest": f"{SDOHCC}/StructureDefinition/SDOHCC-ServiceRequest",
    "Task": f"{SDOHCC}/StructureDefinition/SDOHCC-TaskForReferralManagement",
    "Procedure": f"{SDOHCC}/StructureDefinition/SDOHCC-Procedure",
    "QuestionnaireResponse": "http://hl7.org/fhir/us/sdc/StructureDefinition/sdc-questionnaireresponse",
    "Observation": f"{SDOHCC}/StructureDefinition/SDOHCC-ObservationScreeningResponse",
    "Organization": "http://hl7.org/fhir/us/core/StructureDefinition/us-core-organization",
    "Location": "http://hl7.org/fhir/us/core/StructureDefinition/us-core-location",
    "HealthcareService": (
        f"{SDOHCC}/StructureDefinition/SDOHCC-HealthcareServiceForReferralManagement"
    ),
}

SDOH_CATEGORY_SYSTEM = f"{SDOHCC}/CodeSystem/SDOHCC-CodeSystemTemporaryCodes"
SNOMED = "http://snomed.info/sct"
LOINC = "http://loinc.org"
TASK_CODE_SYSTEM = "http://hl7.org/fhir/CodeSystem/task-code"
CONDITION_CATEGORY = "http://terminology.hl7.org/CodeSystem/condition-category"
CONDITION_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
CONDITION_VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
CONSENT_SCOPE = "http://terminology.hl7.org/CodeSystem/consentscope"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
CONSENT_POLICY = "http://terminology.hl7.org/CodeSystem/consentpolicycodes"

CARENET = "https://carenet.example.org/fhir"
PATIENT_ID_SYSTEM = f"{CARENET}/sid/patient"
ORGANIZATION_ID_SYSTEM = f"{CARENET}/sid/organization"
STATUS_REASON_SYSTEM = f"{CARENET}/CodeSystem/referral-status-reason"
BUSINESS_STATUS_SYSTEM = f"{CARENET}/CodeSystem/referral-business-status"
CATEGORY_SYSTEM = "https://carenet.example.org/taxonomy/categories"

CAPACITY_EXTENSION = f"{SDOHCC}/StructureDefinition/SDOHCC-ExtensionHealthcareServiceCapacity"
CAPACITY_DISPLAY = {
    "capacity": "Has Capacity",
    "no-capacity": "No Capacity",
    "waitlist": "Waitlist",
    "additional-assessment-required": "Additional Assessment Required",
}
SOCIAL_SERVICE_PROCEDURE = {
    "system": SNOMED,
    "code": "410606002",
    "display": "Social service procedure",
}
FULFILL = {"system": TASK_CODE_SYSTEM, "code": "fulfill", "display": "Fulfill the focal request"}
RESULTING_ACTIVITY = {
    "system": SDOH_CATEGORY_SYSTEM,
    "code": "resulting-activity",
    "display": "Resulting Activity",
}


def sdoh_category(code: str) -> dict[str, object]:
    """A CodeableConcept of the guide's SDOH category code (e.g. ``food-insecurity``)."""
    display = code.replace("-", " ").title()
    return {"coding": [{"system": SDOH_CATEGORY_SYSTEM, "code": code, "display": display}]}
