"""The SDOH Clinical Care exchange over real HTTP with a real FHIR client library (fhirpy):
an EHR creates Patient, Consent, ServiceRequest and Task; the CBO finds the Task, accepts
it in the web UI, moves it on by FHIR to completed with a Procedure; the EHR reads the
result. A referral made in the web UI reads back as Task + ServiceRequest. One history."""

from __future__ import annotations

import json
import re
from typing import Any

from factories import PASSWORD, ServiceFactory
from fhirpy import SyncFHIRClient
from flask import Flask
from integration.fhir.conftest import Net, parse
from integration.referrals.conftest import csrf_from
from live_server import serve_app

from carenet.accounts import service as accounts
from carenet.accounts.models import User
from carenet.directory.models import Organization
from carenet.extensions import db
from carenet.fhir.codes import SDOH_CATEGORY_SYSTEM
from carenet.referrals.models import ReferralEvent


def _token(app: Flask, net: Net, name: str) -> str:
    with app.app_context():
        user = db.session.get(User, net.users[name])
        _, token = accounts.create_api_token(user, "fhirpy")
        db.session.commit()
    return f"Bearer {token}"


def _web(app: Flask, net: Net, name: str) -> Any:
    client = app.test_client()
    token = csrf_from(client.get("/login").get_data(as_text=True))
    signed = client.post(
        "/login", data={"email": net.emails[name], "password": PASSWORD, "csrf_token": token}
    )
    assert signed.status_code in (302, 303)
    return client


def _plain(resource: Any) -> Any:
    """The resource as fhir.resources (R4B) parses it."""
    body = resource.serialize() if hasattr(resource, "serialize") else resource
    return parse(json.loads(json.dumps(body)))


def test_the_exchange_through_fhirpy_against_a_live_server(app, fnet):
    with app.app_context():
        pantry = ServiceFactory(
            organization=db.session.get(Organization, fnet.orgs["cbo_a"]),
            name="Little Pantry",
            categories=["food-pantry"],
            locations=[],
        )
        db.session.commit()
        pantry_id = pantry.id
    ehr_auth, cbo_auth = _token(app, fnet, "coordinator"), _token(app, fnet, "staff_a")
    with serve_app(app) as base:
        ehr = SyncFHIRClient(f"{base}/fhir", authorization=ehr_auth)
        cbo = SyncFHIRClient(f"{base}/fhir", authorization=cbo_auth)
        metadata = ehr.execute("metadata", method="get")
        assert metadata["fhirVersion"] == "4.0.1"

        patient = ehr.resource(
            "Patient", name=[{"family": "Reyes", "given": ["Maya"]}], birthDate="1972-02-03"
        )
        patient.save()
        consent = ehr.resource(
            "Consent",
            status="active",
            scope={"coding": [{"code": "patient-privacy"}]},
            category=[{"coding": [{"code": "IDSCL"}]}],
            patient=patient.to_reference(),
            provision={"type": "permit"},
        )
        consent.save()
        request = ehr.resource(
            "ServiceRequest",
            status="active",
            intent="order",
            category=[{"coding": [{"system": SDOH_CATEGORY_SYSTEM, "code": "food-insecurity"}]}],
            code={"text": "Food pantry enrolment"},
            subject=patient.to_reference(),
            supportingInfo=[consent.to_reference()],
        )
        request.save()
        task = ehr.resource(
            "Task",
            status="requested",
            intent="order",
            code={
                "coding": [
                    {"system": "http://hl7.org/fhir/CodeSystem/task-code", "code": "fulfill"}
                ]
            },
            focus=request.to_reference(),
            owner={"reference": f"Organization/{fnet.orgs['cbo_a']}"},
            **{"for": patient.to_reference()},
        )
        task.save()
        assert task.id and task["meta"]["versionId"] == "1"

        # the CBO searches its requested Tasks, with their ServiceRequests
        bundle = cbo.execute(
            "Task",
            method="get",
            params={
                "owner": f"Organization/{fnet.orgs['cbo_a']}",
                "status": "requested",
                "_include": "Task:focus",
            },
        )
        parse(bundle)
        assert [e["resource"]["id"] for e in bundle["entry"] if e["search"]["mode"] == "match"] == [
            task.id
        ]
        found = cbo.resources("Task").search(owner=f"Organization/{fnet.orgs['cbo_a']}").fetch()
        assert [t.id for t in found] == [task.id]
        seen = cbo.reference("Patient", patient.id).to_resource()
        assert seen["name"][0]["family"] == "Reyes"
        _plain(seen)

        # the referral is in the CBO's web inbox and accepted there
        staff = _web(app, fnet, "staff_a")
        assert "Little Pantry" in staff.get("/inbox").get_data(as_text=True)
        page = staff.get(f"/referrals/{task.id}").get_data(as_text=True)
        version = re.search(r'name="version" value="(\d+)"', page).group(1)
        moved = staff.post(
            f"/referrals/{task.id}/move",
            data={"csrf_token": csrf_from(page), "to": "accepted", "version": version},
        )
        assert moved.status_code == 302

        # then by FHIR: in-progress, completed with the delivered service
        current = cbo.reference("Task", task.id).to_resource()
        assert current["status"] == "accepted"
        current["status"] = "in-progress"
        current.save()
        current = cbo.reference("Task", task.id).to_resource()
        current["status"] = "completed"
        current["contained"] = [
            {
                "resourceType": "Procedure",
                "id": "delivered",
                "status": "completed",
                "subject": {"reference": f"Patient/{patient.id}"},
                "outcome": {"text": "Enrolled at Little Pantry"},
                "performedDateTime": "2026-12-01",
            }
        ]
        current["output"] = [
            {"type": {"text": "resulting-activity"}, "valueReference": {"reference": "#delivered"}}
        ]
        current.save()

        # the EHR reads the result
        result = ehr.reference("Task", task.id).to_resource()
        _plain(result)
        assert result["status"] == "completed"
        procedure = ehr.get(result["output"][0]["valueReference"]["reference"])
        _plain(procedure)
        assert procedure["outcome"]["text"] == "Enrolled at Little Pantry"
        searched = ehr.resources("ServiceRequest").search(patient=patient.id).fetch_all()
        assert [r["status"] for r in searched] == ["completed"]

        # a referral made in the web UI reads as Task + ServiceRequest
        coordinator = _web(app, fnet, "coordinator")
        form = coordinator.get(
            f"/referrals/new?patient_id={fnet.patient}&service_id={pantry_id}"
        ).get_data(as_text=True)
        key = re.search(r'name="idempotency_key" value="([^"]+)"', form).group(1)
        sent = coordinator.post(
            "/referrals/new",
            data={
                "csrf_token": csrf_from(form),
                "idempotency_key": key,
                "patient_id": fnet.patient,
                "service_id": pantry_id,
                "category": "food-insecurity",
            },
        )
        assert sent.status_code == 302, sent.get_data(as_text=True)[:500]
        web_id = sent.headers["Location"].rstrip("/").split("/")[-1]
        web_task = ehr.reference("Task", web_id).to_resource()
        _plain(web_task)
        assert web_task["status"] == "requested"
        web_request = ehr.get(web_task["focus"]["reference"])
        _plain(web_request)
        assert web_request["subject"]["reference"] == f"Patient/{fnet.patient}"
        assert web_request["performer"][1]["reference"] == f"HealthcareService/{pantry_id}"

    with app.app_context():
        events = db.session.scalars(
            db.select(ReferralEvent.to_status)
            .where(ReferralEvent.referral_id == task.id)
            .order_by(ReferralEvent.id)
        ).all()
    assert events == ["requested", "accepted", "in-progress", "completed"]
