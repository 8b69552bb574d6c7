"""Consent withdrawn: the table of docs/security.md ("Consent withdrawn"), through the API,
the HTML pages, the lists and the inbox, on both backends; the latest consent decision
wins; the dates of patients and consents."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from carenet.extensions import db
from carenet.referrals.models import OutboxMessage

NOTE = "fleeing abuser, HIV+"
CBO_NOTE = "Called her at the safe house"
COORD_NOTE = "Best after 5pm, ask for Ana"
EVENT_NOTE = "Client frightened, intake tomorrow"
SENSITIVE = "intimate-partner-violence"
SECRETS = {  # field of the table → a text that shows it
    "patient": "Ana Lopez",
    "referral note": NOTE,
    "shared notes": CBO_NOTE,
    "event notes": EVENT_NOTE,
    "sensitive category": "intimate partner violence",
}

# docs/security.md, "Consent withdrawn": role × consent state → full view or stub.
TABLE = [
    ("coordinator", "valid", "full"),
    ("coordinator", "withdrawn", "full"),
    ("coordinator", "expired", "full"),
    ("staff_a", "valid", "full"),
    ("staff_a", "withdrawn", "stub"),
    ("staff_a", "expired", "stub"),
    ("admin_a", "valid", "full"),
    ("admin_a", "withdrawn", "stub"),
]
# field → (in the full view, in the stub)
FIELDS = {
    "patient": ("visible", "hidden"),
    "referral note": ("visible", "hidden"),
    "shared notes": ("visible", "hidden"),
    "event notes": ("visible", "hidden"),
    "sensitive category": ("visible", "hidden"),  # "Restricted category" instead
    "organization, service, dates, status": ("visible", "visible"),
    "consent withdrawn": ("hidden", "visible"),
}


def _send(client, net, tokens, **extra):
    body = {
        "patient_id": net.patient,
        "service_id": net.services["open"],
        "category": SENSITIVE,
        "note": NOTE,
        **extra,
    }
    return client.post("/api/v1/referrals", json=body, headers=tokens["coordinator"])


def _move(client, tokens, who, referral, to, version, **fields):
    return client.post(
        f"/api/v1/referrals/{referral}/transitions",
        json={"to": to, "version": version, **fields},
        headers=tokens[who],
    )


def _consents(client, net, tokens):
    return client.get(f"/api/v1/patients/{net.patient}", headers=tokens["coordinator"]).get_json()


def _revoke_latest(client, net, tokens):
    active = [c for c in _consents(client, net, tokens)["consents"] if c["state"] == "active"]
    response = client.post(
        f"/api/v1/consents/{active[0]['id']}/revoke", json={}, headers=tokens["coordinator"]
    )
    assert response.status_code == 200, response.get_json()


def _expire_every_consent(app):
    with app.app_context():
        db.session.execute(
            db.text("UPDATE consent SET expires_at = :t, starts_at = :s"),
            {"t": datetime(2020, 1, 2, tzinfo=UTC), "s": datetime(2020, 1, 1, tzinfo=UTC)},
        )
        db.session.commit()


def _referral_in_state(app, client, net, tokens, state):
    """A referral with a note, notes of both sides and an event note, then consent ``state``."""
    sent = _send(client, net, tokens)
    assert sent.status_code == 201, sent.get_json()
    referral = sent.get_json()["id"]
    for who, text in (("staff_a", CBO_NOTE), ("coordinator", COORD_NOTE)):
        added = client.post(
            f"/api/v1/referrals/{referral}/notes", json={"body": text}, headers=tokens[who]
        )
        assert added.status_code == 201
    assert (
        _move(client, tokens, "staff_a", referral, "accepted", 1, note=EVENT_NOTE).status_code
        == 200
    )
    if state == "withdrawn":
        _revoke_latest(client, net, tokens)
    elif state == "expired":
        _expire_every_consent(app)
    return referral


def _api_shows(client, tokens, who, referral):
    """field → whether the API shows it to ``who`` (the referral, its events, the list)."""
    body = client.get(f"/api/v1/referrals/{referral}", headers=tokens[who]).get_json()
    events = client.get(f"/api/v1/referrals/{referral}/events", headers=tokens[who]).get_json()
    box = "outbound" if who == "coordinator" else "inbound"
    listed = client.get(f"/api/v1/referrals?box={box}", headers=tokens[who]).get_json()
    row = next(r for r in listed["contents"] if r["id"] == referral)
    for key in ("patient", "note", "category", "consent_withdrawn", "outcome", "need_id"):
        assert row[key] == body[key], key  # the list shows what the referral shows
    shows = {
        "patient": body["patient"] is not None,
        "referral note": body["note"] == NOTE,
        "shared notes": {n["body"] for n in body["notes"]} == {CBO_NOTE, COORD_NOTE},
        "event notes": EVENT_NOTE in [e["note"] for e in events["contents"]],
        "sensitive category": body["category"] == SENSITIVE,
        "organization, service, dates, status": (
            body["service"]["name"] == "Pantry A"
            and body["recipient_organization"]["name"] == "Food Bank A"
            and body["sender_organization"]["name"] == "Mercy Clinic"
            and body["status"] == "accepted"
            and body["created_at"] is not None
            and body["follow_up_on"] is not None
        ),
        "consent withdrawn": body["consent_withdrawn"],
    }
    if not shows["sensitive category"]:
        assert body["category_label"] == "Restricted category"
    if body["consent_withdrawn"]:  # the stub: nothing but its fields
        assert body["notes"] == [] and body["patient"] is None and body["need_id"] is None
        assert body["coordinator_id"] is None
    return shows


def _page_shows(client, tokens, who, referral):
    page = client.get(f"/referrals/{referral}", headers=tokens[who])
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    shows = {field: text in html for field, text in SECRETS.items()}
    shows["shared notes"] = CBO_NOTE in html and COORD_NOTE in html
    shows["organization, service, dates, status"] = all(
        text in html for text in ("Pantry A", "Food Bank A", "Mercy Clinic", "accepted")
    )
    shows["consent withdrawn"] = 'id="consent-withdrawn"' in html
    if shows["consent withdrawn"]:
        assert "Restricted category" in html
        assert "Add a note" not in html and 'name="note"' not in html
    return shows


@pytest.mark.parametrize("who, state, sight", TABLE)
def test_the_table_of_what_each_side_sees(app, client, api_net, tokens, who, state, sight):
    referral = _referral_in_state(app, client, api_net, tokens, state)
    column = 0 if sight == "full" else 1
    expected = {field: cells[column] == "visible" for field, cells in FIELDS.items()}
    assert _api_shows(client, tokens, who, referral) == expected
    assert _page_shows(client, tokens, who, referral) == expected
    if who != "coordinator":  # the inbox: a row, marked when withdrawn; the client's name
        # and the need only under valid consent (issue 14), never a note
        for url in ("/inbox", "/inbox/accepted"):
            html = client.get(url, headers=tokens[who]).get_data(as_text=True)
            assert "Pantry A" in html
            assert ("consent withdrawn" in html) == (sight == "stub")
            shown = {field for field, text in SECRETS.items() if text in html}
            assert shown == (set() if sight == "stub" else {"patient", "sensitive category"})


def test_two_consents_revoking_one_stops_sharing_until_a_newer_consent(client, api_net, tokens):
    coordinator = tokens["coordinator"]
    second = client.post(
        f"/api/v1/patients/{api_net.patient}/consents",
        json={"method": "written"},
        headers=coordinator,
    )
    assert second.status_code == 201
    body = _consents(client, api_net, tokens)
    assert body["consent_valid"] is True
    assert [c["state"] for c in body["consents"]] == ["active", "superseded"]
    referral = _send(client, api_net, tokens).get_json()["id"]
    older = body["consents"][1]["id"]  # not the latest decision, yet revoking it withdraws
    assert (
        client.post(f"/api/v1/consents/{older}/revoke", json={}, headers=coordinator).status_code
        == 200
    )
    body = _consents(client, api_net, tokens)
    assert body["consent_valid"] is False
    assert [(c["decision"], c["state"]) for c in body["consents"]] == [
        ("deny", "revocation"),
        ("permit", "superseded"),
        ("permit", "revoked"),
    ]
    refused = _send(client, api_net, tokens)
    assert refused.status_code == 409
    assert refused.mimetype == "application/problem+json"
    assert "consent" in refused.get_json()["errors"]
    seen = client.get(f"/api/v1/referrals/{referral}", headers=tokens["staff_a"]).get_json()
    assert seen["consent_withdrawn"] is True and seen["note"] is None
    again = client.post(
        f"/api/v1/patients/{api_net.patient}/consents",
        json={"method": "verbal"},
        headers=coordinator,
    )
    assert again.status_code == 201
    assert _consents(client, api_net, tokens)["consent_valid"] is True
    seen = client.get(f"/api/v1/referrals/{referral}", headers=tokens["staff_a"]).get_json()
    assert seen["consent_withdrawn"] is False and seen["note"] == NOTE
    assert _send(client, api_net, tokens).status_code == 201


def test_while_withdrawn_the_cbo_cannot_accept_or_note_but_can_close(client, api_net, tokens):
    first = _send(client, api_net, tokens).get_json()["id"]
    second = _send(client, api_net, tokens).get_json()["id"]
    assert _move(client, tokens, "staff_a", second, "accepted", 1).status_code == 200
    _revoke_latest(client, api_net, tokens)
    staff = tokens["staff_a"]
    body = client.get(f"/api/v1/referrals/{first}", headers=staff).get_json()
    assert body["allowed_transitions"] == ["rejected"]
    accept = _move(client, tokens, "staff_a", first, "accepted", 1)
    assert accept.status_code == 403 and "consent" in accept.get_json()["errors"]
    note = client.post(f"/api/v1/referrals/{first}/notes", json={"body": "hi"}, headers=staff)
    assert note.status_code == 403 and "consent" in note.get_json()["errors"]
    with_note = _move(client, tokens, "staff_a", first, "rejected", 1, reason="duplicate", note="x")
    assert with_note.status_code == 400 and "note" in with_note.get_json()["errors"]
    other = _move(client, tokens, "staff_a", first, "rejected", 1, reason="other")
    assert other.status_code == 400
    closed = _move(client, tokens, "staff_a", first, "rejected", 1, reason="declined-by-client")
    assert closed.status_code == 200 and closed.get_json()["status"] == "rejected"
    body = client.get(f"/api/v1/referrals/{second}", headers=staff).get_json()
    assert body["allowed_transitions"] == ["failed"]
    start = _move(client, tokens, "staff_a", second, "in-progress", 2)
    assert start.status_code == 403
    failed = _move(client, tokens, "staff_a", second, "failed", 2, reason="could-not-contact")
    assert failed.status_code == 200 and failed.get_json()["status"] == "failed"
    # The HTML page offers the same: close only, no note field, no "other".
    html = client.get(f"/referrals/{second}", headers=staff).get_data(as_text=True)
    assert "Accept" not in html and 'value="other"' not in html
    # The referring side keeps everything: its notes and its own moves.
    coordinator = tokens["coordinator"]
    mine = client.get(f"/api/v1/referrals/{first}", headers=coordinator).get_json()
    assert mine["note"] == NOTE and mine["patient"]["name"] == "Ana Lopez"
    ok = client.post(f"/api/v1/referrals/{first}/notes", json={"body": "ok"}, headers=coordinator)
    assert ok.status_code == 201


def test_emails_carry_nothing_a_stub_hides(app, client, api_net, tokens):
    referral = _referral_in_state(app, client, api_net, tokens, "withdrawn")
    assert (
        _move(client, tokens, "staff_a", referral, "failed", 2, reason="duplicate").status_code
        == 200
    )
    with app.app_context():
        messages = db.session.scalars(select(OutboxMessage)).all()
    assert messages
    for message in messages:
        text = message.subject + message.body
        assert not any(secret in text for secret in SECRETS.values())


# --- dates ---------------------------------------------------------------------------


def _patient(client, tokens, birth_date):
    body = {"given_name": "Rosa", "family_name": "Diaz", "birth_date": birth_date}
    return client.post("/api/v1/patients", json=body, headers=tokens["coordinator"])


@pytest.mark.parametrize(
    "birth_date, status",
    [
        ("2999-01-01", 400),
        ("0001-01-01", 400),
        ("1899-12-31", 400),
        ((date.today() + timedelta(days=2)).isoformat(), 400),
        ("1900-01-01", 201),
        (date.today().isoformat(), 201),
    ],
)
def test_birth_dates_run_from_1900_to_today(client, tokens, birth_date, status):
    response = _patient(client, tokens, birth_date)
    assert response.status_code == status, response.get_json()
    if status == 400:
        assert "birth_date" in response.get_json()["errors"]


@pytest.mark.parametrize(
    "fields, status",
    [
        ({"starts_at": "2999-01-01T00:00:00Z"}, 400),
        ({"starts_at": (datetime.now(UTC) + timedelta(days=1)).isoformat()}, 400),
        ({"starts_at": "1990-05-01T00:00:00Z"}, 400),  # before the patient's record
        ({"starts_at": "1990-05-01T00:00:00Z", "historical": True}, 201),  # a paper form
        ({"historical": True}, 400),  # the paper form's date is required
        ({"starts_at": "1949-01-01T00:00:00Z", "historical": True}, 400),  # before birth
        ({}, 201),
    ],
)
def test_consent_dates(client, api_net, tokens, fields, status):
    response = client.post(
        f"/api/v1/patients/{api_net.patient}/consents",
        json={"method": "written", **fields},
        headers=tokens["coordinator"],
    )
    assert response.status_code == status, response.get_json()
    if status == 400:
        assert "starts_at" in response.get_json()["errors"]
    else:
        assert response.get_json()["historical"] is bool(fields.get("historical"))
