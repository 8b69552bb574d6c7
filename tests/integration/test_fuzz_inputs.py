"""No request gets a 5xx: every route, as every role, with garbage in every input.

Walks ``app.url_map`` (so a route added later is fuzzed too) and sends, as anonymous and
as each role (a bearer token per user, which also skips CSRF so form posts reach their
views), query strings, JSON bodies and form bodies built by hypothesis: deep nesting, lone
surrogates, NUL, huge and non-finite numbers, wrong types, extreme timestamps, long
strings, and real values (ids of seeded rows, vocabulary codes) so that requests also get
past the first check. Path parameters are real ids or garbage.

Every response must be below 500; an API error must be ``application/problem+json``, and
a 400 from the API must name at least one field in ``errors``.

Bounded to run in well under 90 s per backend on 2 cores: a sweep (each route and method,
each role, a few fixed nasty requests) plus ``FUZZ_EXAMPLES`` hypothesis examples
(``CARENET_FUZZ_EXAMPLES`` raises it; derandomized, so a run is reproducible).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from seeded_world import World, seed
from werkzeug.routing import Rule

from carenet.accounts.access import Verdict, route_verdict
from carenet.accounts.models import User
from carenet.directory.models import CAPACITY_STATUSES
from carenet.directory.taxonomy import CATEGORIES, SDOH_CODES
from carenet.extensions import db
from carenet.referrals.models import CONSENT_METHODS, NEED_STATUSES, REFERRAL_STATUSES
from carenet.referrals.workflow import REASONS
from carenet.screening import ahc

FUZZ_EXAMPLES = int(os.environ.get("CARENET_FUZZ_EXAMPLES", "300"))
ROLES = ("anonymous", "coordinator", "cbo_staff", "cbo_admin", "program_lead", "admin")
SKIPPED_ENDPOINTS = {"static", "referrals.static", "accounts.logout"}

# --- values -------------------------------------------------------------------------

NASTY_TEXT = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "\ud800",
    "x\udfffy",
    "x" * 5000,
    "9999-12-31T23:59:59-14:00",
    "0001-01-01T00:00:00+14:00",
    "9999-12-31",
    "0001-01-01",
    "2026-02-30",
    "2026-13-01T25:61",
    "1e999",
    "-1e999",
    "nan",
    "inf",
    "-inf",
    "-1",
    "0",
    "99999999999999999999999999",
    "true",
    "null",
    "[]",
    "{}",
    "../../etc/passwd",
    "' OR 1=1 --",
    "<script>alert(1)</script>",
    "\u202e\ufeff",
    "😀",
]
VOCABULARY = [
    *CONSENT_METHODS,
    *NEED_STATUSES,
    *REFERRAL_STATUSES,
    *REASONS,
    *CAPACITY_STATUSES,
    *SDOH_CODES,
    *(c.slug for c in CATEGORIES),
    *(q.code for q in ahc.QUESTIONS),
    *(option for q in ahc.QUESTIONS for option, _ in q.options),
    "33130",
    "2026-01-15",
    "2026-01-15T10:00:00+00:00",
    "inbound",
    "outbound",
    "domain",
    "period",
    "week",
    "25.77",
    "-80.19",
    "5",
    "1",
    "share-with-cbo",
    "Ana",
    "ana@example.org",
]
FIELD_NAMES = sorted(
    {
        # the schemas' parameters and fields
        *"given_name family_name birth_date phone email address_1 city state_province".split(),
        *"postal_code preferred_language organization_id method scope starts_at".split(),
        *"expires_at note answers patient_id service_id need_id category follow_up_on".split(),
        *"to version reason outcome delivered_on box status body capacity_status".split(),
        *"near lat lon radius_mi q open_now open_at language free age accepting".split(),
        *"page per_page from group_by period domain county zip cbo care_org".split(),
        *"actor action object_type object_id since until".split(),
        # form fields of the pages
        *"password next name current_password new_password description url hours".split(),
        *"phones back idempotency_key organization csrf_token".split(),
        *(q.code for q in ahc.QUESTIONS),
    }
)

huge_numbers = st.sampled_from([10**30, -(10**30), 2**63, 1e308, -1e308, 1e-320])
leaf_values = st.one_of(
    st.sampled_from(NASTY_TEXT),
    st.sampled_from(VOCABULARY),
    st.text(st.characters(codec=None, exclude_categories=()), max_size=12),
    st.integers(),
    huge_numbers,
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.none(),
)
keys = st.one_of(st.sampled_from(FIELD_NAMES), st.sampled_from(NASTY_TEXT[:8]), st.text(max_size=8))
json_values = st.recursive(
    leaf_values,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(keys, children, max_size=4),
    max_leaves=12,
)
text_values = st.one_of(
    st.sampled_from(NASTY_TEXT),
    st.sampled_from(VOCABULARY),
    st.text(st.characters(codec=None, exclude_categories=()), max_size=12),
    st.integers().map(str),
    st.floats().map(str),
)
pairs = st.lists(st.tuples(keys, text_values), max_size=8)

RAW_JSON_BODIES = [
    b"[" * 5000 + b"]" * 5000,
    b'{"a":' * 5000 + b"1" + b"}" * 5000,
    b"[" * 40 + b"]" * 40,
    b"{",
    b'{"note": "unterminated',
    b"\xff\xfe\x00{",
    b'{"body": "\\ud800", "note": "\\udfff"}',
    b'{"body": "a\\u0000b", "given_name": "\\u0000"}',
    b'{"version": 1e999, "radius_mi": NaN, "lat": -Infinity}',
    b'{"version": ' + b"9" * 5000 + b"}",
    b"NaN",
    b"[]",
    b'"text"',
    b"null",
    b"12",
    b"[[]]",  # Flask-WTF built a MultiDict from a JSON body: a 500 on the pages' forms
    b'{"days": {"a": 1}, "name": [1, 2], "email": [], "current_password": {}}',
]


def _encode(text: str) -> str:
    """Percent-encoded UTF-8 (lone surrogates as their bytes, which are invalid UTF-8)."""
    return quote(text.encode("utf-8", "surrogatepass"), safe="")


def _urlencoded(items: Iterable[tuple[str, str]]) -> str:
    return "&".join(f"{_encode(k)}={_encode(v)}" for k, v in items)


def _dumps(document: Any) -> bytes:
    return json.dumps(document).encode("ascii")  # lone surrogates escaped as \udXXX


def routes(app: Flask) -> list[tuple[Rule, str]]:
    found = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint in SKIPPED_ENDPOINTS:
            continue
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            found.append((rule, method))
    return found


def admitted(app: Flask) -> dict[str, list[str]]:
    """The roles the access gate lets through, per endpoint (most examples use one)."""
    with app.app_context():
        users = {
            role: db.session.scalar(db.select(User).where(User.email == f"{role}@example.org"))
            for role in ROLES[1:]
        }
        found: dict[str, list[str]] = {}
        for rule, _ in routes(app):
            view = app.view_functions[rule.endpoint]
            found[rule.endpoint] = [
                role for role, user in users.items() if route_verdict(view, user) is Verdict.ALLOW
            ]
    return found


def path_of(rule: Rule, values: dict[str, str]) -> str:
    """The rule's path with each parameter replaced by its (percent-encoded) value."""
    path = rule.rule
    for name in rule.arguments:
        start = path.index("<")
        end = path.index(">", start)
        path = path[:start] + _encode(values.get(name, "x")) + path[end + 1 :]
    return path


def real_values(rule: Rule, world: World) -> dict[str, str]:
    return {name: (world.ids.get(name) or ["x"])[0] for name in rule.arguments}


# --- sending and checking ----------------------------------------------------------------


@dataclass
class Sent:
    who: str
    method: str
    path: str
    query: str = ""
    body: bytes = b""
    content_type: str | None = None

    def send(self, client: FlaskClient, world: World) -> Any:
        return client.open(
            self.path,
            method=self.method,
            query_string=self.query,
            data=self.body,
            content_type=self.content_type,
            headers={**world.headers[self.who], "Accept": "application/json, text/html;q=0.9"}
            if self.path.startswith("/api/")
            else world.headers[self.who],
        )

    def __str__(self) -> str:
        query, body = self.query[:200], self.body[:200]
        return f"{self.who} {self.method} {self.path}?{query} [{self.content_type}] {body!r}"


def check(sent: Sent, client: FlaskClient, world: World) -> None:
    response = sent.send(client, world)
    status = response.status_code
    assert status < 500, f"{status} for {sent}"
    if sent.path.startswith("/api/") and status >= 400:
        assert response.mimetype == "application/problem+json", f"{response.mimetype} for {sent}"
        problem = response.get_json()
        assert problem["status"] == status, sent
        if status == 400:
            assert isinstance(problem.get("errors"), dict) and problem["errors"], (
                f"400 without naming a field: {problem} for {sent}"
            )


def sweep_requests(rule: Rule, method: str, who: str, world: World) -> list[Sent]:
    """A few fixed requests per route, method and role: real ids with bad input, garbage ids."""
    real = path_of(rule, real_values(rule, world))
    garbage = path_of(rule, dict.fromkeys(rule.arguments, "\x00\ud800"))
    nasty_query = _urlencoded((name, "\x00") for name in ("q", "near", "from", "status"))
    extreme = _urlencoded(
        [("from", "0001-01-01"), ("to", "9999-12-31"), ("since", "9999-12-31"),
         ("open_at", "9999-12-31T23:59:59-14:00"), ("page", "1e999"), ("per_page", "nan"),
         ("radius_mi", "inf"), ("lat", "1e999"), ("near", "33130"), ("zip", "99999")]
    )  # fmt: skip
    every_field = _dumps(dict.fromkeys(FIELD_NAMES, "9999-12-31T23:59:59-14:00"))
    found = [
        Sent(who, method, real, query=nasty_query),
        Sent(who, method, real, query=extreme),
        Sent(who, method, garbage),
        Sent(who, method, real, query="zip=99999&group_by=none"),
    ]
    if method != "GET":
        form = "application/x-www-form-urlencoded"
        found += [
            Sent(who, method, real, body=body, content_type="application/json")
            for body in (every_field, *(RAW_JSON_BODIES[i] for i in (0, 6, 15, 16)))
        ]
        found.append(
            Sent(who, method, real, body=_urlencoded([("note", "\x00"), ("body", "x")]).encode(),
                 content_type=form)
        )  # fmt: skip
    return found


@pytest.fixture
def world(app: Flask) -> World:
    return seed(app)


def test_sweep_every_route_as_every_role(app: Flask, world: World) -> None:
    client = app.test_client()
    for rule, method in routes(app):
        for who in ROLES:
            for sent in sweep_requests(rule, method, who, world):
                check(sent, client, world)


def test_raw_json_bodies_on_every_api_write(app: Flask, world: World) -> None:
    client = app.test_client()
    for rule, method in routes(app):
        if method == "GET" or not rule.rule.startswith("/api/"):
            continue
        path = path_of(rule, real_values(rule, world))
        for body in RAW_JSON_BODIES:
            check(Sent("admin", method, path, body=body, content_type="application/json"),
                  client, world)  # fmt: skip
            check(Sent("coordinator", method, path, body=body, content_type="application/json"),
                  client, world)  # fmt: skip


@st.composite
def requests(draw: st.DrawFn, app: Flask, world: World, allowed: dict[str, list[str]]) -> Sent:
    rule, method = draw(st.sampled_from(routes(app)))
    roles = allowed[rule.endpoint]
    who = draw(
        st.sampled_from(roles) if roles and draw(st.integers(0, 4)) else st.sampled_from(ROLES)
    )
    values = {
        name: draw(
            st.one_of(st.sampled_from(world.ids.get(name) or ["x"]), st.sampled_from(NASTY_TEXT))
        )
        for name in rule.arguments
    }
    sent = Sent(who, method, path_of(rule, values), query=_urlencoded(draw(pairs)))
    kind = draw(st.sampled_from(["none", "json", "form"] if method != "GET" else ["none"]))
    if kind == "json":
        body = draw(st.one_of(st.dictionaries(keys, json_values, max_size=8), json_values))
        sent.body, sent.content_type = _dumps(body), "application/json"
    elif kind == "form":
        sent.body = _urlencoded(draw(pairs)).encode("ascii")
        sent.content_type = "application/x-www-form-urlencoded"
    return sent


FUZZ_SETTINGS = settings(
    max_examples=FUZZ_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    phases=(Phase.explicit, Phase.generate),  # no shrinking: the rows change as it runs
    suppress_health_check=list(HealthCheck),
)


def test_hypothesis_requests(app: Flask, world: World) -> None:
    client = app.test_client()
    allowed = admitted(app)

    @FUZZ_SETTINGS
    @given(st.data())
    def run(data: st.DataObject) -> None:
        check(data.draw(requests(app, world, allowed)), client, world)

    run()
