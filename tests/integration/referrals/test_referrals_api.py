"""The referral JSON API end to end over HTTP (bearer tokens), on both backends."""

from __future__ import annotations

from sqlalchemy import func, select

from carenet.audit.models import AuditEvent
from carenet.extensions import db
from carenet.referrals.models import Referral

FOOD = {"category": "food-insecurity"}


def _send(client, net, tokens, service="open", key=None, **extra):
    headers = dict(tokens["coordinator"])
    if key:
        headers["Idempotency-Key"] = key
    body = {"patient_id": net.patient, "service_id": net.services[service], **FOOD, **extra}
    return client.post("/api/v1/referrals", json=body, headers=headers)


def _move(client, tokens, who, referral, to, version, **fields):
    return client.post(
        f"/api/v1/referrals/{referral}/transitions",
        json={"to": to, "version": version, **fields},
        headers=tokens[who],
    )


def test_a_coordinator_registers_a_patient_and_is_warned_of_a_duplicate(app, client, tokens):
    body = {
        "given_name": "Rosa",
        "family_name": "Diaz",
        "birth_date": "1948-05-06",
        "postal_code": "33130",
        "preferred_language": "es",
    }
    first = client.post("/api/v1/patients", json=body, headers=tokens["coordinator"])
    assert first.status_code == 201, first.get_json()
    assert first.get_json()["warnings"] == []
    assert first.get_json()["latitude"] is not None  # placed on the map from the ZIP
    again = client.post(
        "/api/v1/patients", json={**body, "given_name": "ROSA"}, headers=tokens["coordinator"]
    )
    assert again.status_code == 201
    assert again.get_json()["possible_duplicates"] == [first.get_json()["id"]]
    assert "already exists" in again.get_json()["warnings"][0]


def test_bad_patient_input_is_a_400_naming_the_field(client, tokens):
    response = client.post(
        "/api/v1/patients",
        json={"given_name": "X", "birth_date": "soon"},
        headers=tokens["coordinator"],
    )
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"
    assert {"family_name", "birth_date"} <= set(response.get_json()["errors"])


def test_a_language_tag_longer_than_its_column_is_a_400_naming_the_field(client, tokens):
    body = {"given_name": "Ana", "family_name": "Ruiz", "birth_date": "1950-01-02"}
    for tag in ("zho-Hant1234", "es-ABCDEFGH"):  # pass the tag pattern, exceed 8 characters
        response = client.post(
            "/api/v1/patients",
            json={**body, "preferred_language": tag},
            headers=tokens["coordinator"],
        )
        assert response.status_code == 400, tag
        assert "preferred_language" in response.get_json()["errors"]
    ok = client.post(
        "/api/v1/patients",
        json={**body, "preferred_language": "es-US"},
        headers=tokens["coordinator"],
    )
    assert ok.status_code == 201


def test_patient_reads_are_audited_and_hidden_from_other_organizations(
    app, client, api_net, tokens
):
    url = f"/api/v1/patients/{api_net.patient}"
    assert client.get(url, headers=tokens["coordinator"]).status_code == 200
    assert client.get(url, headers=tokens["coordinator_other"]).status_code == 404
    for outsider in ("staff_a", "lead", "admin"):
        assert client.get(url, headers=tokens[outsider]).status_code == 403
    with app.app_context():
        reads = db.session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "read", AuditEvent.object_id == api_net.patient)
        )
    assert reads == 1


def test_screening_turns_positive_answers_into_needs_with_search_categories(
    client, api_net, tokens
):
    answers = {"88122-7": "LA28397-0", "93030-5": "LA33-6", "71802-3": "LA31993-1"}
    response = client.post(
        f"/api/v1/patients/{api_net.patient}/screenings",
        json={"answers": answers},
        headers=tokens["coordinator"],
    )
    assert response.status_code == 201, response.get_json()
    needs = {n["category"]: n for n in response.get_json()["needs"]}
    assert set(needs) == {"food-insecurity", "transportation-insecurity"}
    assert "food-pantry" in needs["food-insecurity"]["search_categories"]
    bad = client.post(
        f"/api/v1/patients/{api_net.patient}/screenings",
        json={"answers": {"93030-5": "maybe"}},
        headers=tokens["coordinator"],
    )
    assert bad.status_code == 400 and "93030-5" in bad.get_json()["errors"]


def test_no_referral_without_valid_consent(client, api_net, tokens):
    body = {
        "patient_id": api_net.patient_without_consent,
        "service_id": api_net.services["open"],
        **FOOD,
    }
    response = client.post("/api/v1/referrals", json=body, headers=tokens["coordinator"])
    assert response.status_code == 409
    assert "consent" in response.get_json()["errors"]
    consent = client.post(
        f"/api/v1/patients/{api_net.patient_without_consent}/consents",
        json={"method": "written"},
        headers=tokens["coordinator"],
    )
    assert consent.status_code == 201 and consent.get_json()["state"] == "active"
    assert (
        client.post("/api/v1/referrals", json=body, headers=tokens["coordinator"]).status_code
        == 201
    )


def test_revoking_consent_hides_the_patient_from_the_cbo_but_keeps_the_referral(
    client, api_net, tokens
):
    referral = _send(client, api_net, tokens).get_json()
    url = f"/api/v1/referrals/{referral['id']}"
    seen = client.get(url, headers=tokens["staff_a"]).get_json()
    assert seen["patient"]["name"] == "Ana Lopez"
    patient = client.get(
        f"/api/v1/patients/{api_net.patient}", headers=tokens["coordinator"]
    ).get_json()
    consent_id = patient["consents"][0]["id"]
    revoked = client.post(
        f"/api/v1/consents/{consent_id}/revoke",
        json={"note": "asked"},
        headers=tokens["coordinator"],
    )
    assert revoked.status_code == 200 and revoked.get_json()["state"] == "revoked"
    hidden = client.get(url, headers=tokens["staff_a"]).get_json()
    assert hidden["patient"] is None and "consent" in hidden["patient_notice"]
    assert hidden["status"] == "requested"
    assert client.get(url, headers=tokens["coordinator"]).get_json()["patient"] is not None
    assert _send(client, api_net, tokens).status_code == 409  # no new referral either


def test_expired_consent_hides_the_patient_too(app, client, api_net, tokens):
    referral = _send(client, api_net, tokens).get_json()
    with app.app_context():
        db.session.execute(
            db.text("UPDATE consent SET expires_at = :t, starts_at = :s"),
            {"t": "2020-01-02 00:00:00", "s": "2020-01-01 00:00:00"},
        )
        db.session.commit()
    body = client.get(f"/api/v1/referrals/{referral['id']}", headers=tokens["staff_a"]).get_json()
    assert body["patient"] is None


def test_a_retried_create_returns_the_first_referral(app, client, api_net, tokens):
    first = _send(client, api_net, tokens, key="abc-123")
    again = _send(client, api_net, tokens, key="abc-123")
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.get_json()["id"] == again.get_json()["id"]
    assert again.headers["Idempotent-Replayed"] == "true"
    different = _send(client, api_net, tokens, key="abc-123", note="another")
    assert different.status_code == 409
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Referral)) == 1


def test_capacity_gate_refuses_full_and_warns_on_waitlist(client, api_net, tokens):
    full = _send(client, api_net, tokens, service="full")
    assert full.status_code == 409 and "service_id" in full.get_json()["errors"]
    waitlist = _send(client, api_net, tokens, service="waitlist")
    assert waitlist.status_code == 201
    assert "waitlist" in waitlist.get_json()["warnings"][0]


def test_the_whole_loop_over_http_with_stale_versions_refused(client, api_net, tokens):
    referral = _send(client, api_net, tokens).get_json()
    rid = referral["id"]
    inbox = client.get("/api/v1/referrals?box=inbound", headers=tokens["staff_a"]).get_json()
    assert [r["id"] for r in inbox["contents"]] == [rid]
    assert (
        client.get("/api/v1/referrals?box=inbound", headers=tokens["staff_b"]).get_json()[
            "contents"
        ]
        == []
    )
    opened = client.get(f"/api/v1/referrals/{rid}", headers=tokens["staff_a"]).get_json()
    assert opened["viewed_at"] and opened["allowed_transitions"] == ["accepted", "rejected"]
    assert _move(client, tokens, "staff_a", rid, "accepted", 1).status_code == 200
    stale = _move(client, tokens, "staff_a", rid, "in-progress", 1)
    assert stale.status_code == 409
    assert _move(client, tokens, "coordinator", rid, "in-progress", 2).status_code == 403
    assert _move(client, tokens, "staff_b", rid, "in-progress", 2).status_code == 404
    assert _move(client, tokens, "staff_a", rid, "completed", 2).status_code == 409
    assert _move(client, tokens, "staff_a", rid, "in-progress", 2).status_code == 200
    no_outcome = _move(client, tokens, "staff_a", rid, "completed", 3)
    assert no_outcome.status_code == 400 and "outcome" in no_outcome.get_json()["errors"]
    done = _move(client, tokens, "staff_a", rid, "completed", 3, outcome="Groceries for 2 weeks")
    assert done.status_code == 200 and done.get_json()["status"] == "completed"
    note = client.post(
        f"/api/v1/referrals/{rid}/notes", json={"body": "Thanks!"}, headers=tokens["coordinator"]
    )
    assert note.status_code == 201
    seen = client.get(f"/api/v1/referrals/{rid}", headers=tokens["staff_a"]).get_json()
    assert [n["body"] for n in seen["notes"]] == ["Thanks!"]
    events = client.get(f"/api/v1/referrals/{rid}/events", headers=tokens["coordinator"])
    assert [e["to_status"] for e in events.get_json()["contents"]] == [
        "requested",
        "accepted",
        "in-progress",
        "completed",
    ]
    outbound = client.get(
        "/api/v1/referrals?box=outbound&status=completed", headers=tokens["coordinator"]
    ).get_json()
    assert [r["id"] for r in outbound["contents"]] == [rid]


def test_bad_transition_input_is_a_400(client, api_net, tokens):
    rid = _send(client, api_net, tokens).get_json()["id"]
    response = _move(client, tokens, "staff_a", rid, "received", "1")
    assert response.status_code == 400
    assert {"to", "version"} <= set(response.get_json()["errors"])
    assert _move(client, tokens, "staff_a", rid, "rejected", 1, reason="busy").status_code == 400


def test_program_leads_and_admins_see_no_person(client, api_net, tokens):
    rid = _send(client, api_net, tokens).get_json()["id"]
    for who in ("lead", "admin"):
        assert client.get(f"/api/v1/referrals/{rid}", headers=tokens[who]).status_code == 403
        assert client.get("/api/v1/referrals", headers=tokens[who]).status_code == 403


def test_cbo_staff_switch_only_their_own_services_capacity(client, api_net, tokens):
    url = f"/api/v1/services/{api_net.services['open']}/capacity"
    ok = client.post(url, json={"capacity_status": "waitlist"}, headers=tokens["staff_a"])
    assert ok.status_code == 200 and ok.get_json()["capacity_status"] == "waitlist"
    assert (
        client.post(
            url, json={"capacity_status": "waitlist"}, headers=tokens["staff_b"]
        ).status_code
        == 403
    )
    assert (
        client.post(url, json={"capacity_status": "lots"}, headers=tokens["staff_a"]).status_code
        == 400
    )
