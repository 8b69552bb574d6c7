"""Organization, Location and HealthcareService: a read-only view of the HSDS directory
(the same rows as the public pages and /api/v1/services); capacity as the guide codes it."""

from __future__ import annotations

from typing import Any

from carenet.directory.models import Location, Organization, Service
from carenet.directory.taxonomy import category_for
from carenet.fhir.codes import (
    CAPACITY_DISPLAY,
    CAPACITY_EXTENSION,
    CATEGORY_SYSTEM,
    ORGANIZATION_ID_SYSTEM,
    SDOH_CATEGORY_SYSTEM,
    sdoh_category,
)
from carenet.fhir.resource import drop_empty, meta, ref

ORGANIZATION_TYPE = {
    "care": ("prov", "Healthcare Provider"),
    "community": ("cg", "Community Group"),
    "network": ("other", "Other"),
}


def _telecom(phones: list[Any], email: str | None, url: str | None) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = [{"system": "phone", "value": p.number} for p in phones]
    if email:
        found.append({"system": "email", "value": email})
    if url:
        found.append({"system": "url", "value": url})
    return found


def organization_resource(organization: Organization) -> dict[str, Any]:
    code, display = ORGANIZATION_TYPE.get(organization.kind, ("other", "Other"))
    return drop_empty(
        {
            "resourceType": "Organization",
            "id": organization.id,
            "meta": meta("Organization", organization.updated_at),
            "identifier": [{"system": ORGANIZATION_ID_SYSTEM, "value": organization.id}],
            "active": True,
            "type": [
                {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/organization-type",
                            "code": code,
                            "display": display,
                        }
                    ]
                }
            ],
            "name": organization.name,
            "alias": [organization.alternate_name] if organization.alternate_name else None,
            "telecom": _telecom(organization.phones, organization.email, organization.website),
        }
    )


def _address(location: Location) -> dict[str, Any] | None:
    address = location.physical_address
    if address is None:
        return None
    return drop_empty(
        {
            "line": [line for line in (address.address_1, address.address_2) if line],
            "city": address.city,
            "state": address.state_province,
            "postalCode": address.postal_code,
            "country": address.country,
        }
    )


def location_resource(location: Location) -> dict[str, Any]:
    position = None
    if location.latitude is not None and location.longitude is not None:
        position = {"latitude": location.latitude, "longitude": location.longitude}
    return drop_empty(
        {
            "resourceType": "Location",
            "id": location.id,
            "meta": meta("Location", location.updated_at),
            "status": "active",
            "name": location.name,
            "alias": [location.alternate_name] if location.alternate_name else None,
            "description": location.description,
            "mode": "instance",
            "address": _address(location),
            "position": position,
            "managingOrganization": (
                ref("Organization", location.organization_id) if location.organization_id else None
            ),
        }
    )


US_CORE_SDOH = {
    "system": "http://hl7.org/fhir/us/core/CodeSystem/us-core-category",
    "code": "sdoh",
    "display": "SDOH",
}


def _service_categories(service: Service) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = [{"coding": [US_CORE_SDOH]}]
    seen: set[str] = set()
    for slug in service.category_slugs:
        category = category_for(slug)
        if category is None:
            continue
        if category.sdoh_code not in seen:
            seen.add(category.sdoh_code)
            found.append(sdoh_category(category.sdoh_code))
        found.append(
            {"coding": [{"system": CATEGORY_SYSTEM, "code": slug, "display": category.name}]}
        )
    return found


def _capacity(status: str) -> dict[str, Any]:
    """The guide's capacity extension (capacityStatus: capacity, no-capacity, waitlist,
    additional-assessment-required — carenet's own capacity states)."""
    coding = {"system": SDOH_CATEGORY_SYSTEM, "code": status}
    if status in CAPACITY_DISPLAY:
        coding["display"] = CAPACITY_DISPLAY[status]
    return {
        "url": CAPACITY_EXTENSION,
        "extension": [{"url": "capacityStatus", "valueCodeableConcept": {"coding": [coding]}}],
    }


def healthcare_service_resource(service: Service, location_ids: list[str]) -> dict[str, Any]:
    """``location_ids``: the service's locations the caller may see (confidential ones not)."""
    return drop_empty(
        {
            "resourceType": "HealthcareService",
            "id": service.id,
            "meta": meta("HealthcareService", service.updated_at),
            "active": service.status == "active",
            "providedBy": ref("Organization", service.organization_id),
            "category": _service_categories(service),
            "location": [ref("Location", location_id) for location_id in location_ids],
            "name": service.name,
            "comment": service.description,
            "telecom": _telecom(service.phones, service.email, service.url),
            "extension": [_capacity(service.capacity_status)],
            "eligibility": (
                [{"comment": service.eligibility_description}]
                if service.eligibility_description
                else None
            ),
            "programName": [service.alternate_name] if service.alternate_name else None,
            "communication": [
                {"coding": [{"system": "urn:ietf:bcp:47", "code": lang.code}]}
                for lang in service.languages
            ],
            "appointmentRequired": bool(service.application_process) or None,
        }
    )
