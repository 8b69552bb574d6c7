"""Searches: searchset Bundles with paging links, each parameter the CapabilityStatement
claims, the directory as HealthcareService/Location/Organization; every entry parses."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from factories import ServiceFactory
from integration.fhir.conftest import parse

from carenet.directory.models import Organization
from carenet.extensions import db
from carenet.fhir.codes import PATIENT_ID_SYSTEM
from carenet.referrals.service import ReferralRequest, send_referral


def _bundle(client: Any, url: str, headers: dict[str, str]) -> dict[str, Any]:
    response = client.get(url, headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json(force=True)
    parse(body)
    assert body["type"] == "searchset"
    return body


def _ids(bundle: dict[str, Any], kind: str | None = None) -> list[str]:
    return [
        e["resource"]["id"]
        for e in bundle.get("entry", [])
        if kind is None or e["resource"]["resourceType"] == kind
    ]


def _next(bundle: dict[str, Any]) -> str | None:
    for link in bundle["link"]:
        if link["relation"] == "next":
            parts = urlsplit(link["url"])
            return f"{parts.path}?{parts.query}"
    return None


def test_searches_and_paging(app, fnet, auth):
    with app.app_context():
        cbo = db.session.get(Organization, fnet.orgs["cbo_b"])
        pantries = [
            ServiceFactory(organization=cbo, name=f"Pantry {i}", categories=["food-pantry"])
            for i in range(3)
        ]
        ServiceFactory(organization=cbo, name="Housing B", categories=["housing"])
        location = pantries[0].service_at_locations[0].location_id
        db.session.commit()
        pantry_ids = [p.id for p in pantries]
        coordinator = fnet.user("coordinator")
        sent = [
            send_referral(
                coordinator,
                ReferralRequest(fnet.patient, fnet.services[name], category="food-insecurity"),
            ).referral.id
            for name in ("open", "b")
        ]
    client = app.test_client()
    ehr, cbo_a = auth["coordinator"], auth["staff_a"]

    # the directory, two to a page, followed to the end
    url = "/fhir/HealthcareService?category=food-insecurity&_count=2"
    seen: list[str] = []
    while url:
        page = _bundle(client, url, ehr)
        assert page["total"] == 3
        seen += _ids(page)
        url = _next(page)
    assert sorted(seen) == sorted(pantry_ids)
    at = _bundle(client, f"/fhir/HealthcareService?location=Location/{location}", ehr)
    assert _ids(at) == [pantry_ids[0]]
    where = _bundle(client, f"/fhir/Location?organization={fnet.orgs['cbo_b']}", ehr)
    assert location in _ids(where)
    assert _bundle(client, "/fhir/Organization?name=rides", ehr)["total"] == 1

    # Tasks: the coordinator's two, the CBO's one; by status, owner, patient, time, focus
    assert sorted(_ids(_bundle(client, "/fhir/Task", ehr))) == sorted(sent)
    assert _ids(_bundle(client, "/fhir/Task", cbo_a)) == [sent[0]]
    owned = _bundle(client, f"/fhir/Task?owner=Organization/{fnet.orgs['cbo_b']}", ehr)
    assert _ids(owned) == [sent[1]]
    assert _bundle(client, "/fhir/Task?status=completed,cancelled", ehr)["total"] == 0
    assert _bundle(client, f"/fhir/Task?patient=Patient/{fnet.patient}", ehr)["total"] == 2
    assert _bundle(client, "/fhir/Task?_lastUpdated=gt2000-01-01", ehr)["total"] == 2
    assert _bundle(client, "/fhir/Task?_lastUpdated=lt2000-01-01", ehr)["total"] == 0
    focused = _bundle(client, f"/fhir/Task?focus=ServiceRequest/{sent[1]}&_include=Task:focus", ehr)
    assert _ids(focused, "Task") == [sent[1]] and _ids(focused, "ServiceRequest") == [sent[1]]
    # another care organization's coordinator finds nothing and may not name the patient
    assert _bundle(client, "/fhir/Task", auth["coordinator_other"])["total"] == 0
    hidden = client.get(f"/fhir/Task?patient={fnet.patient}", headers=auth["coordinator_other"])
    assert hidden.status_code == 404

    # ServiceRequests by status and category
    assert _bundle(client, "/fhir/ServiceRequest?status=active", ehr)["total"] == 2
    assert _bundle(client, "/fhir/ServiceRequest?status=revoked", ehr)["total"] == 0
    assert _bundle(client, "/fhir/ServiceRequest?category=housing-instability", ehr)["total"] == 0

    # Patients by identifier, by name and birth date
    found = _bundle(client, f"/fhir/Patient?identifier={PATIENT_ID_SYSTEM}|{fnet.patient}", ehr)
    assert _ids(found) == [fnet.patient]
    assert _ids(_bundle(client, "/fhir/Patient?name=lopez&birthdate=1950-03-04", ehr)) == [
        fnet.patient
    ]
    assert _bundle(client, "/fhir/Patient?name=lopez&birthdate=1950-03-05", ehr)["total"] == 0
    assert client.get("/fhir/Patient?name=lopez", headers=cbo_a).status_code == 403
