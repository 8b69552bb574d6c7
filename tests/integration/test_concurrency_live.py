"""Many clients at once against gunicorn (two worker processes), on both backends: no request
gets a 5xx, nothing is lost.

Each test builds a small network in its database, serves it with gunicorn as production
does (``live_server.serve_gunicorn``) and fires requests from threads released together.
It asserts outcomes, not speed: no 5xx, the answers each client should get, and the rows
those answers promise. (tests/integration/referrals/test_referrals_concurrency.py races
the same services in threads of one process.)
"""

from __future__ import annotations

import http.client
import json
import re
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest
from factories import (
    PASSWORD,
    ConsentFactory,
    OrganizationFactory,
    PatientFactory,
    ServiceFactory,
    UserFactory,
)
from flask import Flask
from live_server import serve_gunicorn
from sqlalchemy import func, select

from carenet.accounts import tokens
from carenet.accounts.models import User, UserSession
from carenet.audit.models import AuditEvent
from carenet.extensions import db
from carenet.referrals.models import Referral, ReferralEvent, ReferralNote
from carenet.referrals.service import ReferralRequest, send_referral

USERS = {  # name → (role, organization)
    "coordinator": ("coordinator", "care"),
    "staff": ("cbo_staff", "cbo"),
    "admin": ("cbo_admin", "cbo"),
    "lead": ("program_lead", "care"),
}
CSRF_FIELD = re.compile(r'name="csrf_token"[^>]*?value="([^"]+)"')


@dataclass
class Answer:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class Client:
    """One user's HTTP client: a connection per request, its own cookies, maybe a token."""

    def __init__(self, base: str, token: str | None = None) -> None:
        parts = urlsplit(base)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port
        self.token = token
        self.cookies: dict[str, str] = {}

    def call(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        form: Any = None,
        headers: dict[str, str] | None = None,
    ) -> Answer:
        headers = dict(headers or {})
        body = None
        if json_body is not None:
            body = json.dumps(json_body).encode()
            headers["Content-Type"] = "application/json"
        elif form is not None:
            body = urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        return self._send(method, path, body, headers)

    def _send(self, method: str, path: str, body: bytes | None, headers: dict) -> Answer:
        conn = http.client.HTTPConnection(self.host, self.port, timeout=120)
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            answer = Answer(response.status, response.headers, response.read())
        finally:
            conn.close()
        for line in answer.headers.get_all("Set-Cookie") or []:
            cookie: SimpleCookie = SimpleCookie()
            cookie.load(line)
            self.cookies.update({name: morsel.value for name, morsel in cookie.items()})
        return answer


def together(calls: list[Callable[[], Any]]) -> list[Any]:
    """Run the calls in threads released at the same moment; their results (or exceptions)."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(i: int) -> None:
        try:
            barrier.wait()
            results[i] = calls[i]()
        except Exception as exc:  # asserted on by the caller
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=180)
    return results


def statuses(answers: list[Any]) -> Counter:
    """status → how many; a request that got no answer at all counts under its exception."""
    return Counter(a.status if isinstance(a, Answer) else type(a).__name__ for a in answers)


def no_5xx(answers: list[Any]) -> None:
    counted = statuses(answers)
    bad = {k: n for k, n in counted.items() if not isinstance(k, int) or k >= 500}
    assert not bad, f"5xx or no answer: {counted}"


@dataclass
class Live:
    base: str
    log: Path
    emails: dict[str, str]
    tokens: dict[str, str]
    patient: str
    service: str
    referral: str

    def client(self, name: str | None = None) -> Client:
        return Client(self.base, self.tokens[name] if name else None)

    def tracebacks(self) -> int:
        return self.log.read_text(errors="replace").count("Traceback")


def _build_network() -> dict[str, Any]:
    orgs = {
        "care": OrganizationFactory(name="Mercy Clinic", kind="care"),
        "cbo": OrganizationFactory(name="Food Bank"),
    }
    service = ServiceFactory(organization=orgs["cbo"], name="Pantry", locations=[])
    users = {
        name: UserFactory(email=f"{name}@example.org", role=role, organization=orgs[org])
        for name, (role, org) in USERS.items()
    }
    patient = PatientFactory(organization=orgs["care"], created_by_id=users["coordinator"].id)
    ConsentFactory(patient=patient, recorded_by_id=users["coordinator"].id)
    db.session.commit()
    made = {name: tokens.create_api_token(user, "live")[1] for name, user in users.items()}
    coordinator = db.session.get(User, users["coordinator"].id)
    request = ReferralRequest(patient.id, service.id, category="food-insecurity")
    referral = send_referral(coordinator, request).referral
    return {
        "emails": {name: f"{name}@example.org" for name in USERS},
        "tokens": made,
        "patient": patient.id,
        "service": service.id,
        "referral": referral.id,
    }


@pytest.fixture
def live(app: Flask, database_url: str, tmp_path: Path) -> Iterator[Live]:
    """The test's database with a small network in it, served by gunicorn -w 2."""
    with app.app_context():
        built = _build_network()
        db.session.remove()
        db.engine.dispose()  # the test process holds no connection while gunicorn serves
    with serve_gunicorn(database_url, tmp_path, workers=2) as base:
        yield Live(base, tmp_path / "gunicorn.log", **built)


def count(app: Flask, stmt: Any) -> int:
    with app.app_context():
        found = db.session.scalar(stmt) or 0
        db.session.remove()
        return int(found)


def test_simultaneous_sign_ins_all_succeed(app, live):
    names = [list(USERS)[i % len(USERS)] for i in range(24)]
    clients = [live.client() for _ in names]
    forms = []
    for name, client in zip(names, clients, strict=True):
        page = client.call("GET", "/login")
        assert page.status == 200
        token = CSRF_FIELD.search(page.body.decode())
        assert token, "no CSRF token on the login page"
        forms.append({"email": live.emails[name], "password": PASSWORD, "csrf_token": token[1]})

    answers = together(
        [
            lambda c=c, f=f: c.call("POST", "/login", form=f)
            for c, f in zip(clients, forms, strict=True)
        ]
    )

    no_5xx(answers)
    assert statuses(answers) == {302: 24}
    assert {c.call("GET", "/account").status for c in clients} == {200}  # each one signed in
    sessions = count(app, select(func.count()).select_from(UserSession))
    sign_ins = select(func.count()).where(AuditEvent.action == "sign_in")
    assert (sessions, count(app, sign_ins)) == (24, 24)
    assert live.tracebacks() == 0


def test_referral_lists_and_pages_read_while_notes_are_added(app, live):
    path = f"/api/v1/referrals/{live.referral}"
    rounds = 10

    def coordinator_reads() -> list[Answer]:
        client = live.client("coordinator")
        return [
            client.call("GET", "/api/v1/referrals?box=outbound" if i % 2 else path)
            for i in range(rounds)
        ]

    def cbo_writes(who: str) -> Callable[[], list[Answer]]:
        def write() -> list[Answer]:
            client = live.client(who)
            return [
                client.call("POST", f"{path}/notes", json_body={"body": f"{who} note {i}"})
                for i in range(rounds)
            ]

        return write

    work = [coordinator_reads] * 4 + [cbo_writes("staff"), cbo_writes("admin")] * 2
    results = together(work)

    assert not [r for r in results if isinstance(r, Exception)], results
    reads = [a for batch in results[:4] for a in batch]
    writes = [a for batch in results[4:] for a in batch]
    no_5xx(reads + writes)
    assert statuses(reads) == {200: 40} and statuses(writes) == {201: 40}
    notes = select(func.count()).select_from(ReferralNote)
    assert count(app, notes) == 40  # every note answered 201 is there
    listed = select(func.count()).where(
        AuditEvent.action == "list", AuditEvent.object_type == "referral"
    )
    read = select(func.count()).where(
        AuditEvent.action == "read", AuditEvent.object_id == live.referral
    )
    assert (count(app, listed), count(app, read)) == (20, 20)  # every read audited
    assert live.tracebacks() == 0


def test_conflicting_moves_have_exactly_one_winner_and_the_rest_get_409(app, live):
    path = f"/api/v1/referrals/{live.referral}/transitions"
    moves = [
        ("staff", {"to": "accepted"}),
        ("admin", {"to": "rejected", "reason": "no-capacity"}),
        ("coordinator", {"to": "cancelled", "reason": "duplicate"}),
    ]
    clients = [(live.client(who), body) for who, body in moves * 7][:20]

    answers = together(
        [lambda c=c, b=b: c.call("POST", path, json_body={**b, "version": 1}) for c, b in clients]
    )

    no_5xx(answers)
    assert statuses(answers) == {200: 1, 409: 19}
    winner = next(a.json() for a in answers if a.status == 200)
    with app.app_context():
        referral = db.session.get(Referral, live.referral)
        assert (referral.status, referral.version) == (winner["status"], 2)
        events = select(func.count()).where(ReferralEvent.referral_id == live.referral)
        assert db.session.scalar(events) == 2  # sent, then the one move
        db.session.remove()
    assert live.tracebacks() == 0


def test_concurrent_sends_with_one_idempotency_key_make_one_referral(app, live):
    body = {"patient_id": live.patient, "service_id": live.service, "category": "food-insecurity"}
    clients = [live.client("coordinator") for _ in range(12)]

    key = {"Idempotency-Key": "live-retry-1"}

    answers = together(
        [
            lambda c=c: c.call("POST", "/api/v1/referrals", json_body=body, headers=key)
            for c in clients
        ]
    )

    no_5xx(answers)
    assert statuses(answers) == {201: 1, 200: 11}
    assert len({a.json()["id"] for a in answers}) == 1
    keyed = select(func.count()).where(Referral.idempotency_key == "live-retry-1")
    assert count(app, keyed) == 1
    assert live.tracebacks() == 0
