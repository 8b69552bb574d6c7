"""The SDOH Clinical Care guide's own example instances (tests/data/fhir/sdohcc, compiled
from its FSH) are accepted on create — and its API examples drive a Task from requested to
completed — once their references point at records that exist here."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from factories import ServiceFactory
from integration.fhir.conftest import parse

from carenet.directory.models import Organization
from carenet.extensions import db
from carenet.referrals.models import ReferralEvent
from carenet.screening import service as screening

DATA = Path(__file__).resolve().parents[2] / "data" / "fhir" / "sdohcc"
STU3 = DATA / "stu3-dev-3.0.0"
API = DATA / "api-examples"
SR_ACTIVE = (
    "02-ServiceRequest-SDOHCC-ServiceRequestActiveFoodPantryApplicationAssistExample-active.json"
)
PROCEDURE = (
    "06-Procedure-SDOHCC-ProcedureSummerFoodProgramApplicationAssistanceExample-completed.json"
)


def example(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())


def pointed(value: Any, targets: dict[str, str]) -> Any:
    """``value`` with each reference ``Type/x`` whose type is in ``targets`` → ``Type/<id>``."""
    if isinstance(value, dict):
        found = {}
        for key, item in value.items():
            if key == "reference" and isinstance(item, str) and item.split("/")[0] in targets:
                kind = item.split("/")[0]
                found[key] = f"{kind}/{targets[kind]}"
            else:
                found[key] = pointed(item, targets)
        return found
    if isinstance(value, list):
        return [pointed(item, targets) for item in value]
    return value


def created(client: Any, headers: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
    body = {k: v for k, v in body.items() if k != "id"}
    response = client.post(f"/fhir/{body['resourceType']}", json=body, headers=headers)
    assert response.status_code == 201, response.get_data(as_text=True)
    answer = response.get_json(force=True)
    parse(answer)
    return answer


def test_the_guides_examples_are_accepted(app, fnet, auth):
    with app.app_context():
        ServiceFactory(
            organization=db.session.get(Organization, fnet.orgs["cbo_a"]),
            name="Food Pantry Application Assistance",
            categories=["food-pantry"],
            locations=[],
        )
        need = (
            screening.record_screening(
                fnet.user("coordinator"), fnet.patient, {"88122-7": "LA28397-0"}
            )
            .open_needs[0]
            .id
        )
        db.session.commit()
    client = app.test_client()
    ehr, cbo = auth["coordinator"], auth["staff_a"]

    patient = created(client, ehr, example(STU3 / "Patient-SDOHCC-PatientBabyAbbas.json"))
    assert patient["name"][0]["family"] == "ABBAS"
    targets = {"Patient": fnet.patient, "Condition": need, "Organization": fnet.orgs["care"]}
    consent = created(
        client,
        ehr,
        pointed(
            example(STU3 / "Consent-SDOHCC-ConsentInformationDisclosureExample.json"),
            {**targets, "Patient": fnet.patient_without_consent},
        ),
    )
    assert consent["status"] == "active"  # that patient's first decision: in force
    assert consent["patient"]["reference"] == f"Patient/{fnet.patient_without_consent}"
    for name in (
        "ServiceRequest-SDOHCC-ServiceRequestActiveFoodPantryApplicationAssistExample.json",
        "ServiceRequest-SDOHCC-ServiceRequestActiveWICReferralExample.json",
    ):
        request = created(client, ehr, pointed(example(STU3 / name), targets))
        assert request["reasonReference"] == [{"reference": f"Condition/{need}"}]

    # the API examples page: requested → accepted → in-progress → completed
    request = created(
        client,
        ehr,
        pointed(
            example(API / SR_ACTIVE),
            targets,
        ),
    )
    task_targets = {
        **targets,
        "ServiceRequest": request["id"],
        "Organization": fnet.orgs["cbo_a"],
    }
    task = created(
        client, ehr, pointed(example(API / "01-Task-no-id-requested.json"), task_targets)
    )
    assert task["status"] == "requested"
    procedure = pointed(
        example(API / PROCEDURE),
        task_targets,
    )
    procedure["id"] = "delivered"
    procedure["basedOn"] = [{"reference": f"ServiceRequest/{request['id']}"}]
    for name in (
        "03-Task-SDOHCC-TaskReferralManagementOrderFulfillmentAcceptedExample-accepted.json",
        "04-Task-SDOHCC-TaskReferralManagementOrderFulfillmentAcceptedExample-in-progress.json",
        "05-Task-SDOHCC-TaskReferralManagementOrderFulfillmentAcceptedExample-completed.json",
    ):
        body = pointed(example(API / name), task_targets)
        body["id"] = task["id"]
        body.pop("partOf", None)  # the guide's parent Task is not this exchange's
        if body["requester"]["reference"].startswith("Organization/"):  # the referring side
            body["requester"] = {"reference": f"Organization/{fnet.orgs['care']}"}
        if body["status"] == "completed":  # the Procedure travels with the Task
            body["contained"] = [procedure]
            body["output"][0]["valueReference"] = {"reference": "#delivered"}
        response = client.put(f"/fhir/Task/{task['id']}", json=body, headers=cbo)
        assert response.status_code == 200, (name, response.get_data(as_text=True))
        parse(response.get_json(force=True))
    done = client.get(f"/fhir/Procedure/{task['id']}", headers=ehr).get_json(force=True)
    parse(done)
    assert done["performedDateTime"] == "2020-09-22"
    assert done["code"]["coding"][0]["code"] == "467771000124109"
    with app.app_context():
        events = db.session.scalars(
            db.select(ReferralEvent.to_status).where(ReferralEvent.referral_id == task["id"])
        ).all()
    assert sorted(events) == sorted(["requested", "accepted", "in-progress", "completed"])
