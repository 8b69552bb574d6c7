"""SMART Backend Services for /fhir: the token endpoint, the SMART configuration and the
scopes a system client's token carries (docs/fhir-access.md).

``POST /fhir/auth/token`` takes ``grant_type=client_credentials`` with a JWT assertion
(RFC 7523) signed RS384 or ES384 by a key of the client's registered JWKS: ``iss`` =
``sub`` = client_id, ``aud`` = the token URL, ``exp`` at most five minutes ahead, a
``jti`` never used before. It answers an access token living 300 s, authenticating the
client's service account (``carenet.fhir.clients``). Failures answer OAuth errors
(``invalid_request``, ``invalid_client``, ``invalid_grant``, ``invalid_scope``,
``unsupported_grant_type``) with 400 / 401, are throttled per client like sign-in
(``carenet.accounts.throttle``) and audited (``fhir_token_refused``).

``current_scopes()`` is what the /fhir views may ask: None for a caller that is not a
SMART client (a person's session or API token: the policy alone decides), else the
granted ``Grants``. ``enforce_scopes`` (a before-request hook on every path) refuses a
SMART token outside /fhir and any /fhir interaction its scopes do not grant, before the
view runs.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import jwt
from flask import Blueprint, Response, current_app, g, jsonify, request, url_for
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from carenet import audit
from carenet.accounts import access, throttle
from carenet.accounts.models import ApiToken
from carenet.accounts.tokens import new_token, token_hash, token_prefix
from carenet.db.retry import run_in_transaction
from carenet.db.types import as_utc, utcnow
from carenet.errors import InvalidInput
from carenet.extensions import csrf, db
from carenet.fhir import clients
from carenet.fhir.clients import FhirClient, FhirClientJti, FhirClientToken, Grants

TOKEN_LIFETIME = 300
MAX_ASSERTION_LIFETIME = 300
CLOCK_SKEW = 30  # seconds of disagreement between clocks tolerated on exp / iat / nbf
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
MAX_ASSERTION_LENGTH = 16_384
KEEP_EXPIRED = timedelta(days=1)
SUPPORTED_SCOPES = [
    "system/*.rs",
    "system/Patient.cr",
    "system/Consent.cr",
    "system/ServiceRequest.crs",
    "system/Task.crus",
    "system/Procedure.rs",
    "system/Subscription.crds",
]
OPEN_FHIR_PATHS = ("/fhir/metadata", "/fhir/auth/token", "/fhir/.well-known/")

blueprint = Blueprint("fhir_smart", __name__)


class OAuthError(Exception):
    """A refused token request: the OAuth ``error`` code, a description, the status."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.error, self.description, self.status = error, description, status


@dataclass(frozen=True)
class Issued:
    access_token: str
    scope: str


# --- the endpoints -------------------------------------------------------------


@blueprint.get("/.well-known/smart-configuration")
@blueprint.get("/fhir/.well-known/smart-configuration")
@access.public
def smart_configuration() -> Response:
    body = {
        "issuer": url_for("fhir_smart.token", _external=True).rsplit("/auth/token", 1)[0],
        "token_endpoint": url_for("fhir_smart.token", _external=True),
        "grant_types_supported": ["client_credentials"],
        "token_endpoint_auth_methods_supported": ["private_key_jwt"],
        "token_endpoint_auth_signing_alg_values_supported": list(clients.SIGNING_ALGORITHMS),
        "scopes_supported": SUPPORTED_SCOPES,
        "capabilities": ["client-confidential-asymmetric", "permission-v1", "permission-v2"],
    }
    response = jsonify(body)
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response


@blueprint.post("/fhir/auth/token")
@access.public
@csrf.exempt
def token() -> Response:
    try:
        issued = issue_token(request.form.to_dict(flat=True), _remote_addr())
    except OAuthError as exc:
        response = jsonify({"error": exc.error, "error_description": exc.description})
        response.status_code = exc.status
        if exc.status == 401:
            response.headers["WWW-Authenticate"] = 'Bearer error="invalid_client"'
        if exc.status == 429:
            response.headers["Retry-After"] = str(getattr(exc, "retry_after", 60))
    else:
        response = jsonify(
            {
                "access_token": issued.access_token,
                "token_type": "bearer",
                "expires_in": TOKEN_LIFETIME,
                "scope": issued.scope,
            }
        )
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    return response


def _remote_addr() -> str:
    return (request.remote_addr or "unknown")[:64]


def token_urls() -> set[str]:
    """The token URL as a client may have written it in ``aud``: as this request reached us,
    and under ``BASE_URL``."""
    base = str(current_app.config.get("BASE_URL") or "").rstrip("/")
    urls = {url_for("fhir_smart.token", _external=True)}
    if base:
        urls.add(f"{base}/fhir/auth/token")
    return urls


# --- issuing -------------------------------------------------------------------


def issue_token(form: dict[str, str], remote_addr: str) -> Issued:
    """Check a token request and issue an access token; ``OAuthError`` on any refusal."""
    assertion = _check_form(form)
    client_id = _claimed_client(assertion)
    failure_id = _begin(client_id, remote_addr)
    try:
        client = _client(client_id)
        claims = _verify(assertion, client)
        grants = _granted(form.get("scope", ""), client)
        try:
            return run_in_transaction(lambda: _issue(client_id, claims, grants, failure_id))
        except IntegrityError as exc:  # the same jti inserted concurrently (PostgreSQL)
            raise OAuthError("invalid_grant", "This assertion (jti) was already used.") from exc
    except OAuthError as exc:
        refusal = exc
        run_in_transaction(lambda: _refused(client_id, refusal))
        raise


def _check_form(form: dict[str, str]) -> str:
    if form.get("grant_type") != "client_credentials":
        raise OAuthError("unsupported_grant_type", "grant_type must be client_credentials.")
    if form.get("client_assertion_type") != ASSERTION_TYPE:
        raise OAuthError("invalid_request", f"client_assertion_type must be {ASSERTION_TYPE}.")
    assertion = form.get("client_assertion") or ""
    if not assertion or len(assertion) > MAX_ASSERTION_LENGTH:
        raise OAuthError("invalid_request", "client_assertion is missing or too long.")
    if not (form.get("scope") or "").strip():
        raise OAuthError("invalid_scope", "scope is required.")
    return assertion


def _claimed_client(assertion: str) -> str:
    """The client the assertion names (``iss``), read before its signature is checked."""
    try:
        header = jwt.get_unverified_header(assertion)
        claims = jwt.decode(assertion, options={"verify_signature": False})
    except (jwt.PyJWTError, ValueError, TypeError) as exc:
        raise OAuthError("invalid_client", "client_assertion is not a JWT.", 401) from exc
    if header.get("alg") not in clients.SIGNING_ALGORITHMS:
        raise OAuthError("invalid_client", "Sign the assertion with RS384 or ES384.", 401)
    issuer = claims.get("iss") if isinstance(claims, dict) else None
    if not isinstance(issuer, str) or not 0 < len(issuer) <= 64:
        raise OAuthError("invalid_client", "The assertion has no usable iss.", 401)
    return issuer


def _begin(client_id: str, remote_addr: str) -> str:
    """Throttle like a sign-in: count the attempt as a failure before checking it."""
    account = f"fhir-client:{client_id}"

    def work() -> str:
        throttle.serialize(account, remote_addr)
        limit = throttle.check(account, remote_addr)
        if limit:
            error = OAuthError("invalid_client", limit.message, 429)
            error.retry_after = limit.retry_after_seconds  # type: ignore[attr-defined]
            raise error
        return throttle.record_failure(account, remote_addr)

    return run_in_transaction(work)


def _client(client_id: str) -> FhirClient:
    client = db.session.get(FhirClient, client_id)
    if client is None or not client.active:
        raise OAuthError("invalid_client", "Unknown or inactive client.", 401)
    return client


def _keys(client: FhirClient, header: dict[str, Any]) -> list[jwt.PyJWK]:
    alg = header["alg"]
    kty = "RSA" if alg.startswith("RS") else "EC"
    kid = header.get("kid")
    found = []
    for key in client.jwks.get("keys", []):
        if key.get("kty") != kty or (kid is not None and key.get("kid") != kid):
            continue
        try:
            found.append(jwt.PyJWK(key, alg))
        except (jwt.PyJWTError, ValueError, TypeError, KeyError):
            continue
    return found


def _verify(assertion: str, client: FhirClient) -> dict[str, Any]:
    header = jwt.get_unverified_header(assertion)
    for key in _keys(client, header):
        try:
            claims: dict[str, Any] = jwt.decode(
                assertion,
                key,
                algorithms=[header["alg"]],
                audience=sorted(token_urls()),
                issuer=client.id,
                leeway=CLOCK_SKEW,
                options={"require": ["iss", "sub", "aud", "exp", "jti"]},
            )
        except jwt.InvalidSignatureError:
            continue
        except (jwt.ExpiredSignatureError, jwt.ImmatureSignatureError) as exc:
            raise OAuthError("invalid_grant", "The assertion is expired or not yet valid.") from exc
        except jwt.InvalidAudienceError as exc:
            raise OAuthError("invalid_grant", "aud must be this token endpoint's URL.") from exc
        except jwt.PyJWTError as exc:
            raise OAuthError("invalid_grant", f"The assertion is not valid: {exc}.") from exc
        return _check_claims(claims, client)
    raise OAuthError("invalid_client", "No registered key verifies the assertion.", 401)


def _check_claims(claims: dict[str, Any], client: FhirClient) -> dict[str, Any]:
    if claims.get("sub") != client.id:
        raise OAuthError("invalid_client", "sub must be the client_id.", 401)
    exp = claims["exp"]
    now = utcnow().timestamp()
    if not isinstance(exp, int | float) or exp > now + MAX_ASSERTION_LIFETIME + CLOCK_SKEW:
        raise OAuthError("invalid_grant", "exp must be at most five minutes ahead.")
    jti = claims["jti"]
    if not isinstance(jti, str) or not 0 < len(jti) <= 255:
        raise OAuthError("invalid_grant", "jti must be a string of 1–255 characters.")
    return claims


def _granted(scope: str, client: FhirClient) -> Grants:
    try:
        requested = clients.parse_scopes(scope, "scope")
    except InvalidInput as exc:
        raise OAuthError("invalid_scope", exc.detail) from exc
    grants = clients.narrow(requested, clients.parse_scopes(client.scopes))
    if not grants:
        raise OAuthError("invalid_scope", "None of the requested scopes is granted to you.")
    return grants


def _refused(client_id: str, exc: OAuthError) -> None:
    known = db.session.get(FhirClient, client_id)
    audit.record(
        None,
        "fhir_token_refused",
        "fhir_client",
        client_id if known is not None else None,
        {"error": exc.error, "reason": exc.description[:200]},
        organization_id=known.organization_id if known is not None else None,
    )


def _issue(client_id: str, claims: dict[str, Any], grants: Grants, failure_id: str) -> Issued:
    client = db.session.get(FhirClient, client_id)
    if client is None or not client.active:
        raise OAuthError("invalid_client", "Unknown or inactive client.", 401)
    now = utcnow()
    db.session.execute(
        delete(FhirClientJti).where(
            FhirClientJti.client_id == client.id, FhirClientJti.expires_at < now
        )
    )
    # A client gets a token every few minutes: its tokens expired over a day ago go (their
    # scopes with them; audit rows keep the token's id).
    db.session.execute(
        delete(ApiToken).where(
            ApiToken.user_id == client.user_id, ApiToken.expires_at < now - KEEP_EXPIRED
        )
    )
    if db.session.get(FhirClientJti, (client.id, claims["jti"])) is not None:
        raise OAuthError("invalid_grant", "This assertion (jti) was already used.")
    expires = now + timedelta(seconds=MAX_ASSERTION_LIFETIME + 2 * CLOCK_SKEW)
    db.session.add(FhirClientJti(client_id=client.id, jti=claims["jti"], expires_at=expires))
    throttle.forget(failure_id)
    text = new_token()
    row = ApiToken(
        user_id=client.user_id,
        name=f"SMART {client.name}"[:128],
        token_hash=token_hash(text),
        prefix=token_prefix(text),
        created_at=now,
        expires_at=now + timedelta(seconds=TOKEN_LIFETIME),
    )
    db.session.add(row)
    db.session.flush()
    scope = clients.format_scopes(grants)
    db.session.add(FhirClientToken(api_token_id=row.id, client_id=client.id, scopes=scope))
    audit.record(
        None,
        "fhir_token",
        "fhir_client",
        client.id,
        {"scope": scope, "token_id": row.id},
        organization_id=client.organization_id,
    )
    return Issued(text, scope)


# --- using a token ---------------------------------------------------------------

_SCOPES = "carenet_fhir_scopes"


def current_scopes() -> Grants | None:
    """The scopes of this request's SMART access token, or None when the caller did not
    come with one (a session or a personal API token: only the policy applies)."""
    if _SCOPES in g:
        cached: Grants | None = g.get(_SCOPES)
        return cached
    scheme, _, text = request.headers.get("Authorization", "").partition(" ")
    grants: Grants | None = None
    if scheme.lower() == "bearer" and text.strip():
        row = db.session.execute(
            select(FhirClientToken.scopes, ApiToken.expires_at)
            .join(ApiToken, ApiToken.id == FhirClientToken.api_token_id)
            .where(ApiToken.token_hash == token_hash(text.strip()))
        ).first()
        if row is not None:
            grants = clients.parse_scopes(row[0]) if as_utc(row[1]) > utcnow() else {}
    setattr(g, _SCOPES, grants)
    return grants


def scope_allows(resource_type: str, interaction: str) -> bool:
    """Whether this request may do ``interaction`` (one of c r u d s) on ``resource_type``."""
    grants = current_scopes()
    return grants is None or clients.allowed(grants, resource_type, interaction)


def interaction_of(method: str, path: str) -> tuple[str, str] | None:
    """(resource type, letter) of a FHIR REST call on ``path`` (below /fhir); None for the
    system level (a transaction Bundle, checked entry by entry)."""
    parts = [p for p in path.strip("/").split("/") if p]
    if not parts or parts[0].startswith(("$", "_")):
        return None
    resource = parts[0]
    if method == "POST":
        letter = "s" if parts[-1] == "_search" else ("c" if len(parts) == 1 else "u")
    elif method in ("PUT", "PATCH"):
        letter = "u"
    elif method == "DELETE":
        letter = "d"
    else:
        letter = "s" if len(parts) == 1 or parts[-1] == "_history" else "r"
    return resource, letter


def _bundle_interactions() -> list[tuple[str, str]]:
    try:
        body = json.loads(request.get_data(cache=True) or b"{}")
    except ValueError:
        return []
    entries = body.get("entry") if isinstance(body, dict) else None
    found = []
    for entry in entries if isinstance(entries, list) else []:
        req = entry.get("request") if isinstance(entry, dict) else None
        if not isinstance(req, dict) or not isinstance(req.get("url"), str):
            continue
        method = str(req.get("method") or "GET").upper()
        found.append(interaction_of(method, req["url"].split("?", 1)[0]) or ("*", "c"))
    return found


def _forbidden(detail: str) -> Response:
    body = {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": "forbidden", "diagnostics": detail}],
    }
    return Response(json.dumps(body), status=403, mimetype="application/fhir+json")


def enforce_scopes() -> Response | None:
    """Before each request: a SMART token only reaches /fhir, and only what its scopes grant."""
    if not request.headers.get("Authorization", "").lower().startswith("bearer "):
        return None
    path = request.path
    if path.startswith(OPEN_FHIR_PATHS) or path.startswith("/.well-known/"):
        return None
    grants = current_scopes()
    if grants is None:
        return None
    if not (path == "/fhir" or path.startswith("/fhir/")):
        return _forbidden("A SMART access token is good for /fhir only.")
    wanted = interaction_of(request.method, path[len("/fhir") :])
    checks = [wanted] if wanted is not None else _bundle_interactions()
    for resource, letter in checks:
        if not clients.allowed(grants, resource, letter):
            return _forbidden(f"The token's scopes do not grant system/{resource}.{letter}.")
    return None


blueprint.before_app_request(enforce_scopes)


def capability_security(fhir_base: str) -> dict[str, Any]:
    """``CapabilityStatement.rest.security``: bearer tokens, SMART Backend Services."""
    return {
        "cors": False,
        "service": [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/restful-security-service",
                        "code": "SMART-on-FHIR",
                    }
                ]
            }
        ],
        "extension": [
            {
                "url": "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris",
                "extension": [{"url": "token", "valueUri": f"{fhir_base}/auth/token"}],
            }
        ],
        "description": (
            "Authorization: Bearer <carenet API token>, or a SMART Backend Services access "
            "token from /fhir/auth/token (/.well-known/smart-configuration)."
        ),
    }
