"""Subscriptions R5 Backport IG on R4: the handshake queued with a new subscription and
delivered to a real local rest-hook, a handshake that finally fails (the subscription in
``error``), heartbeats after the period (not before, not twice under two workers at once),
the period refused when nonsense, and ``$status`` (both backends)."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.capabilitystatement import CapabilityStatement
from fhir.resources.R4B.parameters import Parameters
from fhir.resources.R4B.subscription import Subscription
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from test_smart_support import Receiver, start_receiver
from test_subscriptions import FHIR, B, _post, _type, subscription

from carenet.db.types import as_utc, utcnow
from carenet.extensions import db
from carenet.fhir.subscriptions import FhirSubscription, queue_heartbeats
from carenet.fhir.topics import TASK_STATUS_TOPIC
from carenet.referrals import commands
from carenet.referrals.models import OutboxMessage
from carenet.referrals.notifications import drain_outbox

HEARTBEAT = f"{B}/backport-heartbeat-period"


@pytest.fixture
def receiver() -> Any:
    """A real rest-hook endpoint on 127.0.0.1 (``auth`` comes from this folder's conftest)."""
    hook = start_receiver()
    yield hook
    hook.close()


def with_heartbeat(endpoint: str, period: Any) -> dict[str, Any]:
    body = subscription(endpoint)
    body["channel"]["extension"] = [{"url": HEARTBEAT, "valueUnsignedInt": period}]
    return body


def _params(resource: dict[str, Any]) -> dict[str, Any]:
    return {p["name"]: p for p in resource["parameter"]}


def _kinds(app: Flask) -> list[str]:
    with app.app_context():
        return sorted(db.session.scalars(select(OutboxMessage.kind)).all())


def _last_notified(app: Flask, subscription_id: str) -> datetime:
    with app.app_context():
        row = db.session.get(FhirSubscription, subscription_id)
        assert row is not None and row.last_notified_at is not None
        return as_utc(row.last_notified_at)


def test_a_new_subscription_sends_a_handshake(
    app: Flask, client: FlaskClient, auth: dict[str, dict[str, str]], receiver: Receiver
) -> None:
    created = _post(client, auth["coordinator"], subscription(receiver.url))
    assert created.status_code == 201
    sub = created.get_json()
    assert sub["status"] == "active"  # active at once; the handshake checks the endpoint
    assert _kinds(app) == ["fhir-handshake"]  # queued in the creating transaction
    with app.app_context():
        assert drain_outbox(limit=10)["sent"] == 1
    (posted,) = receiver.wait_for(1)
    assert posted["headers"]["Authorization"] == "Bearer hook-secret"
    assert posted["headers"]["Content-Type"] == FHIR
    bundle = posted["body"]
    Bundle.model_validate(bundle)
    assert bundle["type"] == "history" and len(bundle["entry"]) == 1  # no focus
    status = bundle["entry"][0]["resource"]
    Parameters.model_validate(status)
    assert status["meta"]["profile"] == [f"{B}/backport-subscription-status-r4"]
    params = _params(status)
    assert params["type"]["valueCode"] == "handshake"
    assert params["status"]["valueCode"] == "active"
    assert params["events-since-subscription-start"]["valueString"] == "0"
    assert params["topic"]["valueCanonical"] == TASK_STATUS_TOPIC
    assert params["subscription"]["valueReference"]["reference"].endswith(
        f"/fhir/Subscription/{sub['id']}"
    )
    assert "notification-event" not in params
    assert bundle["entry"][0]["request"]["url"].endswith(f"/Subscription/{sub['id']}/$status")


def test_a_handshake_that_finally_fails_puts_the_subscription_in_error(
    app: Flask, client: FlaskClient, auth: dict[str, dict[str, str]], receiver: Receiver
) -> None:
    receiver.status = 503
    app.config["OUTBOX_MAX_ATTEMPTS"] = 2
    sub = _post(client, auth["coordinator"], subscription(receiver.url)).get_json()["id"]
    with app.app_context():
        assert drain_outbox(limit=10) == {"sent": 0, "failed": 1, "dead": 0}
    read = client.get(f"/fhir/Subscription/{sub}", headers=auth["coordinator"]).get_json()
    assert read["status"] == "active"  # one failure: retried later
    with app.app_context():
        assert drain_outbox(now=utcnow() + timedelta(hours=2), limit=10)["dead"] == 1
    read = client.get(f"/fhir/Subscription/{sub}", headers=auth["coordinator"]).get_json()
    assert read["status"] == "error"
    assert read["reason"].startswith("Handshake failed 2 times: HTTP Error 503")
    assert len(receiver.received) == 2
    # $status tells the same, with the error.
    found = client.get(f"/fhir/Subscription/{sub}/$status", headers=auth["coordinator"])
    params = _params(found.get_json()["entry"][0]["resource"])
    assert params["status"]["valueCode"] == "error"
    assert params["error"]["valueCodeableConcept"]["text"].startswith("Handshake failed")
    # An error subscription gets no heartbeats.
    with app.app_context():
        row = db.session.get(FhirSubscription, sub)
        assert row is not None
        row.heartbeat_period = 60
        db.session.commit()
        assert queue_heartbeats(utcnow() + timedelta(days=1)) == 0


def test_heartbeats_after_the_period_only(
    app: Flask, client: FlaskClient, auth: dict[str, dict[str, str]], receiver: Receiver
) -> None:
    created = _post(client, auth["coordinator"], with_heartbeat(receiver.url, 120))
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    Subscription.model_validate(body)
    assert body["channel"]["extension"] == [{"url": HEARTBEAT, "valueUnsignedInt": 120}]
    sub = body["id"]
    start = _last_notified(app, sub)  # the handshake
    with app.app_context():
        assert queue_heartbeats(start + timedelta(seconds=119)) == 0  # not before the period
        assert queue_heartbeats(start + timedelta(seconds=120)) == 1
        assert queue_heartbeats(start + timedelta(seconds=121)) == 0  # not twice
        assert drain_outbox(now=start + timedelta(seconds=121), limit=10)["sent"] == 2
    assert _kinds(app) == ["fhir-handshake", "fhir-heartbeat"]
    heartbeat = receiver.wait_for(2)[1]["body"]
    Bundle.model_validate(heartbeat)
    assert _type(heartbeat) == "heartbeat" and len(heartbeat["entry"]) == 1
    params = _params(heartbeat["entry"][0]["resource"])
    assert params["events-since-subscription-start"]["valueString"] == "0"
    assert _last_notified(app, sub) == start + timedelta(seconds=120)
    # The next one a period after the last one.
    with app.app_context():
        assert queue_heartbeats(start + timedelta(seconds=239)) == 0
        assert queue_heartbeats(start + timedelta(seconds=240)) == 1


def test_the_worker_pass_queues_heartbeats(
    app: Flask, client: FlaskClient, auth: dict[str, dict[str, str]], receiver: Receiver
) -> None:
    sub = _post(client, auth["coordinator"], with_heartbeat(receiver.url, 60)).get_json()["id"]
    with app.app_context():
        assert commands.run_once(10)["heartbeats"] == 0  # the handshake goes out
        row = db.session.get(FhirSubscription, sub)
        assert row is not None
        row.last_notified_at = utcnow() - timedelta(seconds=61)  # a period ago
        db.session.commit()
        counts = commands.run_once(10)
        assert counts["heartbeats"] == 1 and counts["sent"] == 1, counts
        row.last_notified_at = utcnow() - timedelta(seconds=61)
        db.session.commit()
        result = app.test_cli_runner().invoke(args=["worker", "--once"])
        assert result.exit_code == 0, result.output
        assert "heartbeats queued: 1, sent: 1," in result.output
    kinds = [_type(r["body"]) for r in receiver.wait_for(3)]
    assert kinds == ["handshake", "heartbeat", "heartbeat"]


def test_two_workers_at_once_queue_one_heartbeat(
    app: Flask, client: FlaskClient, auth: dict[str, dict[str, str]], receiver: Receiver
) -> None:
    subs = [
        _post(client, auth[name], with_heartbeat(receiver.url, 300)).get_json()["id"]
        for name in ("coordinator", "staff_a", "staff_b")
    ]
    later = max(_last_notified(app, sub) for sub in subs) + timedelta(seconds=300)
    barrier = threading.Barrier(2)
    results: list[int] = []
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            with app.app_context():
                barrier.wait(timeout=10)
                results.append(queue_heartbeats(later))
                db.session.remove()
        except BaseException as exc:  # noqa: BLE001 (reported below)
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert sum(results) == 3, results
    assert _kinds(app).count("fhir-heartbeat") == 3
    with app.app_context():
        subjects = db.session.scalars(
            select(OutboxMessage.subject).where(OutboxMessage.kind == "fhir-heartbeat")
        ).all()
    assert sorted(subjects) == sorted(f"Subscription/{sub}" for sub in subs)


BAD_PERIODS = [0, -5, 59, 86_401, 10**12, "600", 60.5, True, None]


@pytest.mark.parametrize("period", BAD_PERIODS)
def test_nonsense_heartbeat_periods_are_refused(
    app: Flask, client: FlaskClient, auth: dict[str, dict[str, str]], period: Any
) -> None:
    response = _post(client, auth["coordinator"], with_heartbeat("https://ehr.example/h", period))
    assert response.status_code == 400, response.get_json()
    issue = response.get_json()["issue"][0]
    assert issue["expression"] == [f"Subscription.channel.extension('{HEARTBEAT}')"]
    assert _kinds(app) == []  # nothing written, no handshake queued


def test_malformed_channel_extensions_are_refused(
    client: FlaskClient, auth: dict[str, dict[str, str]]
) -> None:
    for extensions in ("x", [1], [{"url": HEARTBEAT, "valueUnsignedInt": 60}] * 2):
        body = subscription("https://ehr.example/h")
        body["channel"]["extension"] = extensions
        response = _post(client, auth["coordinator"], body)
        assert response.status_code == 400
        assert response.get_json()["issue"][0]["expression"][0].startswith(
            "Subscription.channel.extension"
        )
    # Extensions carenet does not know are let be; no period, no heartbeats.
    body = subscription("https://ehr.example/h")
    body["channel"]["extension"] = [{"url": "http://example.org/x", "valueString": "y"}]
    created = _post(client, auth["coordinator"], body)
    assert created.status_code == 201 and "extension" not in created.get_json()["channel"]


def test_status_operation(
    app: Flask, client: FlaskClient, auth: dict[str, dict[str, str]], receiver: Receiver
) -> None:
    mine = _post(client, auth["coordinator"], with_heartbeat(receiver.url, 600)).get_json()["id"]
    other = _post(client, auth["coordinator"], subscription(receiver.url)).get_json()["id"]
    theirs = _post(client, auth["coordinator_other"], subscription(receiver.url)).get_json()["id"]
    with app.app_context():
        row = db.session.get(FhirSubscription, other)
        assert row is not None
        row.status, row.events_since_start = "off", 4
        db.session.commit()

    answer = client.get(f"/fhir/Subscription/{mine}/$status", headers=auth["coordinator"])
    assert answer.status_code == 200 and answer.mimetype == FHIR
    bundle = answer.get_json()
    Bundle.model_validate(bundle)
    assert bundle["type"] == "searchset" and bundle["total"] == 1
    status = bundle["entry"][0]["resource"]
    Parameters.model_validate(status)
    params = _params(status)
    assert params["type"]["valueCode"] == "query-status"
    assert params["status"]["valueCode"] == "active"
    assert params["events-since-subscription-start"]["valueString"] == "0"
    assert params["topic"]["valueCanonical"] == TASK_STATUS_TOPIC
    assert params["subscription"]["valueReference"]["reference"] == (
        f"http://localhost/fhir/Subscription/{mine}"
    )
    # Another organization's subscription does not exist for you; nor does a made-up one.
    for sub, who in ((theirs, "coordinator"), (mine, "coordinator_other"), ("nope", "staff_a")):
        refused = client.get(f"/fhir/Subscription/{sub}/$status", headers=auth[who])
        assert refused.status_code == 404
        assert refused.get_json()["resourceType"] == "OperationOutcome"
    assert client.get(f"/fhir/Subscription/{mine}/$status").status_code in (401, 403)

    # At the type level: the caller's own, filtered by id and status.
    def listed(query: str, who: str = "coordinator") -> list[tuple[str, str]]:
        got = client.get(f"/fhir/Subscription/$status{query}", headers=auth[who])
        assert got.status_code == 200, got.get_json()
        Bundle.model_validate(got.get_json())
        out = []
        for entry in got.get_json()["entry"]:
            p = _params(entry["resource"])
            ref = p["subscription"]["valueReference"]["reference"]
            out.append((ref.rsplit("/", 1)[1], p["events-since-subscription-start"]["valueString"]))
        return sorted(out)

    assert listed("") == sorted([(mine, "0"), (other, "4")])
    assert listed(f"?id={other}") == [(other, "4")]
    assert listed(f"?id={mine},{theirs}") == [(mine, "0")]
    assert listed(f"?id={mine}&id={other}&status=off") == [(other, "4")]
    assert listed("?status=active,error") == [(mine, "0")]
    assert listed("", "coordinator_other") == [(theirs, "0")]
    for query in ("?status=paused", "?id=" + "x" * 65, "?id=" + ",".join(["a"] * 101)):
        bad = client.get(f"/fhir/Subscription/$status{query}", headers=auth["coordinator"])
        assert bad.status_code == 400
        assert bad.get_json()["issue"][0]["expression"] in (["status"], ["id"])


def test_metadata_lists_the_status_operation(client: FlaskClient) -> None:
    statement = client.get("/fhir/metadata").get_json(force=True)
    CapabilityStatement.model_validate(statement)
    (resource,) = [r for r in statement["rest"][0]["resource"] if r["type"] == "Subscription"]
    assert resource["operation"] == [
        {
            "name": "status",
            "definition": "http://hl7.org/fhir/uv/subscriptions-backport/OperationDefinition/"
            "backport-subscription-status",
        }
    ]


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=6,
)
_EXTENSION = st.fixed_dictionaries(
    {"url": st.just(HEARTBEAT) | st.text(max_size=10)},
    optional={"valueUnsignedInt": _JSON | st.integers(), "valueString": _JSON},
)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(extension=_JSON | st.lists(_EXTENSION | _JSON, max_size=3))
def test_fuzz_channel_extension_never_500(
    client: FlaskClient, auth: dict[str, dict[str, str]], extension: Any
) -> None:
    body = subscription("https://ehr.example/h")
    body["channel"]["extension"] = extension
    response = _post(client, auth["coordinator"], body)
    assert response.status_code in (201, 400), (extension, response.status_code)
    if response.status_code == 201:
        Subscription.model_validate(response.get_json())


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    query=st.lists(
        st.tuples(st.sampled_from(["id", "status", "_x"]), st.text(max_size=80)), max_size=4
    ),
    instance=st.text(min_size=1, max_size=70),
)
def test_fuzz_status_never_500(
    client: FlaskClient,
    auth: dict[str, dict[str, str]],
    query: list[tuple[str, str]],
    instance: str,
) -> None:
    got = client.get("/fhir/Subscription/$status", query_string=query, headers=auth["staff_a"])
    assert got.status_code in (200, 400), (query, got.status_code)
    one = client.get(
        f"/fhir/Subscription/{quote(instance, safe='')}/$status", headers=auth["staff_a"]
    )
    assert one.status_code in (400, 404, 405), (instance, one.status_code)
