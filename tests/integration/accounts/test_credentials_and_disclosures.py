"""Issue 13, parts 6 and 7: every disclosure accounted for, credentials that expire.

Each test pins a finding measured on the old code: tokens that never expired, survived a
password change and came back with a reactivated user; sessions without an absolute
lifetime; lists audited as one row with a count; refused requests and audit-log views
not audited; rows without the credential or user agent. Both backends.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from factories import PASSWORD, ConsentFactory, PatientFactory, ReferralFactory
from integration.referrals.conftest import Net, build_net, csrf_from
from sqlalchemy import event, select, update

from carenet.accounts import service as accounts
from carenet.accounts import tokens
from carenet.accounts.models import ApiToken, User, UserSession
from carenet.audit.models import AuditEvent
from carenet.db.types import utcnow
from carenet.directory.models import Organization, Service
from carenet.extensions import db
from carenet.referrals import consent
from carenet.referrals.models import Patient

NEW_PASSWORD = "another long test passphrase"


@pytest.fixture
def net(app) -> Net:
    with app.app_context():
        return build_net()


def _client(app, net: Net, name: str, **headers: str):
    client = app.test_client()
    token = csrf_from(client.get("/login").get_data(as_text=True))
    response = client.post(
        "/login",
        data={"email": net.emails[name], "password": PASSWORD, "csrf_token": token},
        headers=headers or None,
    )
    assert response.status_code in (302, 303), response.get_data(as_text=True)[:300]
    return client


def _token(app, net: Net, name: str, days: int | None = None) -> tuple[str, dict[str, str]]:
    with app.app_context():
        row, text = tokens.create_api_token(
            db.session.get(User, net.users[name]), "tests", days=days
        )
        return row.id, {"Authorization": f"Bearer {text}"}


def _rows(app, *where) -> list[AuditEvent]:
    with app.app_context():
        found = list(db.session.scalars(select(AuditEvent).where(*where).order_by(AuditEvent.id)))
        db.session.expunge_all()
        return found


def _set(app, table, row_id: str, **values) -> None:
    with app.app_context():
        db.session.execute(update(table).where(table.id == row_id).values(**values))
        db.session.commit()


def _csrf(client, path: str = "/account") -> str:
    return csrf_from(client.get(path).get_data(as_text=True))


# --- part 7: API tokens expire ------------------------------------------------------------


def test_a_back_dated_token_is_refused_with_a_401_problem(app, net):
    token_id, auth = _token(app, net, "coordinator")
    client = app.test_client()
    assert client.get("/api/v1/me", headers=auth).status_code == 200
    two_years_ago = utcnow() - timedelta(days=730)
    # as migration 0013 backfills an old token: created_at + the default lifetime
    _set(
        app,
        ApiToken,
        token_id,
        created_at=two_years_ago,
        expires_at=two_years_ago + timedelta(days=90),
    )
    response = client.get("/api/v1/me", headers=auth)
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"


def test_a_token_lives_its_chosen_days_within_the_maximum(app, net):
    app.config.update(TOKEN_DEFAULT_DAYS=30, TOKEN_MAX_DAYS=60)
    with app.app_context():
        user = db.session.get(User, net.users["coordinator"])
        default, _ = tokens.create_api_token(user, "default")
        chosen, _ = tokens.create_api_token(user, "chosen", days=60)
        lives = {r.name: r.expires_at - r.created_at for r in (default, chosen)}
        assert lives == {"default": timedelta(days=30), "chosen": timedelta(days=60)}
        with pytest.raises(Exception, match="1 to 60 days"):
            tokens.create_api_token(user, "too long", days=61)
    client = _client(app, net, "coordinator")
    # the account page: a lifetime beyond the maximum is refused, naming it
    page = client.post(
        "/account/tokens", data={"name": "x", "days": "61", "csrf_token": _csrf(client)}
    )
    assert page.status_code == 400 and "Between 1 and 60." in page.get_data(as_text=True)
    made = client.post(
        "/account/tokens", data={"name": "ok", "days": "7", "csrf_token": _csrf(client)}
    )
    assert made.status_code == 200 and "Expires" in made.get_data(as_text=True)
    # the API, from a signed-in session (with its CSRF token)
    headers = {"X-CSRFToken": _csrf(client)}
    refused = client.post("/api/v1/tokens", json={"expires_in_days": 61}, headers=headers)
    assert refused.status_code == 400
    body = client.post(
        "/api/v1/tokens", json={"name": "api", "expires_in_days": 10}, headers=headers
    ).get_json()
    assert body["state"] == "active" and body["token"]
    with app.app_context():
        row = db.session.get(ApiToken, body["id"])
        assert row.expires_at - row.created_at == timedelta(days=10)
    # a token cannot mint a token (it would outlive every expiry)
    minted = app.test_client().post(
        "/api/v1/tokens", json={}, headers={"Authorization": f"Bearer {body['token']}"}
    )
    assert minted.status_code == 403


def test_the_token_list_shows_last_use_and_expiry(app, net, runner):
    token_id, auth = _token(app, net, "coordinator")
    app.test_client().get("/api/v1/me", headers=auth, buffered=True)
    listing = runner.invoke(args=["tokens", "list", "--email", net.emails["coordinator"]])
    assert "last used " in listing.output and "active (expires " in listing.output
    page = _client(app, net, "coordinator").get("/account").get_data(as_text=True)
    assert "Expires" in page and "Last used" in page and "never" not in page.split("tests")[1]


def test_a_password_change_revokes_every_token(app, net):
    token_id, auth = _token(app, net, "coordinator")
    client = _client(app, net, "coordinator")
    response = client.post(
        "/account/password",
        data={
            "current_password": PASSWORD,
            "new_password": NEW_PASSWORD,
            "csrf_token": _csrf(client),
        },
    )
    assert response.status_code in (302, 303)
    assert app.test_client().get("/api/v1/me", headers=auth).status_code == 401
    revoked = _rows(app, AuditEvent.action == "revoke", AuditEvent.object_id == token_id)
    assert [r.detail["reason"] for r in revoked] == ["password_change"]


def test_deactivation_revokes_tokens_for_good(app, net):
    token_id, auth = _token(app, net, "coordinator")
    with app.app_context():
        admin = db.session.get(User, net.users["admin"])
        accounts.set_active(admin, net.users["coordinator"], False)
        accounts.set_active(admin, net.users["coordinator"], True)  # reactivated
        assert db.session.get(ApiToken, token_id).revoked_at is not None
    assert app.test_client().get("/api/v1/me", headers=auth).status_code == 401
    _, fresh = _token(app, net, "coordinator")  # a new token works again
    assert app.test_client().get("/api/v1/me", headers=fresh).status_code == 200


# --- part 7: sessions ---------------------------------------------------------------------


def _session_of(app, net: Net, name: str) -> UserSession:
    with app.app_context():
        row = db.session.scalars(
            select(UserSession)
            .where(UserSession.user_id == net.users[name])
            .order_by(UserSession.created_at.desc())
        ).first()
        db.session.expunge_all()
        return row


def test_a_back_dated_session_is_refused_however_active(app, net):
    client = _client(app, net, "coordinator")
    assert client.get("/api/v1/me").status_code == 200
    row = _session_of(app, net, "coordinator")
    # signed in 11 hours ago and active a second ago: within SESSION_MAX_HOURS (12)
    _set(app, UserSession, row.id, created_at=utcnow() - timedelta(hours=11))
    assert client.get("/api/v1/me").status_code == 200
    _set(app, UserSession, row.id, created_at=utcnow() - timedelta(days=30), last_seen_at=utcnow())
    assert client.get("/api/v1/me").status_code == 401
    assert client.get("/account").status_code == 302  # to the sign-in page
    app.config["SESSION_MAX_HOURS"] = 24 * 31  # the setting decides
    _set(app, UserSession, row.id, ended_at=None, last_seen_at=utcnow())
    assert _client(app, net, "coordinator").get("/api/v1/me").status_code == 200


def test_signing_in_rotates_the_session(app, net):
    client = app.test_client()
    client.get("/login")
    pre_login = client.get_cookie("session").value
    first = _client(app, net, "coordinator")
    first_cookie = first.get_cookie("session").value
    first_row = _session_of(app, net, "coordinator")
    first.post("/logout", data={"csrf_token": _csrf(first)})
    second = _client(app, net, "coordinator")
    second_row = _session_of(app, net, "coordinator")
    assert second_row.id != first_row.id and second_row.key_hash != first_row.key_hash
    assert second.get_cookie("session").value not in (first_cookie, pre_login)
    for stale in (pre_login, first_cookie):  # neither the pre-login nor the old cookie works
        replay = app.test_client()
        replay.set_cookie("session", stale)
        assert replay.get("/api/v1/me").status_code == 401
    assert second.get("/api/v1/me").status_code == 200
    sign_in = _rows(app, AuditEvent.action == "sign_in")
    assert [r.session_id for r in sign_in] == [first_row.id, second_row.id]


# --- part 6: one row per patient disclosed ------------------------------------------------


class CountAuditInserts:
    def __init__(self, app):
        self.app, self.count = app, 0

    def __call__(self, conn, cursor, statement, *args):
        if statement.lstrip().upper().startswith("INSERT INTO AUDIT_EVENT"):
            self.count += 1

    def __enter__(self):
        with self.app.app_context():
            self.engine = db.engine
        event.listen(self.engine, "before_cursor_execute", self)
        return self

    def __exit__(self, *exc):
        event.remove(self.engine, "before_cursor_execute", self)


def _referrals_to_cbo_a(app, net: Net, consenting: int, without: int) -> dict[str, list[str]]:
    """Referrals to CBO A: one per new patient, ``consenting`` of them with valid consent."""
    with app.app_context():
        care = db.session.get(Organization, net.orgs["care"])
        cbo = db.session.get(Organization, net.orgs["cbo_a"])
        service = db.session.get(Service, net.services["open"])
        made: dict[str, list[str]] = {"shown": [], "hidden": []}
        for i in range(consenting + without):
            patient = PatientFactory(organization=care)
            if i < consenting:
                ConsentFactory(patient=patient)
            ReferralFactory(
                need=None,
                patient=patient,
                sender_organization=care,
                recipient_organization=cbo,
                service_id=service.id,
                service_name=service.name,
                coordinator_id=net.users["coordinator"],
            )
            made["shown" if i < consenting else "hidden"].append(patient.id)
        db.session.commit()
        return made


def test_a_referral_list_writes_one_row_per_visible_patient_in_one_insert(app, net):
    made = _referrals_to_cbo_a(app, net, consenting=4, without=2)
    _, auth = _token(app, net, "staff_a")
    with CountAuditInserts(app) as inserts:
        response = app.test_client().get("/api/v1/referrals?box=inbound", headers=auth)
    assert response.status_code == 200 and len(response.get_json()["contents"]) == 6
    assert inserts.count == 1
    rows = _rows(app, AuditEvent.action == "list", AuditEvent.object_type == "referral")
    assert sorted(r.patient_id for r in rows) == sorted(made["shown"])  # stubs disclose no one
    assert {r.organization_id for r in rows} == {net.orgs["cbo_a"]}
    assert all(r.detail["box"] == "inbound" and len(r.detail["referral_ids"]) == 1 for r in rows)


def test_dashboard_and_patient_list_disclose_each_patient_inbox_none(app, net):
    made = _referrals_to_cbo_a(app, net, consenting=2, without=1)
    coordinator = _client(app, net, "coordinator")
    assert coordinator.get("/dashboard").status_code == 200
    dashboard = _rows(app, AuditEvent.action == "list", AuditEvent.object_type == "referral")
    assert sorted(r.patient_id for r in dashboard) == sorted(made["shown"] + made["hidden"])
    with CountAuditInserts(app) as inserts:
        assert coordinator.get("/patients").status_code == 200
    assert inserts.count == 1
    listed = _rows(app, AuditEvent.action == "list", AuditEvent.object_type == "patient")
    with app.app_context():
        everyone = set(db.session.scalars(select(Patient.id)))
    assert {r.patient_id for r in listed} == everyone and len(listed) == len(everyone)
    before = len(_rows(app))
    assert _client(app, net, "staff_a").get("/inbox").status_code == 200
    inbox = [r for r in _rows(app)[before:] if r.action == "list"]
    # the inbox names the client under valid consent (issue 14): it discloses those patients
    # and no one else
    assert {r.object_type for r in inbox} == {"referral"}
    assert sorted(r.patient_id for r in inbox) == sorted(made["shown"])


def test_a_referral_stub_is_no_disclosure(app, net):
    from carenet.referrals.service import ReferralRequest, send_referral

    with app.app_context():
        coordinator = db.session.get(User, net.users["coordinator"])
        request = ReferralRequest(net.patient, net.services["open"], category="food-insecurity")
        referral_id = send_referral(coordinator, request).referral.id
        patient = db.session.get(Patient, net.patient)
        consent.revoke_consent(coordinator, patient.consents[0].id)
    _, auth = _token(app, net, "staff_a")
    assert (
        app.test_client().get(f"/api/v1/referrals/{referral_id}", headers=auth).status_code == 200
    )
    read = _rows(app, AuditEvent.action == "read", AuditEvent.object_id == referral_id)
    assert [(r.patient_id, r.organization_id) for r in read] == [(None, net.orgs["cbo_a"])]
    sent = _rows(app, AuditEvent.action == "create", AuditEvent.object_type == "referral")
    assert [r.patient_id for r in sent] == [net.patient]  # the send itself disclosed


# --- part 6: refused requests, the audit log, credentials on every row --------------------


def _denied(app) -> list[AuditEvent]:
    return _rows(app, AuditEvent.action == "denied")


def test_refused_requests_to_phi_routes_are_audited(app, net):
    with app.app_context():
        referral = ReferralFactory(
            need=None,
            patient=db.session.get(Patient, net.patient),
            recipient_organization=db.session.get(Organization, net.orgs["cbo_a"]),
        )
        db.session.commit()
        referral_id = referral.id
    anonymous = app.test_client()
    assert anonymous.get(f"/api/v1/patients/{net.patient}").status_code == 401
    assert anonymous.get(f"/patients/{net.patient}").status_code == 302
    _, other = _token(app, net, "coordinator_other")
    assert (
        app.test_client().get(f"/api/v1/patients/{net.patient}", headers=other).status_code == 404
    )
    _, staff_b = _token(app, net, "staff_b")
    notes = f"/api/v1/referrals/{referral_id}/notes"
    assert app.test_client().post(notes, json={"body": "x"}, headers=staff_b).status_code == 404
    lead = _client(app, net, "lead")
    assert lead.get("/patients").status_code == 403
    assert lead.get("/admin/users").status_code == 403  # not PHI: not audited here
    rows = _denied(app)
    seen = [(r.actor_email, r.object_type, r.object_id, r.detail["status"]) for r in rows]
    assert seen == [
        (None, "patient", net.patient, 401),
        (None, "patient", net.patient, 302),
        (net.emails["coordinator_other"], "patient", net.patient, 404),
        (net.emails["staff_b"], "referral", referral_id, 404),
        (net.emails["lead"], "patient", None, 403),
    ]
    assert [r.detail["outcome"] for r in rows] == [
        "unauthenticated",
        "sign_in_required",
        "not_found",
        "not_found",
        "forbidden",
    ]
    assert rows[3].detail["route"] == "referrals_api.add_note" and rows[3].token_id
    assert rows[4].session_id == _session_of(app, net, "lead").id


def test_auditing_a_refusal_never_fails_the_response(app, net, monkeypatch):
    from carenet.audit import service as audit_service

    def broken(*args, **kwargs):
        raise RuntimeError("the audit table is unwritable")

    monkeypatch.setattr(audit_service, "record_denied", broken)
    _, other = _token(app, net, "coordinator_other")
    response = app.test_client().get(f"/api/v1/patients/{net.patient}", headers=other)
    assert response.status_code == 404


def test_viewing_the_audit_log_is_audited(app, net):
    admin = _client(app, net, "admin")
    page = admin.get("/admin/audit?action=sign_in&page=1")
    assert page.status_code == 200
    views = _rows(app, AuditEvent.action == "view", AuditEvent.object_type == "audit_event")
    assert [(r.actor_email, r.detail) for r in views] == [
        (net.emails["admin"], {"filters": {"action": "sign_in"}, "page": 1})
    ]
    assert views[0].session_id == _session_of(app, net, "admin").id


def test_rows_carry_the_session_or_token_id_and_the_user_agent(app, net):
    agent = "Mozilla/5.0 " + "x" * 400
    client = _client(app, net, "coordinator", **{"User-Agent": agent})
    assert client.get(f"/patients/{net.patient}", headers={"User-Agent": agent}).status_code == 200
    token_id, auth = _token(app, net, "coordinator")
    api = app.test_client().get(
        f"/api/v1/patients/{net.patient}", headers={**auth, "User-Agent": "curl/8"}
    )
    assert api.status_code == 200
    reads = _rows(app, AuditEvent.action == "read", AuditEvent.object_type == "patient")
    session_id = _session_of(app, net, "coordinator").id
    assert [(r.session_id, r.token_id, r.user_agent) for r in reads] == [
        (session_id, None, agent[:255]),
        (None, token_id, "curl/8"),
    ]
    assert all(r.patient_id == net.patient for r in reads)
    with app.app_context():
        secrets = set(db.session.scalars(select(ApiToken.token_hash)))
        keys = set(db.session.scalars(select(UserSession.key_hash)))
    assert not {r.session_id for r in reads} & keys and not {r.token_id for r in reads} & secrets


# --- the accounting of disclosures (HIPAA §164.528) ---------------------------------------


def test_the_disclosures_command_prints_the_accounting(app, net, runner):
    from carenet.referrals.service import ReferralRequest, send_referral

    coordinator = _client(app, net, "coordinator")
    coordinator.get(f"/patients/{net.patient}")
    with app.app_context():
        user = db.session.get(User, net.users["coordinator"])
        request = ReferralRequest(net.patient, net.services["open"], category="food-insecurity")
        referral_id = send_referral(user, request).referral.id
    _, auth = _token(app, net, "staff_a")
    app.test_client().get(f"/api/v1/referrals/{referral_id}", headers=auth)
    app.test_client().get(f"/api/v1/patients/{net.patient}", headers=auth)  # refused: no row

    result = runner.invoke(args=["audit", "disclosures", "--patient", net.patient])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "Accounting of disclosures for Ana Lopez" in out
    for column in ("Date (UTC)", "Who", "Organization", "What was disclosed", "Purpose"):
        assert column in out
    lines = [line for line in out.splitlines() if "@example.org" in line]
    assert len(lines) == 3
    assert "coordinator@example.org" in lines[0] and "Mercy Clinic" in lines[0]
    assert "patient record" in lines[0] and "care coordination" in lines[0]
    assert "sent with a referral (Pantry A, Food Bank A)" in lines[1]
    assert "staff_a@example.org" in lines[2] and "Food Bank A" in lines[2]
    assert "referral to a community service" in lines[2] and "food-insecurity" in lines[2]
    assert "3 disclosure(s)." in out

    as_json = runner.invoke(args=["audit", "disclosures", "--patient", net.patient, "--json"])
    body = json.loads(as_json.output)
    assert body["patient_id"] == net.patient
    assert [d["person"] for d in body["disclosures"]] == [
        "coordinator@example.org",
        "coordinator@example.org",
        "staff_a@example.org",
    ]
    later = runner.invoke(
        args=["audit", "disclosures", "--patient", net.patient, "--since", "2999-01-01"]
    )
    assert "No disclosures recorded." in later.output
    unknown = runner.invoke(args=["audit", "disclosures", "--patient", "no-such-id"])
    assert unknown.exit_code != 0 and "No patient with id 'no-such-id'" in unknown.output


def test_audit_rows_stay_append_only_after_the_new_columns(app_ctx):
    from sqlalchemy import text
    from sqlalchemy.exc import DatabaseError

    from carenet import audit

    row = audit.record(None, "read", "patient", "p-1", patient_id="p-1")
    db.session.commit()
    for statement in ("UPDATE audit_event SET patient_id = 'x'", "DELETE FROM audit_event"):
        with pytest.raises(DatabaseError, match="append-only"):
            db.session.execute(text(statement))
        db.session.rollback()
    assert db.session.get(AuditEvent, row.id).patient_id == "p-1"
