"""/fhir reads and searches: the CapabilityStatement, each resource as fhir.resources (R4B)
parses it, OperationOutcome refusals, the policy and consent gate (404 for the unseen)."""

from __future__ import annotations

from typing import Any

from flask import Flask
from integration.fhir.conftest import FHIR, Net, parse

from carenet.extensions import db
from carenet.referrals import consent as consents
from carenet.referrals.models import Patient
from carenet.referrals.service import ReferralRequest, send_referral
from carenet.screening import service as screening


def _referral(app: Flask, net: Net, **fields: Any) -> str:
    with app.app_context():
        coordinator = net.user("coordinator")
        request = ReferralRequest(net.patient, net.services["open"], category="food-insecurity")
        return send_referral(coordinator, request).referral.id


def _outcome(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == FHIR
    body = response.get_json(force=True)
    parse(body)
    assert body["resourceType"] == "OperationOutcome"
    return body


def test_metadata_is_a_capability_statement_that_tells_the_truth(client):
    response = client.get("/fhir/metadata")
    assert response.status_code == 200
    assert response.mimetype == FHIR
    statement = response.get_json(force=True)
    parse(statement)
    assert statement["fhirVersion"] == "4.0.1"
    by_type = {r["type"]: r for r in statement["rest"][0]["resource"]}
    assert {"Task", "ServiceRequest", "Patient", "Consent", "HealthcareService"} <= set(by_type)
    task = by_type["Task"]
    assert task["profile"].endswith("SDOHCC-TaskForReferralManagement")
    assert {i["code"] for i in task["interaction"]} == {"read", "search-type", "create", "update"}
    assert {p["name"] for p in task["searchParam"]} >= {"owner", "status", "focus", "patient"}
    assert task["searchInclude"] == ["Task:focus"]
    # an interaction not claimed is refused
    assert "update" not in {i["code"] for i in by_type["Patient"]["interaction"]}


def test_every_read_parses_and_a_cbo_sees_the_patient_only_under_consent(app, fnet, auth):
    referral_id = _referral(app, fnet)
    client = app.test_client()
    with app.app_context():
        coordinator = fnet.user("coordinator")
        screened = screening.record_screening(
            coordinator, fnet.patient, {"88122-7": "LA28397-0", "71802-3": "LA31995-6"}
        )
        need_id = screened.open_needs[0].id
        screening_id = screened.screening.id
        patient = db.session.get(Patient, fnet.patient)
        assert patient is not None
        consent_id = patient.consents[0].id
    reads = {
        f"Patient/{fnet.patient}": "Patient",
        f"Consent/{consent_id}": "Consent",
        f"Condition/{need_id}": "Condition",
        f"QuestionnaireResponse/{screening_id}": "QuestionnaireResponse",
        f"Observation/{screening_id}.88122-7": "Observation",
        f"Task/{referral_id}": "Task",
        f"ServiceRequest/{referral_id}": "ServiceRequest",
        f"Organization/{fnet.orgs['cbo_a']}": "Organization",
        f"HealthcareService/{fnet.services['open']}": "HealthcareService",
    }
    for path, kind in reads.items():
        response = client.get(f"/fhir/{path}", headers=auth["coordinator"])
        assert response.status_code == 200, (path, response.get_data(as_text=True))
        assert response.mimetype == FHIR
        body = response.get_json(force=True)
        parse(body)
        assert body["resourceType"] == kind
        assert body["meta"]["profile"]
    service = client.get(
        f"/fhir/HealthcareService/{fnet.services['waitlist']}", headers=auth["coordinator"]
    ).get_json(force=True)
    capacity = service["extension"][0]
    assert capacity["url"].endswith("SDOHCC-ExtensionHealthcareServiceCapacity")
    assert capacity["extension"][0]["valueCodeableConcept"]["coding"][0]["code"] == "waitlist"
    task = client.get(f"/fhir/Task/{referral_id}", headers=auth["staff_a"])
    assert task.headers["ETag"] == 'W/"1"'
    body = task.get_json(force=True)
    assert body["for"]["reference"] == f"Patient/{fnet.patient}"
    assert body["owner"]["reference"] == f"Organization/{fnet.orgs['cbo_a']}"
    assert body["focus"]["reference"] == f"ServiceRequest/{referral_id}"
    patient = client.get(f"/fhir/Patient/{fnet.patient}", headers=auth["staff_a"])
    assert patient.status_code == 200
    name = patient.get_json(force=True)["name"][0]
    assert (name["family"], name["given"]) == ("Lopez", ["Ana"])
    # the CBO never reads the screening answers; another CBO or care organization: 404
    _outcome(
        client.get(f"/fhir/QuestionnaireResponse/{screening_id}", headers=auth["staff_a"]), 404
    )
    _outcome(client.get(f"/fhir/Patient/{fnet.patient}", headers=auth["staff_b"]), 404)
    _outcome(client.get(f"/fhir/Task/{referral_id}", headers=auth["staff_b"]), 404)
    _outcome(client.get(f"/fhir/Patient/{fnet.patient}", headers=auth["coordinator_other"]), 404)
    # consent revoked: the CBO's Task names no patient, and the Patient is 404
    with app.app_context():
        consents.revoke_consent(fnet.user("coordinator"), consent_id)
    _outcome(client.get(f"/fhir/Patient/{fnet.patient}", headers=auth["staff_a"]), 404)
    stub = client.get(f"/fhir/Task/{referral_id}", headers=auth["staff_a"]).get_json(force=True)
    parse(stub)
    assert "reference" not in stub["for"]
    history = client.get(f"/fhir/Consent?patient={fnet.patient}", headers=auth["coordinator"])
    decisions = [e["resource"] for e in history.get_json(force=True)["entry"]]
    assert [c["provision"]["type"] for c in decisions] == ["deny", "permit"]
    assert [c["status"] for c in decisions] == ["active", "inactive"]
    for consent in decisions:
        parse(consent)


def test_refusals_are_operation_outcomes_naming_the_element(app, fnet, auth, client):
    anonymous = client.get(f"/fhir/Patient/{fnet.patient}")
    _outcome(anonymous, 401)
    _outcome(client.get("/fhir/Nothing/x", headers=auth["coordinator"]), 404)
    _outcome(client.get("/fhir/Patient/not_an_id!", headers=auth["coordinator"]), 404)
    bad = _outcome(client.get("/fhir/Task?color=red", headers=auth["coordinator"]), 400)
    assert bad["issue"][0]["expression"] == ["color"]
    bad = _outcome(client.get("/fhir/Task?_count=0", headers=auth["coordinator"]), 400)
    assert bad["issue"][0]["expression"] == ["_count"]
    bad = _outcome(client.get("/fhir/Task?_lastUpdated=gtnope", headers=auth["coordinator"]), 400)
    assert bad["issue"][0]["expression"] == ["_lastUpdated"]
    _outcome(client.delete(f"/fhir/Patient/{fnet.patient}", headers=auth["coordinator"]), 405)
    _outcome(client.get("/fhir", headers=auth["coordinator"]), 405)
    plain = {**auth["coordinator"], "Content-Type": "text/plain"}
    bad = _outcome(client.post("/fhir/Patient", data="x", headers=plain), 415)
    assert bad["issue"][0]["expression"] == ["Content-Type"]
