"""R4 backport Subscriptions: create / read / search / delete, refusals naming the element,
notifications queued in the outbox on a referral's status change for the owners who may
see it, delivered by the outbox worker to a local rest-hook (both backends)."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.parameters import Parameters
from fhir.resources.R4B.subscription import Subscription
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from integration.referrals.conftest import Net, build_net
from sqlalchemy import select
from test_smart_support import Receiver, start_receiver

from carenet.accounts import service as accounts
from carenet.accounts.models import User
from carenet.db.types import utcnow
from carenet.extensions import db
from carenet.fhir.topics import TASK_STATUS_TOPIC
from carenet.referrals import workflow
from carenet.referrals.models import OutboxMessage, Referral
from carenet.referrals.notifications import drain_outbox
from carenet.referrals.service import ReferralRequest, send_referral

FHIR = "application/fhir+json"
B = "http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition"


@pytest.fixture
def snet(app: Flask) -> Net:
    with app.app_context():
        return build_net()


@pytest.fixture
def auth(app: Flask, snet: Net) -> dict[str, dict[str, str]]:
    headers = {}
    with app.app_context():
        for name, user_id in snet.users.items():
            user = db.session.get(User, user_id)
            _, token = accounts.create_api_token(user, "subscription tests")
            headers[name] = {"Authorization": f"Bearer {token}", "Content-Type": FHIR}
        db.session.commit()
    return headers


@pytest.fixture
def receiver() -> Any:
    hook = start_receiver()
    yield hook
    hook.close()


def subscription(endpoint: str, **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "resourceType": "Subscription",
        "status": "requested",
        "reason": "Follow referrals",
        "criteria": TASK_STATUS_TOPIC,
        "channel": {
            "type": "rest-hook",
            "endpoint": endpoint,
            "payload": FHIR,
            "_payload": {
                "extension": [{"url": f"{B}/backport-payload-content", "valueCode": "id-only"}]
            },
            "header": ["Authorization: Bearer hook-secret"],
        },
    }
    body.update(fields)
    return body


def _post(client: FlaskClient, headers: dict[str, str], body: Any) -> Any:
    return client.post("/fhir/Subscription", data=json.dumps(body), headers=headers)


def test_create_read_search_delete(
    client: FlaskClient, auth: dict[str, dict[str, str]], receiver: Receiver
) -> None:
    created = _post(client, auth["coordinator"], subscription(receiver.url))
    assert created.status_code == 201, created.get_json()
    assert created.mimetype == FHIR
    body = created.get_json()
    Subscription.model_validate(body)
    assert body["status"] == "active" and body["criteria"] == TASK_STATUS_TOPIC
    assert body["channel"]["_payload"]["extension"][0]["valueCode"] == "id-only"
    assert "header" not in body["channel"]  # secrets are not shown back
    assert created.headers["Location"].endswith(f"/fhir/Subscription/{body['id']}")

    read = client.get(f"/fhir/Subscription/{body['id']}", headers=auth["coordinator"])
    assert read.status_code == 200 and read.get_json()["id"] == body["id"]
    # Someone else's subscription does not exist for you.
    assert (
        client.get(f"/fhir/Subscription/{body['id']}", headers=auth["staff_a"]).status_code == 404
    )

    found = client.get("/fhir/Subscription?status=active", headers=auth["coordinator"]).get_json()
    Bundle.model_validate(found)
    assert [e["resource"]["id"] for e in found["entry"]] == [body["id"]]
    assert client.get("/fhir/Subscription", headers=auth["staff_a"]).get_json()["total"] == 0
    assert client.get("/fhir/Subscription?status=x", headers=auth["coordinator"]).status_code == 400

    assert (
        client.delete(f"/fhir/Subscription/{body['id']}", headers=auth["staff_a"]).status_code
        == 404
    )
    gone = client.delete(f"/fhir/Subscription/{body['id']}", headers=auth["coordinator"])
    assert gone.status_code == 204
    assert (
        client.get(f"/fhir/Subscription/{body['id']}", headers=auth["coordinator"]).status_code
        == 404
    )


REFUSALS = [
    ({"criteria": "Task?status=completed"}, "Subscription.criteria"),
    (
        {"channel": {"type": "websocket", "endpoint": "https://x.example"}},
        "Subscription.channel.type",
    ),
    (
        {"channel": {"type": "rest-hook", "endpoint": "ftp://x.example"}},
        "Subscription.channel.endpoint",
    ),
    (
        {"channel": {"type": "rest-hook", "endpoint": "http://ehr.example/hook"}},
        "Subscription.channel.endpoint",
    ),
    (
        {"channel": {"type": "rest-hook", "endpoint": "https://x.example", "header": ["bad"]}},
        "Subscription.channel.header",
    ),
    (
        {"channel": {"type": "rest-hook", "endpoint": "https://x.example", "payload": "text/xml"}},
        "Subscription.channel.payload",
    ),
    (
        {
            "channel": {
                "type": "rest-hook",
                "endpoint": "https://x.example",
                "_payload": {
                    "extension": [
                        {"url": f"{B}/backport-payload-content", "valueCode": "full-resource"}
                    ]
                },
            }
        },
        "Subscription.channel.payload",
    ),
    ({"end": "2001-01-01T00:00:00Z"}, "Subscription.end"),
    ({"status": "off"}, "Subscription.status"),
    ({"resourceType": "Task"}, "Subscription"),
]


@pytest.mark.parametrize(("change", "element"), REFUSALS)
def test_refusals_name_the_element(
    client: FlaskClient, auth: dict[str, dict[str, str]], change: dict[str, Any], element: str
) -> None:
    response = _post(
        client, auth["coordinator"], subscription("https://ehr.example/hook", **change)
    )
    assert response.status_code == 400, response.get_json()
    issue = response.get_json()["issue"][0]
    assert issue["expression"] == [element]


def test_anonymous_and_organizationless_callers(
    client: FlaskClient, auth: dict[str, dict[str, str]]
) -> None:
    anonymous = client.post("/fhir/Subscription", json=subscription("https://e.example/h"))
    assert anonymous.status_code in (401, 403)
    lead = _post(client, auth["lead"], subscription("https://e.example/h"))  # program lead
    assert lead.status_code == 403


def _send_and_move(app: Flask, net: Net) -> str:
    """Send a referral as the coordinator; the CBO accepts, starts and completes it."""
    with app.app_context():
        request = ReferralRequest(
            patient_id=net.patient, service_id=net.services["open"], category="food-insecurity"
        )
        referral = send_referral(net.user("coordinator"), request).referral
        staff = net.user("staff_a")
        moved = workflow.accept_referral(staff, referral.id, referral.version)
        moved = workflow.start_referral(staff, referral.id, moved.version)
        workflow.complete_referral(staff, referral.id, moved.version, outcome="service-provided")
        return referral.id


def _type(bundle: dict[str, Any]) -> str:
    """The notification type of a notification Bundle (its SubscriptionStatus's ``type``)."""
    params = {p["name"]: p for p in bundle["entry"][0]["resource"]["parameter"]}
    return str(params["type"]["valueCode"])


def test_status_changes_are_delivered_to_those_who_may_see_the_task(
    app: Flask, client: FlaskClient, auth: dict[str, dict[str, str]], snet: Net, receiver: Receiver
) -> None:
    mine = _post(client, auth["coordinator"], subscription(receiver.url)).get_json()["id"]
    cbo = _post(client, auth["staff_a"], subscription(receiver.url)).get_json()["id"]
    _post(client, auth["coordinator_other"], subscription(receiver.url))  # another clinic
    _post(client, auth["staff_b"], subscription(receiver.url))  # another CBO
    task_id = _send_and_move(app, snet)

    with app.app_context():
        queued = db.session.scalars(
            select(OutboxMessage).where(OutboxMessage.kind == "fhir-rest-hook")
        ).all()
        assert sorted(m.subject for m in queued) == sorted(
            [f"Subscription/{mine}"] * 3 + [f"Subscription/{cbo}"] * 3
        )
        assert all("Lopez" not in m.body and "Ana" not in m.body for m in queued)  # ids only
        counts = drain_outbox(limit=50)
        assert counts["sent"] == 10, counts  # 4 handshakes (one per subscription), 6 events

    received = receiver.wait_for(10)
    assert len(received) == 10
    assert {r["headers"]["Authorization"] for r in received} == {"Bearer hook-secret"}
    assert {r["headers"]["Content-Type"] for r in received} == {FHIR}
    assert (
        sorted(_type(r["body"]) for r in received) == ["event-notification"] * 6 + ["handshake"] * 4
    )
    events = [r["body"] for r in received if _type(r["body"]) == "event-notification"]
    for_mine = [b for b in events if f"Subscription/{mine}" in json.dumps(b)]
    numbers = []
    for bundle in for_mine:
        Bundle.model_validate(bundle)
        assert bundle["type"] == "history"
        status = bundle["entry"][0]["resource"]
        Parameters.model_validate(status)
        params = {p["name"]: p for p in status["parameter"]}
        assert params["topic"]["valueCanonical"] == TASK_STATUS_TOPIC
        assert params["type"]["valueCode"] == "event-notification"
        event = {p["name"]: p for p in params["notification-event"]["part"]}
        assert event["focus"]["valueReference"]["reference"].endswith(f"/Task/{task_id}")
        assert bundle["entry"][1]["fullUrl"].endswith(f"/Task/{task_id}")
        assert "resource" not in bundle["entry"][1]  # id-only
        numbers.append(int(params["events-since-subscription-start"]["valueString"]))
    assert sorted(numbers) == [1, 2, 3]


def test_failed_deliveries_are_retried_then_dead_letters(
    app: Flask, client: FlaskClient, auth: dict[str, dict[str, str]], snet: Net, receiver: Receiver
) -> None:
    app.config["OUTBOX_MAX_ATTEMPTS"] = 2
    _post(client, auth["coordinator"], subscription(receiver.url))
    with app.app_context():
        assert drain_outbox(limit=10)["sent"] == 1  # the handshake went through
    receiver.status = 500
    with app.app_context():
        request = ReferralRequest(
            patient_id=snet.patient, service_id=snet.services["open"], category="food-insecurity"
        )
        referral = send_referral(snet.user("coordinator"), request).referral
        referral_id = referral.id
        workflow.accept_referral(snet.user("staff_a"), referral.id, referral.version)
        drain_outbox(limit=10)  # the e-mails fail too here (no SMTP server): not counted
        message = db.session.scalar(
            select(OutboxMessage).where(OutboxMessage.kind == "fhir-rest-hook")
        )
        assert message is not None and message.attempts == 1 and message.status == "pending"
        assert "HTTPError" in (message.last_error or "")
        drain_outbox(now=utcnow() + timedelta(hours=2), limit=10)
        db.session.refresh(message)
        assert message.status == "dead" and message.attempts == 2
    assert [_type(r["body"]) for r in receiver.received] == [
        "handshake",
        "event-notification",
        "event-notification",
    ]
    # The last failure puts the subscription in error: nothing more is queued for it.
    sub = message.subject.removeprefix("Subscription/")
    read = client.get(f"/fhir/Subscription/{sub}", headers=auth["coordinator"]).get_json()
    assert read["status"] == "error" and "Delivery failed 2 times" in read["reason"]
    with app.app_context():
        accepted = db.session.get(Referral, referral_id)
        assert accepted is not None
        workflow.start_referral(snet.user("staff_a"), referral_id, accepted.version)
        kinds = db.session.scalars(select(OutboxMessage.kind)).all()
        assert kinds.count("fhir-rest-hook") == 1


def test_a_deleted_subscription_gets_nothing_more(
    app: Flask, client: FlaskClient, auth: dict[str, dict[str, str]], snet: Net, receiver: Receiver
) -> None:
    sub = _post(client, auth["coordinator"], subscription(receiver.url)).get_json()["id"]
    with app.app_context():
        request = ReferralRequest(
            patient_id=snet.patient, service_id=snet.services["open"], category="food-insecurity"
        )
        referral = send_referral(snet.user("coordinator"), request).referral
        workflow.accept_referral(snet.user("staff_a"), referral.id, referral.version)
    client.delete(f"/fhir/Subscription/{sub}", headers=auth["coordinator"])
    with app.app_context():
        drain_outbox(limit=10)
        message = db.session.scalar(
            select(OutboxMessage).where(OutboxMessage.kind == "fhir-rest-hook")
        )
        assert message is not None and message.status == "sent"  # dropped: nothing is posted
    assert receiver.received == []


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=10), children, max_size=3)
    ),
    max_leaves=8,
)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    channel=st.dictionaries(
        st.sampled_from(["type", "endpoint", "payload", "_payload", "header"]),
        _JSON | st.sampled_from(["rest-hook", "https://e.example/h", FHIR]),
        max_size=5,
    ),
    extra=st.dictionaries(
        st.sampled_from(["status", "end", "reason", "_criteria"]),
        _JSON | st.sampled_from(["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"]),
        max_size=3,
    ),
)
def test_fuzz_subscription_never_500(
    client: FlaskClient,
    auth: dict[str, dict[str, str]],
    channel: dict[str, Any],
    extra: dict[str, Any],
) -> None:
    body = {
        "resourceType": "Subscription",
        "criteria": TASK_STATUS_TOPIC,
        "channel": channel,
        **extra,
    }
    response = _post(client, auth["coordinator"], body)
    assert response.status_code in (201, 400, 403), (body, response.status_code)


def test_metadata_lists_subscription_topics_and_smart(client: FlaskClient) -> None:
    from fhir.resources.R4B.capabilitystatement import CapabilityStatement

    statement = client.get("/fhir/metadata").get_json(force=True)
    CapabilityStatement.model_validate(statement)
    rest = statement["rest"][0]
    by_type = {r["type"]: r for r in rest["resource"]}
    topics = [e["valueCanonical"] for e in by_type["Subscription"]["extension"]]
    assert topics == [TASK_STATUS_TOPIC]
    assert {i["code"] for i in by_type["Subscription"]["interaction"]} == {
        "create",
        "read",
        "search-type",
        "delete",
    }
    assert rest["security"]["service"][0]["coding"][0]["code"] == "SMART-on-FHIR"
    uris = rest["security"]["extension"][0]["extension"]
    assert uris == [{"url": "token", "valueUri": "http://localhost/fhir/auth/token"}]
