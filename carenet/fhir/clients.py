"""FHIR system clients (SMART Backend Services): registration, their keys, scopes and
service accounts (docs/fhir-access.md).

A client is registered by an admin with ``carenet fhir-clients create``: a name, the
organization it acts for, its public keys (a JWKS) and the scopes it may be granted.
Each client acts as a **service account of its organization**: a ``user_account`` row
(no password can match it) with one membership — ``coordinator`` in a care
organization (an EHR sending referrals), ``cbo_staff`` in a community organization (a
CBO's system following its inbox). So every policy and consent rule that holds for a
person of that organization holds for the client, and audit rows name it.

The access tokens it obtains are ``api_token`` rows of that account living five minutes
(``carenet.accounts.tokens`` authenticates them like any bearer token); the scopes
granted with each are in ``fhir_client_token`` and narrow what /fhir lets it do
(``carenet.fhir.smart``). ``fhir_client_jti`` remembers assertion ids until they expire
(no replay).
"""

from __future__ import annotations

import json
import re
import secrets
from datetime import datetime
from typing import Any

import click
from flask.cli import with_appcontext
from sqlalchemy import JSON, Boolean, ForeignKey, String, Text, select
from sqlalchemy.orm import Mapped, mapped_column

from carenet import audit
from carenet.accounts.models import Membership, User
from carenet.db.retry import run_in_transaction
from carenet.db.types import ID, UTCDateTime, utcnow
from carenet.directory.models import Organization
from carenet.errors import DomainError, InvalidInput, NotFound
from carenet.extensions import Model, db

SIGNING_ALGORITHMS = ("RS384", "ES384")
ROLE_FOR_KIND = {"care": "coordinator", "community": "cbo_staff"}
SERVICE_ACCOUNT_DOMAIN = "fhir-clients.invalid"
# Not an argon2 hash: verify_password is always False for it (nobody signs in as a client).
UNUSABLE_PASSWORD = "!service-account"  # noqa: S105

# SMART v2 scopes (system/Task.rs) and their v1 forms (system/Task.read).
SCOPE = re.compile(r"^system/(\*|[A-Z][A-Za-z]{1,63})\.(\*|read|write|c?r?u?d?s?)$")
V1 = {"read": "rs", "write": "cud", "*": "cruds"}


class FhirClient(Model):
    """A registered system client: its JWKS, the scopes it may ask for, its service account."""

    __tablename__ = "fhir_client"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # the client_id
    name: Mapped[str] = mapped_column(String(128))
    organization_id: Mapped[str] = mapped_column(
        ID, ForeignKey("organization.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[str] = mapped_column(ID, ForeignKey("user_account.id", ondelete="CASCADE"))
    jwks: Mapped[dict[str, Any]] = mapped_column(JSON)
    scopes: Mapped[str] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default="1")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class FhirClientToken(Model):
    """The scopes granted with one access token (an ``api_token`` row of the client)."""

    __tablename__ = "fhir_client_token"

    api_token_id: Mapped[str] = mapped_column(
        ID, ForeignKey("api_token.id", ondelete="CASCADE"), primary_key=True
    )
    client_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("fhir_client.id", ondelete="CASCADE"), index=True
    )
    scopes: Mapped[str] = mapped_column(Text)


class FhirClientJti(Model):
    """An assertion id already used by a client, kept until the assertion expires."""

    __tablename__ = "fhir_client_jti"

    client_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("fhir_client.id", ondelete="CASCADE"), primary_key=True
    )
    jti: Mapped[str] = mapped_column(String(255), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


# --- scopes ------------------------------------------------------------------

Grants = dict[str, frozenset[str]]  # resource type (or "*") → letters of c r u d s


def parse_scopes(text: str, field: str = "scopes") -> Grants:
    """``system/Task.rs system/*.read`` → {"Task": {r, s}, "*": {r, s}}; anything else is
    refused naming ``field``."""
    grants: dict[str, set[str]] = {}
    for word in (text or "").split():
        match = SCOPE.match(word)
        if match is None or not match.group(2):
            raise InvalidInput(
                f"Not a system scope: {word[:80]!r}.",
                {field: ["Use system/<Resource>.<cruds> (SMART v2) or .read/.write (v1)."]},
            )
        resource, perms = match.groups()
        grants.setdefault(resource, set()).update(V1.get(perms, perms))
    return {resource: frozenset(perms) for resource, perms in grants.items()}


def format_scopes(grants: Grants) -> str:
    return " ".join(
        f"system/{resource}.{''.join(c for c in 'cruds' if c in perms)}"
        for resource, perms in sorted(grants.items())
        if perms
    )


def allowed(grants: Grants, resource: str, letter: str) -> bool:
    return letter in grants.get(resource, frozenset()) or letter in grants.get("*", frozenset())


def narrow(requested: Grants, registered: Grants) -> Grants:
    """What of ``requested`` the client's registration allows."""
    out: dict[str, frozenset[str]] = {}
    for resource, perms in requested.items():
        if resource == "*":
            for own, own_perms in registered.items():
                kept = perms & own_perms
                if kept:
                    out[own] = out.get(own, frozenset()) | kept
            continue
        kept = frozenset(p for p in perms if allowed(registered, resource, p))
        if kept:
            out[resource] = out.get(resource, frozenset()) | kept
    return out


# --- keys --------------------------------------------------------------------


def check_jwks(jwks: Any) -> dict[str, Any]:
    """A JWKS of public RSA / EC keys usable for RS384 / ES384; refused otherwise."""
    from jwt import PyJWK
    from jwt.exceptions import PyJWKError

    keys = jwks.get("keys") if isinstance(jwks, dict) else None
    if not isinstance(keys, list) or not keys:
        raise InvalidInput("A JWKS has a non-empty keys list.", {"jwks": ["No keys."]})
    for key in keys:
        if not isinstance(key, dict) or key.get("kty") not in ("RSA", "EC") or "d" in key:
            raise InvalidInput(
                "Keys are public RSA or EC keys (no private part).", {"jwks": ["Bad key."]}
            )
        try:
            PyJWK(key, "RS384" if key["kty"] == "RSA" else "ES384")
        except (PyJWKError, ValueError, TypeError, KeyError) as exc:
            raise InvalidInput(f"Unusable key: {exc}.", {"jwks": ["Bad key."]}) from exc
    return {"keys": keys}


# --- registration --------------------------------------------------------------


def create_client(
    name: str,
    organization_id: str,
    jwks: Any,
    scopes: str,
    email: str | None = None,
) -> FhirClient:
    """Register a client acting for ``organization_id`` (its id or exact name); returns it
    (``id`` is the client_id). Its service account is created with it."""
    name = (name or "").strip()
    if not name or len(name) > 128:
        raise InvalidInput("A client has a name (1–128 characters).", {"name": ["Required."]})
    grants = parse_scopes(scopes)
    if not grants:
        raise InvalidInput("Give at least one scope.", {"scopes": ["Required."]})
    keys = check_jwks(jwks)

    def work() -> FhirClient:
        organization = db.session.get(Organization, organization_id) or db.session.scalar(
            select(Organization).where(Organization.name == organization_id)
        )
        if organization is None:
            raise NotFound("No such organization.")
        role = ROLE_FOR_KIND.get(organization.kind)
        if role is None:
            raise InvalidInput(
                "System clients act for a care or a community organization.",
                {"organization": [f"A {organization.kind} organization."]},
            )
        client_id = secrets.token_urlsafe(18)
        address = (email or f"{client_id.lower()}@{SERVICE_ACCOUNT_DOMAIN}").strip().lower()
        user = User(email=address, display_name=f"FHIR client {name}")
        user.password_hash = UNUSABLE_PASSWORD
        db.session.add(user)
        db.session.flush()
        db.session.add(Membership(user_id=user.id, organization_id=organization.id, role=role))
        client = FhirClient(
            id=client_id,
            name=name,
            organization_id=organization.id,
            user_id=user.id,
            jwks=keys,
            scopes=format_scopes(grants),
        )
        db.session.add(client)
        db.session.flush()
        audit.record(
            None,
            "create",
            "fhir_client",
            client.id,
            {"name": name, "scopes": client.scopes, "role": role},
            organization_id=organization.id,
        )
        return client

    return run_in_transaction(work)


def set_active(client_id: str, active: bool) -> FhirClient:
    """Switch a client off (its tokens stop working: its service account is deactivated)
    or back on."""

    def work() -> FhirClient:
        client = db.session.get(FhirClient, client_id)
        if client is None:
            raise NotFound("No such client.")
        client.active = active
        user = db.session.get(User, client.user_id)
        if user is not None:
            user.active = active
        action = "activate" if active else "deactivate"
        audit.record(None, action, "fhir_client", client.id, organization_id=client.organization_id)
        return client

    return run_in_transaction(work)


def list_clients() -> list[FhirClient]:
    return list(db.session.scalars(select(FhirClient).order_by(FhirClient.created_at)))


def load_jwks_file(path: str) -> Any:
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


# --- ``carenet fhir-clients`` ----------------------------------------------------------


@click.group("fhir-clients")
def fhir_clients_group() -> None:
    """Register and manage FHIR system clients (SMART Backend Services)."""


@fhir_clients_group.command("create")
@click.option("--name", required=True, help="What the client is (shown in audit rows).")
@click.option("--organization", required=True, help="Organization id or exact name it acts for.")
@click.option("--jwks", "jwks_path", required=True, help="File with the client's public JWKS.")
@click.option("--scopes", required=True, help='e.g. "system/Task.crus system/Patient.cr"')
@click.option("--email", default=None, help="Contact address of the service account.")
@with_appcontext
def create_command(
    name: str, organization: str, jwks_path: str, scopes: str, email: str | None
) -> None:
    """Register a client; prints its client_id."""
    try:
        jwks = load_jwks_file(jwks_path)
        client = create_client(name, organization, jwks, scopes, email)
    except (OSError, ValueError) as exc:
        raise click.ClickException(f"Cannot read the JWKS: {exc}") from exc
    except DomainError as exc:
        db.session.rollback()
        detail = "; ".join(f"{k}: {', '.join(v)}" for k, v in (exc.errors or {}).items())
        raise click.ClickException(f"{exc.detail} {detail}".strip()) from exc
    click.echo(client.id)


@fhir_clients_group.command("list")
@with_appcontext
def list_command() -> None:
    """client_id, state, organization, name and scopes of every client."""
    for client in list_clients():
        state = "active" if client.active else "off"
        click.echo(
            f"{client.id}\t{state}\t{client.organization_id}\t{client.name}\t{client.scopes}"
        )


@fhir_clients_group.command("deactivate")
@click.argument("client_id")
@with_appcontext
def deactivate_command(client_id: str) -> None:
    """Switch a client off: no new tokens, its tokens stop working."""
    try:
        set_active(client_id, False)
    except DomainError as exc:
        db.session.rollback()
        raise click.ClickException(exc.detail) from exc
    click.echo(f"{client_id} deactivated")
