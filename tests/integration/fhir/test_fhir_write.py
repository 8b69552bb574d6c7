"""Creating Patient, Consent, ServiceRequest and Task (one by one and as a transaction
Bundle) and moving the Task through the workflow by PUT: the same referral the web UI and
/api/v1 show, one history; refusals as OperationOutcomes naming the element."""

from __future__ import annotations

from typing import Any

from factories import ServiceFactory
from flask import Flask
from integration.fhir.conftest import FHIR, Net, parse

from carenet.directory.models import Organization
from carenet.extensions import db
from carenet.fhir.codes import SDOH_CATEGORY_SYSTEM, STATUS_REASON_SYSTEM
from carenet.referrals.models import Referral, ReferralEvent

PATIENT = {
    "resourceType": "Patient",
    "name": [{"family": "Abbas", "given": ["Colin"]}],
    "birthDate": "1980-05-06",
    "telecom": [{"system": "phone", "value": "305-555-0100"}],
}
CONSENT = {
    "resourceType": "Consent",
    "status": "active",
    "scope": {
        "coding": [
            {
                "system": "http://terminology.hl7.org/CodeSystem/consentscope",
                "code": "patient-privacy",
            }
        ]
    },
    "category": [
        {
            "coding": [
                {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "IDSCL"}
            ]
        }
    ],
    "provision": {"type": "permit"},
}


def service_request(patient: str, **more: Any) -> dict[str, Any]:
    return {
        "resourceType": "ServiceRequest",
        "status": "active",
        "intent": "order",
        "category": [{"coding": [{"system": SDOH_CATEGORY_SYSTEM, "code": "food-insecurity"}]}],
        "code": {
            "coding": [
                {
                    "system": "http://snomed.info/sct",
                    "code": "467771000124109",
                    "display": "Assistance with application for food pantry program",
                }
            ]
        },
        "subject": {"reference": patient},
        **more,
    }


def task(focus: str, owner: str, patient: str) -> dict[str, Any]:
    return {
        "resourceType": "Task",
        "status": "requested",
        "intent": "order",
        "code": {
            "coding": [{"system": "http://hl7.org/fhir/CodeSystem/task-code", "code": "fulfill"}]
        },
        "focus": {"reference": focus},
        "for": {"reference": patient},
        "owner": {"reference": owner},
    }


def _ok(response: Any, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == FHIR
    body = response.get_json(force=True)
    parse(body)
    return body


def _refused(response: Any, status: int, element: str) -> None:
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.get_json(force=True)
    parse(body)
    assert body["resourceType"] == "OperationOutcome"
    if element:
        assert any(element in e for e in body["issue"][0].get("expression", [])), body


def _pantry(app: Flask, net: Net) -> str:
    with app.app_context():
        service = ServiceFactory(
            organization=db.session.get(Organization, net.orgs["cbo_a"]),
            name="Food Pantry A2",
            categories=["food-pantry"],
            locations=[],
        )
        db.session.commit()
        return service.id


def test_one_by_one_then_the_cbo_moves_the_task_to_completed(app, fnet, auth):
    pantry = _pantry(app, fnet)
    client = app.test_client()
    ehr, cbo = auth["coordinator"], auth["staff_a"]
    patient = _ok(client.post("/fhir/Patient", json=PATIENT, headers=ehr), 201)
    patient_ref = f"Patient/{patient['id']}"
    consent = _ok(
        client.post(
            "/fhir/Consent", json={**CONSENT, "patient": {"reference": patient_ref}}, headers=ehr
        ),
        201,
    )
    request = _ok(
        client.post(
            "/fhir/ServiceRequest",
            headers=ehr,
            json=service_request(
                patient_ref, supportingInfo=[{"reference": f"Consent/{consent['id']}"}]
            ),
        ),
        201,
    )
    created = client.post(
        "/fhir/Task",
        headers=ehr,
        json=task(
            f"ServiceRequest/{request['id']}", f"Organization/{fnet.orgs['cbo_a']}", patient_ref
        ),
    )
    sent = _ok(created, 201)
    assert created.headers["ETag"] == 'W/"1"'
    assert created.headers["Location"].endswith(f"/fhir/Task/{sent['id']}/_history/1")
    assert sent["focus"]["reference"] == f"ServiceRequest/{request['id']}"
    with app.app_context():
        referral = db.session.get(Referral, sent["id"])
        assert referral is not None and referral.service_id == pantry
        assert referral.status == "requested" and referral.patient_id == patient["id"]
    # the ServiceRequest is now the referral's: its version, its consent, its code
    request = _ok(client.get(f"/fhir/ServiceRequest/{request['id']}", headers=cbo))
    assert request["meta"]["versionId"] == "1"
    assert request["supportingInfo"] == [{"reference": f"Consent/{consent['id']}"}]
    assert request["code"]["coding"][0]["code"] == "467771000124109"
    # the CBO finds it, with its ServiceRequest
    found = _ok(
        client.get(
            f"/fhir/Task?owner=Organization/{fnet.orgs['cbo_a']}&status=requested"
            "&_include=Task:focus",
            headers=cbo,
        )
    )
    modes = {(e["resource"]["resourceType"], e["search"]["mode"]) for e in found["entry"]}
    assert modes == {("Task", "match"), ("ServiceRequest", "include")}
    assert found["total"] == 1
    # accepted → in-progress → completed with a Procedure
    body = _ok(client.get(f"/fhir/Task/{sent['id']}", headers=cbo))
    version = body["meta"]["versionId"]
    for status in ("accepted", "in-progress"):
        moved = client.put(
            f"/fhir/Task/{sent['id']}",
            headers={**cbo, "If-Match": f'W/"{version}"'},
            json={**body, "status": status},
        )
        body = _ok(moved)
        assert body["status"] == status
        if status == "accepted":
            assert body["businessStatus"]["coding"][0]["code"] == "accepted"
        version = body["meta"]["versionId"]
        assert moved.headers["ETag"] == f'W/"{version}"'
    # a stale version: 412
    _refused(
        client.put(
            f"/fhir/Task/{sent['id']}",
            headers={**cbo, "If-Match": 'W/"1"'},
            json={**body, "status": "completed"},
        ),
        412,
        "If-Match",
    )
    # completing needs what was delivered
    _refused(
        client.put(f"/fhir/Task/{sent['id']}", headers=cbo, json={**body, "status": "completed"}),
        422,
        "Task.output",
    )
    done = {
        **body,
        "status": "completed",
        "contained": [
            {
                "resourceType": "Procedure",
                "id": "p1",
                "status": "completed",
                "subject": {"reference": patient_ref},
                "code": {"text": "Food pantry enrolment"},
                "outcome": {"text": "Enrolled; first box collected"},
                "performedDateTime": "2026-12-01",
            }
        ],
        "output": [
            {"type": {"text": "resulting-activity"}, "valueReference": {"reference": "#p1"}}
        ],
    }
    body = _ok(client.put(f"/fhir/Task/{sent['id']}", headers=cbo, json=done))
    assert body["status"] == "completed"
    assert body["output"][0]["valueReference"]["reference"] == f"Procedure/{sent['id']}"
    # the EHR reads the result
    procedure = _ok(client.get(f"/fhir/Procedure/{sent['id']}", headers=ehr))
    assert procedure["outcome"]["text"] == "Enrolled; first box collected"
    assert procedure["performedDateTime"] == "2026-12-01"
    # one history: the same events the web UI shows
    with app.app_context():
        events = db.session.scalars(
            db.select(ReferralEvent.to_status)
            .where(ReferralEvent.referral_id == sent["id"])
            .order_by(ReferralEvent.id)
        ).all()
    assert events == ["requested", "accepted", "in-progress", "completed"]
    api = client.get(f"/api/v1/referrals/{sent['id']}", headers=auth["staff_a"])
    assert api.status_code == 200 and api.get_json()["status"] == "completed"


def test_a_transaction_bundle_is_written_whole_or_not_at_all(app, fnet, auth):
    client = app.test_client()
    ehr = auth["coordinator"]
    owner = f"Organization/{fnet.orgs['cbo_a']}"
    performer = [{"reference": f"HealthcareService/{fnet.services['open']}"}]

    def bundle(consent: dict[str, Any]) -> dict[str, Any]:
        entries = [
            ("urn:uuid:task", task("urn:uuid:sr", owner, "urn:uuid:pat")),
            (
                "urn:uuid:sr",
                service_request(
                    "urn:uuid:pat",
                    performer=performer,
                    supportingInfo=[{"reference": "urn:uuid:con"}],
                ),
            ),
            ("urn:uuid:pat", PATIENT),
            ("urn:uuid:con", {**consent, "patient": {"reference": "urn:uuid:pat"}}),
        ]
        return {
            "resourceType": "Bundle",
            "type": "transaction",
            "entry": [
                {
                    "fullUrl": url,
                    "resource": resource,
                    "request": {"method": "POST", "url": resource["resourceType"]},
                }
                for url, resource in entries
            ],
        }

    with app.app_context():
        before = db.session.scalar(db.select(db.func.count()).select_from(Referral))
    # a consent that is not in force: nothing at all is written
    refused = client.post("/fhir", headers=ehr, json=bundle({**CONSENT, "status": "draft"}))
    _refused(refused, 422, "Bundle.entry[3].resource.status")
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(Referral)) == before
        from carenet.referrals.models import Patient

        assert (
            db.session.scalar(
                db.select(db.func.count())
                .select_from(Patient)
                .where(Patient.family_name == "Abbas")
            )
            == 0
        )
    answer = _ok(client.post("/fhir", headers=ehr, json=bundle(CONSENT)))
    assert answer["type"] == "transaction-response"
    kinds = [e["resource"]["resourceType"] for e in answer["entry"]]
    assert kinds == ["Task", "ServiceRequest", "Patient", "Consent"]  # the request's order
    made = {e["resource"]["resourceType"]: e["resource"] for e in answer["entry"]}
    assert made["Task"]["for"]["reference"] == f"Patient/{made['Patient']['id']}"
    assert answer["entry"][0]["response"]["status"] == "201 Created"
    # the CBO sees it in its inbox, like a web referral
    inbox = client.get("/api/v1/referrals?box=inbound", headers=auth["staff_a"]).get_json()
    assert made["Task"]["id"] in [r["id"] for r in inbox["contents"]]


def test_forbidden_moves_and_bad_bodies_are_4xx_outcomes(app, fnet, auth):
    client = app.test_client()
    ehr, cbo = auth["coordinator"], auth["staff_a"]
    from carenet.referrals.service import ReferralRequest, send_referral

    with app.app_context():
        sent = send_referral(
            fnet.user("coordinator"),
            ReferralRequest(fnet.patient, fnet.services["open"], category="food-insecurity"),
        ).referral.id
    body = _ok(client.get(f"/fhir/Task/{sent}", headers=cbo))
    # requested → completed is no move of the workflow
    _refused(
        client.put(
            f"/fhir/Task/{sent}",
            headers=cbo,
            json={**body, "status": "completed", "output": [{"valueString": "done"}]},
        ),
        409,
        "Task.status",
    )
    # a rejection needs a coded reason
    _refused(
        client.put(f"/fhir/Task/{sent}", headers=cbo, json={**body, "status": "rejected"}),
        422,
        "Task.statusReason",
    )
    # the requester may not accept; another CBO does not see the Task at all
    _refused(
        client.put(f"/fhir/Task/{sent}", headers=ehr, json={**body, "status": "accepted"}), 403, ""
    )
    other = client.put(
        f"/fhir/Task/{sent}", headers=auth["staff_b"], json={**body, "status": "accepted"}
    )
    assert other.status_code == 404
    _refused(
        client.put(
            f"/fhir/Task/{sent}",
            headers=cbo,
            json={**body, "owner": {"reference": "Organization/x"}},
        ),
        422,
        "Task.owner",
    )
    rejected = _ok(
        client.put(
            f"/fhir/Task/{sent}",
            headers=cbo,
            json={
                **body,
                "status": "rejected",
                "statusReason": {
                    "coding": [{"system": STATUS_REASON_SYSTEM, "code": "not-eligible"}]
                },
            },
        )
    )
    assert rejected["statusReason"]["coding"][0]["code"] == "not-eligible"
    # bodies
    _refused(
        client.post("/fhir/Patient", headers=ehr, json={"resourceType": "Task"}),
        400,
        "Patient.resourceType",
    )
    _refused(
        client.post("/fhir/Patient", headers=ehr, json={**PATIENT, "birthDate": "3000-01-01"}),
        400,
        "Patient.birthDate",
    )
    _refused(
        client.post(
            "/fhir/ServiceRequest",
            headers=ehr,
            json=service_request(f"Patient/{fnet.patient}", category=[]),
        ),
        422,
        "ServiceRequest.category",
    )
    # the code is kept as sent and sent back, so it must be a CodeableConcept (found by fuzzing:
    # {"": null} was stored and the ServiceRequest read back was not valid FHIR)
    for code, element in (
        ({"": None}, "ServiceRequest.code."),
        ({"coding": [{"code": ""}]}, "ServiceRequest.code.coding[0].code"),
        ({"coding": [{"cod": "x"}]}, "ServiceRequest.code.coding[0].cod"),
        ({"coding": [{}]}, "ServiceRequest.code.coding[0]"),
        ({"text": 7}, "ServiceRequest.code.text"),
    ):
        _refused(
            client.post(
                "/fhir/ServiceRequest",
                headers=ehr,
                json=service_request(f"Patient/{fnet.patient}", code=code),
            ),
            400,
            element,
        )
    long_language = {"language": {"coding": [{"code": "abc-ABCDEFGH"}]}}  # > the column's 8
    _refused(
        client.post(
            "/fhir/Patient", headers=ehr, json={**PATIENT, "communication": [long_language]}
        ),
        400,
        "Patient.communication.language",
    )
    _refused(client.post("/fhir/Patient", headers=cbo, json=PATIENT), 403, "")
    no_consent = client.post(
        "/fhir/ServiceRequest",
        headers=ehr,
        json=service_request(
            f"Patient/{fnet.patient_without_consent}",
            performer=[{"reference": f"HealthcareService/{fnet.services['open']}"}],
        ),
    )
    request = _ok(no_consent, 201)
    _refused(
        client.post(
            "/fhir/Task",
            headers=ehr,
            json=task(
                f"ServiceRequest/{request['id']}",
                f"Organization/{fnet.orgs['cbo_a']}",
                f"Patient/{fnet.patient_without_consent}",
            ),
        ),
        422,
        "ServiceRequest.supportingInfo",
    )
