"""The closed loop over real HTTP with a real FHIR client (fhirpy): an EHR registered as a
SMART backend-services client signs a JWT, gets a token, subscribes to Task status
changes and sends a referral built from the SDOH Clinical Care IG's own API examples
(Patient, Consent, ServiceRequest, Task); the CBO moves the Task accepted → in-progress →
completed; the outbox worker delivers the rest-hook notifications to a local receiver;
the EHR reads the result. Every payload parses with fhir.resources (R4B). Both backends.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import requests
from factories import ServiceFactory
from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.parameters import Parameters
from fhirpy import SyncFHIRClient
from flask import Flask
from flask.testing import FlaskCliRunner
from integration.referrals.conftest import build_net
from live_server import serve_app
from test_smart_support import Receiver, assertion, new_keys, register, start_receiver, token_form

from carenet.accounts import service as accounts
from carenet.accounts.models import User
from carenet.directory.models import Organization
from carenet.extensions import db
from carenet.fhir.topics import TASK_STATUS_TOPIC
from carenet.referrals.models import OutboxMessage, ReferralEvent
from carenet.referrals.notifications import drain_outbox

FIXTURES = Path(__file__).resolve().parents[2] / "data" / "fhir" / "sdohcc"
EXAMPLES = FIXTURES / "api-examples"
B = "http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition"
EHR_SCOPES = (
    "system/Patient.cr system/Consent.cr system/ServiceRequest.crs system/Task.crs "
    "system/Procedure.r system/Subscription.crds"
)


def example(name: str) -> dict[str, Any]:
    return json.loads(next(EXAMPLES.glob(f"{name}*.json")).read_text())


def parse(body: dict[str, Any]) -> Any:
    return get_fhir_model_class(body["resourceType"]).model_validate(body)


@pytest.mark.parametrize("folder", ["stu3-dev-3.0.0", "stu2.3.0", "api-examples"])
def test_the_ig_examples_parse(folder: str) -> None:
    files = sorted((FIXTURES / folder).glob("*.json"))
    assert len(files) >= 6
    for path in files:
        parse(json.loads(path.read_text()))


@pytest.fixture
def receiver() -> Any:
    hook = start_receiver()
    yield hook
    hook.close()


def _ehr_token(base: str, client_id: str, keys: Any) -> str:
    token_url = f"{base}/fhir/auth/token"
    config = requests.get(f"{base}/.well-known/smart-configuration", timeout=10).json()
    assert config["token_endpoint"] == token_url
    response = requests.post(
        token_url, data=token_form(assertion(keys, client_id, token_url), EHR_SCOPES), timeout=10
    )
    assert response.status_code == 200, response.text
    assert response.json()["expires_in"] == 300
    return str(response.json()["access_token"])


def _referral_from_the_ig(patient: str, consent: str) -> dict[str, Any]:
    """The IG's API example ServiceRequest, its references pointed at our rows."""
    body = copy.deepcopy(example("02-ServiceRequest"))
    body.pop("id")
    body.pop("reasonReference")  # the IG's Condition is not ours
    body["subject"] = {"reference": f"Patient/{patient}"}
    body["supportingInfo"] = [{"reference": f"Consent/{consent}"}]
    return body


def _task_from_the_ig(request: str, patient: str, owner: str) -> dict[str, Any]:
    body = copy.deepcopy(example("01-Task-no-id-requested"))
    body.pop("requester")  # the IG's PractitionerRole: the sender is the client's clinic
    body["focus"] = {"reference": f"ServiceRequest/{request}"}
    body["for"] = {"reference": f"Patient/{patient}"}
    body["owner"] = {"reference": f"Organization/{owner}"}
    return body


def _deliver(app: Flask, receiver: Receiver, count: int) -> list[dict[str, Any]]:
    """One pass of the outbox worker, then what the EHR's endpoint has received."""
    with app.app_context():
        drain_outbox(limit=50)
    return receiver.wait_for(count)


def test_ehr_sends_cbo_completes_ehr_is_notified(
    app: Flask, runner: FlaskCliRunner, tmp_path: Path, receiver: Receiver
) -> None:
    with app.app_context():
        net = build_net()
        ServiceFactory(
            organization=db.session.get(Organization, net.orgs["cbo_a"]),
            name="Food Pantry Application Help",
            categories=["food-pantry"],
            locations=[],
        )
        staff = db.session.get(User, net.users["staff_a"])
        _, staff_token = accounts.create_api_token(staff, "CBO system")
        db.session.commit()
    keys = new_keys("ES384")
    client_id = register(runner, tmp_path, keys, net.orgs["care"], EHR_SCOPES)

    with serve_app(app) as base:
        app.config["BASE_URL"] = base
        ehr = SyncFHIRClient(
            f"{base}/fhir", authorization=f"Bearer {_ehr_token(base, client_id, keys)}"
        )
        cbo = SyncFHIRClient(f"{base}/fhir", authorization=f"Bearer {staff_token}")

        subscription = ehr.resource(
            "Subscription",
            status="requested",
            reason="Tell the EHR when its referrals move",
            criteria=TASK_STATUS_TOPIC,
            channel={
                "type": "rest-hook",
                "endpoint": receiver.url,
                "payload": "application/fhir+json",
                "_payload": {
                    "extension": [{"url": f"{B}/backport-payload-content", "valueCode": "id-only"}]
                },
                "header": ["X-Ehr-Secret: s3cret"],
            },
        )
        subscription.save()
        assert subscription["status"] == "active"

        patient = ehr.resource(
            "Patient",
            name=[{"family": "Abbas", "given": ["Colin"]}],
            birthDate="1980-05-06",
            telecom=[{"system": "phone", "value": "305-555-0100"}],
        )
        patient.save()
        consent = ehr.resource(
            "Consent",
            status="active",
            scope={
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/consentscope",
                        "code": "patient-privacy",
                    }
                ]
            },
            category=[
                {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/v3-ActCode",
                            "code": "IDSCL",
                        }
                    ]
                }
            ],
            patient={"reference": f"Patient/{patient.id}"},
            provision={"type": "permit"},
        )
        consent.save()
        request = ehr.resource("ServiceRequest", **_referral_from_the_ig(patient.id, consent.id))
        request.save()
        task = ehr.resource("Task", **_task_from_the_ig(request.id, patient.id, net.orgs["cbo_a"]))
        task.save()
        assert task["status"] == "requested"
        parse(task.serialize())

        # The CBO's system finds it and moves it through the workflow.
        found = cbo.resources("Task").search(owner=f"Organization/{net.orgs['cbo_a']}").fetch()
        assert [t.id for t in found] == [task.id]
        moving = found[0]
        for status in ("accepted", "in-progress"):
            moving["status"] = status
            moving.save()
            assert moving["status"] == status
        moving["status"] = "completed"
        moving["contained"] = [
            {
                "resourceType": "Procedure",
                "id": "p1",
                "status": "completed",
                "subject": {"reference": f"Patient/{patient.id}"},
                "code": {"text": "Food pantry application assistance"},
                "outcome": {"text": "Application filed"},
                "performedDateTime": "2026-12-01",
            }
        ]
        moving["output"] = [
            {"type": {"text": "resulting-activity"}, "valueReference": {"reference": "#p1"}}
        ]
        moving.save()
        assert moving["status"] == "completed"

        received = _deliver(app, receiver, 4)

        # The EHR got the handshake, then is told three times, with ids only, and reads
        # the result.
        assert len(received) == 4
        assert {r["headers"]["X-Ehr-Secret"] for r in received} == {"s3cret"}
        kinds = [
            {p["name"]: p for p in r["body"]["entry"][0]["resource"]["parameter"]}["type"]
            for r in received
        ]
        assert [k["valueCode"] for k in kinds] == ["handshake"] + ["event-notification"] * 3
        numbers = []
        for notification in received[1:]:
            bundle = notification["body"]
            Bundle.model_validate(bundle)
            status = bundle["entry"][0]["resource"]
            Parameters.model_validate(status)
            params = {p["name"]: p for p in status["parameter"]}
            assert params["subscription"]["valueReference"]["reference"] == (
                f"{base}/fhir/Subscription/{subscription.id}"
            )
            event = {p["name"]: p for p in params["notification-event"]["part"]}
            assert event["focus"]["valueReference"]["reference"] == f"{base}/fhir/Task/{task.id}"
            assert "Abbas" not in json.dumps(bundle) and "Colin" not in json.dumps(bundle)
            numbers.append(int(params["events-since-subscription-start"]["valueString"]))
        assert sorted(numbers) == [1, 2, 3]

        result = ehr.reference("Task", task.id).to_resource()
        assert result["status"] == "completed"
        procedure_ref = result["output"][0]["valueReference"]["reference"]
        procedure = ehr.reference(*procedure_ref.split("/")).to_resource()
        assert procedure["outcome"]["text"] == "Application filed"
        for resource in (result, procedure, request, consent, patient):
            parse(resource.serialize())

    with app.app_context():
        recipients = db.session.scalars(db.select(OutboxMessage.recipient)).all()
        assert not [r for r in recipients if r.endswith(".invalid")]  # no mail to the EHR's account
        history = db.session.scalars(
            db.select(ReferralEvent.to_status)
            .where(ReferralEvent.referral_id == task.id)
            .order_by(ReferralEvent.id)
        ).all()
    assert history == ["requested", "accepted", "in-progress", "completed"]
