"""SMART Backend Services: client registration, the token endpoint's checks and errors,
the SMART configuration, and scopes enforced on /fhir (both backends)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import jwt
import pytest
from factories import OrganizationFactory
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from test_smart_support import Keys, assertion, new_keys, register, token_form

from carenet.accounts.models import ApiToken, User
from carenet.audit.models import AuditEvent
from carenet.extensions import db
from carenet.fhir.clients import FhirClient, FhirClientJti

AUD = "http://localhost/fhir/auth/token"
SCOPES = "system/Subscription.crds system/Task.rs system/Patient.r"


@pytest.fixture
def care_org(app: Flask) -> str:
    with app.app_context():
        org = OrganizationFactory(name="Mercy Health", kind="care")
        db.session.commit()
        return org.id


@pytest.fixture
def rsa_client(runner: FlaskCliRunner, tmp_path: Path, care_org: str) -> tuple[str, Keys]:
    keys = new_keys("RS384")
    return register(runner, tmp_path, keys, care_org, SCOPES), keys


def _token(client: FlaskClient, form: dict[str, str]) -> Any:
    return client.post("/fhir/auth/token", data=form)


def test_smart_configuration_is_published_at_both_places(client: FlaskClient) -> None:
    for path in ("/.well-known/smart-configuration", "/fhir/.well-known/smart-configuration"):
        response = client.get(path)
        assert response.status_code == 200
        body = response.get_json()
        assert body["token_endpoint"] == AUD
        assert body["grant_types_supported"] == ["client_credentials"]
        assert body["token_endpoint_auth_methods_supported"] == ["private_key_jwt"]
        assert set(body["token_endpoint_auth_signing_alg_values_supported"]) == {
            "RS384",
            "ES384",
        }
        assert "client-confidential-asymmetric" in body["capabilities"]
        assert "system/Task.crus" in body["scopes_supported"]


def test_register_makes_a_service_account_of_the_organization(
    app: Flask, runner: FlaskCliRunner, rsa_client: tuple[str, Keys], care_org: str
) -> None:
    client_id, _ = rsa_client
    with app.app_context():
        row = db.session.get(FhirClient, client_id)
        assert row is not None and row.organization_id == care_org
        assert row.scopes == "system/Patient.r system/Subscription.crds system/Task.rs"
        user = db.session.get(User, row.user_id)
        assert user is not None and user.roles == {"coordinator"}
        assert user.organization_ids() == {care_org}
    listed = runner.invoke(args=["fhir-clients", "list"])
    assert client_id in listed.output


def test_register_refuses_bad_input(runner: FlaskCliRunner, tmp_path: Path, care_org: str) -> None:
    keys = new_keys()
    path = tmp_path / "k.json"
    path.write_text('{"keys": [{"kty": "oct", "k": "c2VjcmV0"}]}')
    args = ["fhir-clients", "create", "--name", "x", "--organization", care_org]
    bad_keys = runner.invoke(args=[*args, "--jwks", str(path), "--scopes", "system/Task.rs"])
    assert bad_keys.exit_code != 0 and "public RSA or EC" in bad_keys.output
    path.write_text(__import__("json").dumps(keys.jwks))
    bad_scope = runner.invoke(args=[*args, "--jwks", str(path), "--scopes", "user/Task.read"])
    assert bad_scope.exit_code != 0 and "system scope" in bad_scope.output
    nowhere = ["fhir-clients", "create", "--name", "x", "--organization", "nope"]
    missing = runner.invoke(args=[*nowhere, "--jwks", str(path), "--scopes", "system/Task.rs"])
    assert missing.exit_code != 0


@pytest.mark.parametrize("alg", ["RS384", "ES384"])
def test_token_for_a_signed_assertion(
    app: Flask,
    client: FlaskClient,
    runner: FlaskCliRunner,
    tmp_path: Path,
    care_org: str,
    alg: str,
) -> None:
    keys = new_keys(alg)
    client_id = register(runner, tmp_path, keys, care_org, SCOPES)
    response = _token(
        client, token_form(assertion(keys, client_id, AUD), "system/Task.read system/Foo.c")
    )
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["token_type"] == "bearer" and body["expires_in"] == 300
    assert body["scope"] == "system/Task.rs"  # read → rs; Foo is not registered: dropped
    assert response.headers["Cache-Control"] == "no-store"
    with app.app_context():
        row = db.session.scalar(select(ApiToken).order_by(ApiToken.created_at.desc()))
        assert row is not None
        lifetime = (row.expires_at - row.created_at).total_seconds()
        assert 299 <= lifetime <= 301
        actions = set(db.session.scalars(select(AuditEvent.action)))
        assert "fhir_token" in actions


def test_token_authenticates_fhir_within_its_scopes(
    client: FlaskClient, rsa_client: tuple[str, Keys]
) -> None:
    client_id, keys = rsa_client
    form = token_form(assertion(keys, client_id, AUD), "system/Subscription.rs")
    token = _token(client, form).get_json()["access_token"]
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/fhir+json"}
    listed = client.get("/fhir/Subscription", headers=headers)
    assert listed.status_code == 200
    assert listed.get_json()["resourceType"] == "Bundle"
    # No c on Subscription in this token: creating is refused before the view.
    created = client.post(
        "/fhir/Subscription", json={"resourceType": "Subscription"}, headers=headers
    )
    assert created.status_code == 403
    assert created.get_json()["issue"][0]["code"] == "forbidden"
    # A SMART token is for /fhir only.
    assert client.get("/api/v1/referrals", headers=headers).status_code == 403


def test_scope_of_a_transaction_bundle_is_checked_per_entry(
    client: FlaskClient, rsa_client: tuple[str, Keys]
) -> None:
    client_id, keys = rsa_client
    token = _token(client, token_form(assertion(keys, client_id, AUD), "system/Task.rs"))
    headers = {"Authorization": f"Bearer {token.get_json()['access_token']}"}
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [{"request": {"method": "POST", "url": "Task"}, "resource": {}}],
    }
    response = client.post("/fhir", json=bundle, headers=headers)
    assert response.status_code == 403
    assert "system/Task.c" in response.get_json()["issue"][0]["diagnostics"]


def _error(response: Any) -> tuple[int, str]:
    return response.status_code, response.get_json()["error"]


def test_token_refusals(
    app: Flask, client: FlaskClient, rsa_client: tuple[str, Keys], care_org: str
) -> None:
    client_id, keys = rsa_client
    other = new_keys()
    now = int(time.time())
    cases = [
        (
            {**token_form(assertion(keys, client_id, AUD)), "grant_type": "password"},
            400,
            "unsupported_grant_type",
        ),
        (
            {**token_form(assertion(keys, client_id, AUD)), "client_assertion_type": "x"},
            400,
            "invalid_request",
        ),
        (token_form("not.a.jwt"), 401, "invalid_client"),
        (token_form(assertion(other, client_id, AUD)), 401, "invalid_client"),
        (token_form(assertion(keys, "nobody", AUD)), 401, "invalid_client"),
        (token_form(assertion(keys, client_id, AUD, sub="someone")), 401, "invalid_client"),
        (token_form(assertion(keys, client_id, "https://elsewhere/token")), 400, "invalid_grant"),
        (token_form(assertion(keys, client_id, AUD, exp=now + 3600)), 400, "invalid_grant"),
        (token_form(assertion(keys, client_id, AUD, exp=now - 600)), 400, "invalid_grant"),
        (token_form(assertion(keys, client_id, AUD, jti=None)), 400, "invalid_grant"),
        (token_form(assertion(keys, client_id, AUD), "system/Consent.rs"), 400, "invalid_scope"),
        (token_form(assertion(keys, client_id, AUD), "patient/Task.rs"), 400, "invalid_scope"),
        (token_form(assertion(keys, client_id, AUD), ""), 400, "invalid_scope"),
    ]
    for form, status, error in cases:
        assert _error(_token(client, form)) == (status, error), form
        with app.app_context():
            db.session.execute(__import__("sqlalchemy").text("DELETE FROM login_failure"))
            db.session.commit()
    hs = jwt.encode({"iss": client_id, "sub": client_id, "aud": AUD}, "k" * 32, "HS256")
    assert _error(_token(client, token_form(hs))) == (401, "invalid_client")
    with app.app_context():
        refused = db.session.scalar(
            select(func.count()).where(AuditEvent.action == "fhir_token_refused")
        )
        assert refused == 9  # the assertions that got past the form checks
        assert db.session.scalar(select(func.count()).select_from(ApiToken)) == 0


def test_a_jti_is_used_once(app: Flask, client: FlaskClient, rsa_client: tuple[str, Keys]) -> None:
    client_id, keys = rsa_client
    signed = assertion(keys, client_id, AUD)
    assert _token(client, token_form(signed)).status_code == 200
    assert _error(_token(client, token_form(signed))) == (400, "invalid_grant")
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(FhirClientJti)) == 1


def test_failed_assertions_are_throttled_like_sign_in(
    client: FlaskClient, rsa_client: tuple[str, Keys]
) -> None:
    client_id, keys = rsa_client
    wrong = new_keys()
    statuses = [
        _token(client, token_form(assertion(wrong, client_id, AUD))).status_code for _ in range(7)
    ]
    assert statuses[:5] == [401] * 5
    assert statuses[-1] == 429
    # Even the right key waits now.
    response = _token(client, token_form(assertion(keys, client_id, AUD)))
    assert response.status_code == 429 and int(response.headers["Retry-After"]) > 0


def test_a_deactivated_client_gets_no_token_and_its_tokens_stop(
    client: FlaskClient, runner: FlaskCliRunner, rsa_client: tuple[str, Keys]
) -> None:
    client_id, keys = rsa_client
    token = _token(client, token_form(assertion(keys, client_id, AUD))).get_json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/fhir/Subscription", headers=headers).status_code == 200
    assert runner.invoke(args=["fhir-clients", "deactivate", client_id]).exit_code == 0
    assert client.get("/fhir/Subscription", headers=headers).status_code == 401
    refused = _token(client, token_form(assertion(keys, client_id, AUD)))
    assert _error(refused) == (401, "invalid_client")


_TEXT = st.one_of(
    st.text(max_size=60),
    st.sampled_from(
        [
            "client_credentials",
            "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "system/Task.rs",
            "system/*.*",
            "a.b.c",
            "eyJhbGciOiJSUzM4NCJ9.e30.x",
        ]
    ),
)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    form=st.dictionaries(
        st.sampled_from(
            ["grant_type", "client_assertion_type", "client_assertion", "scope", "client_id", "x"]
        ),
        _TEXT,
        max_size=6,
    )
)
def test_fuzz_token_form_never_500(client: FlaskClient, form: dict[str, str]) -> None:
    response = client.post("/fhir/auth/token", data=form)
    assert response.status_code in (400, 401, 429), (form, response.status_code)
    if response.mimetype == "application/problem+json":  # NUL / lone surrogates: refused
        assert response.status_code == 400  # for every route (carenet/validation.py)
        return
    assert response.get_json()["error"] in {
        "invalid_request",
        "invalid_client",
        "invalid_grant",
        "invalid_scope",
        "unsupported_grant_type",
    }


def test_the_same_assertion_sent_concurrently_gets_one_token(
    app: Flask, rsa_client: tuple[str, Keys]
) -> None:
    import threading

    import requests
    from live_server import serve_app

    client_id, keys = rsa_client
    with serve_app(app) as base:
        url = f"{base}/fhir/auth/token"
        form = token_form(assertion(keys, client_id, url))
        barrier = threading.Barrier(4)
        answers: list[tuple[int, str]] = []

        def post() -> None:
            barrier.wait()
            response = requests.post(url, data=form, timeout=30)
            answers.append((response.status_code, response.json().get("error", "")))

        threads = [threading.Thread(target=post) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    assert sorted(answers) == [(200, "")] + [(400, "invalid_grant")] * 3, answers


def test_scopes_parse_narrow_and_map_to_interactions() -> None:
    from carenet.errors import InvalidInput
    from carenet.fhir import clients
    from carenet.fhir.smart import interaction_of

    registered = clients.parse_scopes("system/Task.crus system/Patient.read")
    assert registered == {"Task": frozenset("crus"), "Patient": frozenset("rs")}
    asked = clients.parse_scopes("system/*.read system/Task.write system/Consent.c")
    assert clients.format_scopes(clients.narrow(asked, registered)) == (
        "system/Patient.rs system/Task.crus"
    )
    assert clients.allowed({"*": frozenset("r")}, "Task", "r")
    assert not clients.allowed({"Task": frozenset("r")}, "Task", "s")
    for bad in ("user/Task.rs", "system/Task.x", "system/task.rs", "system/Task", "launch"):
        with pytest.raises(InvalidInput):
            clients.parse_scopes(bad)
    assert interaction_of("GET", "/Task/abc") == ("Task", "r")
    assert interaction_of("GET", "/Task") == ("Task", "s")
    assert interaction_of("POST", "/Task/_search") == ("Task", "s")
    assert interaction_of("POST", "/Task") == ("Task", "c")
    assert interaction_of("PUT", "/Task/abc") == ("Task", "u")
    assert interaction_of("DELETE", "/Subscription/abc") == ("Subscription", "d")
    assert interaction_of("POST", "") is None


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=80))
def test_fuzz_scope_strings_are_parsed_or_refused(text: str) -> None:
    from carenet.errors import InvalidInput
    from carenet.fhir import clients

    try:
        grants = clients.parse_scopes(text)
    except InvalidInput:
        return
    assert clients.parse_scopes(clients.format_scopes(grants)) == {
        k: v for k, v in grants.items() if v
    }


def test_expired_tokens_of_a_client_are_cleared_a_day_later(
    app: Flask, client: FlaskClient, rsa_client: tuple[str, Keys]
) -> None:
    from datetime import timedelta

    from carenet.db.types import utcnow
    from carenet.fhir.clients import FhirClientToken

    client_id, keys = rsa_client
    assert _token(client, token_form(assertion(keys, client_id, AUD))).status_code == 200
    with app.app_context():
        old = db.session.scalar(select(ApiToken))
        assert old is not None
        old_id = old.id
        old.expires_at = utcnow() - timedelta(days=2)
        db.session.commit()
    assert _token(client, token_form(assertion(keys, client_id, AUD))).status_code == 200
    with app.app_context():
        assert db.session.get(ApiToken, old_id) is None
        assert db.session.get(FhirClientToken, old_id) is None
        assert db.session.scalar(select(func.count()).select_from(ApiToken)) == 1
