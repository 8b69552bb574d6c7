"""Every route of the app declares who may reach it, and the gate enforces it for every role.

The matrix walks ``app.url_map`` as it is at test time, so a route added anywhere
without an access marker makes ``test_every_route_declares_its_access`` fail.
"""

from __future__ import annotations

from flask import Flask
from flask_login import AnonymousUserMixin

from carenet.accounts.access import Verdict, is_framework_endpoint, marker_of, route_verdict
from carenet.accounts.models import User
from carenet.extensions import db

ROLES = ("coordinator", "cbo_staff", "cbo_admin", "program_lead", "admin")
EVERYONE = frozenset({"anonymous", *ROLES})
SIGNED_IN = frozenset(ROLES)
PLACEHOLDER = "00000000-0000-4000-8000-000000000000"

# The policy, written out for the routes of this issue: who may reach them.
EXPECTED = {
    "public.index": EVERYONE,
    "public.healthz": EVERYONE,
    "directory.service_page": EVERYONE,
    "accounts.login": EVERYONE,
    "accounts.logout": SIGNED_IN,
    "accounts.account": SIGNED_IN,
    "accounts.create_token": SIGNED_IN,
    "accounts.revoke_token": SIGNED_IN,
    "accounts.change_password": SIGNED_IN,
    "accounts_api.me": SIGNED_IN,
    "accounts_api.create_token": SIGNED_IN,
    "accounts_api.revoke_token": SIGNED_IN,
    "accounts_admin.users": frozenset({"admin"}),
    "accounts_admin.deactivate": frozenset({"admin"}),
    "accounts_admin.activate": frozenset({"admin"}),
    "audit.audit_log": frozenset({"admin"}),
    "outbox_admin.outbox": frozenset({"admin"}),
    "outbox_admin.retry": frozenset({"admin"}),
    "curation.services": frozenset({"cbo_admin", "admin"}),
    "curation.stale": frozenset({"cbo_admin", "admin"}),
    "curation.edit_service": frozenset({"cbo_admin", "admin"}),
    "curation.verify_service": frozenset({"cbo_admin", "admin"}),
}


def _rules(app: Flask):
    return [r for r in app.url_map.iter_rules() if not is_framework_endpoint(r.endpoint)]


def undeclared_endpoints(app: Flask) -> list[str]:
    return sorted(r.endpoint for r in _rules(app) if not marker_of(app.view_functions[r.endpoint]))


def test_every_route_declares_its_access(app):
    assert undeclared_endpoints(app) == []


def test_every_permission_marker_names_a_policy_rule(app):
    from carenet.accounts.policy import RULES

    missing = []
    for rule in _rules(app):
        marker = marker_of(app.view_functions[rule.endpoint]) or ()
        if marker and marker[0] == "permission" and tuple(marker[1:]) not in RULES:
            missing.append(f"{rule.endpoint}: {marker[1:]}")
    assert missing == []


def test_a_route_added_without_a_marker_is_flagged_and_refused(app, world, sign_in):
    app.add_url_rule("/forgotten", "forgotten", lambda: "secret")
    assert undeclared_endpoints(app) == ["forgotten"]
    client = app.test_client()
    sign_in(client, world.emails["admin"])
    assert client.get("/forgotten").status_code == 403
    assert app.test_client().get("/forgotten").status_code == 403


def _url(rule) -> str:
    values = {}
    for name in rule.arguments:
        converter = rule._converters[name]
        values[name] = 1 if type(converter).__name__ in ("IntegerConverter",) else PLACEHOLDER
    return rule.build(values, append_unknown=False)[1]


def _refused(response, who: str) -> bool:
    if who == "anonymous":
        if response.status_code == 401:
            return True
        return response.status_code == 302 and "/login" in response.headers["Location"]
    return response.status_code == 403


def test_matrix_every_route_for_every_role(app, world, sign_in):
    problems = []
    for who in ["anonymous", *ROLES]:
        client = app.test_client()
        if who != "anonymous":
            assert sign_in(client, world.emails[who]).status_code == 302
        with app.app_context():
            user = (
                AnonymousUserMixin()
                if who == "anonymous"
                else db.session.scalar(db.select(User).where(User.email == world.emails[who]))
            )
            verdicts = {
                r.endpoint: route_verdict(app.view_functions[r.endpoint], user) for r in _rules(app)
            }
        for rule in _rules(app):
            if rule.endpoint == "accounts.logout":
                continue  # exercised in the auth tests; here it would end the session
            allowed = verdicts[rule.endpoint] is Verdict.ALLOW
            expected = EXPECTED.get(rule.endpoint)
            if expected is not None and (who in expected) != allowed:
                problems.append(
                    f"{who} {rule.endpoint}: admitted={allowed}, table expects={who in expected}"
                )
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                response = client.open(_url(rule), method=method)
                if allowed == _refused(response, who):
                    problems.append(
                        f"{who} {method} {rule.rule}: allowed={allowed} got {response.status_code}"
                    )
                if allowed and method != "GET" and response.status_code != 400:
                    # a POST the gate admits still needs its CSRF token (cookie sessions)
                    problems.append(f"{who} {method} {rule.rule}: no CSRF refusal")
    assert problems == []
