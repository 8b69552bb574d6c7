"""JSON API of accounts: who am I, creating and revoking a token (``/api/v1``)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request
from flask_login import current_user

from carenet.accounts import tokens
from carenet.accounts.access import authenticated, permission
from carenet.accounts.schemas import ApiTokenIn, ApiTokenSchema, MeSchema, NewApiTokenSchema
from carenet.errors import NotAllowed
from carenet.security import authenticated_by_token

blueprint = Blueprint("accounts_api", __name__, url_prefix="/api/v1")


@blueprint.get("/me")
@authenticated
def me() -> Any:
    return jsonify(MeSchema().dump(current_user))


@blueprint.post("/tokens")
@permission("create", "api_token")
def create_token() -> Any:
    """A new token for the caller, from a signed-in session only: a token minting tokens
    would outlive every expiry."""
    if authenticated_by_token():
        raise NotAllowed("Create API tokens from a signed-in session, not with a token.")
    args = ApiTokenIn().load(request.get_json(silent=True) or {})
    row, text = tokens.create_api_token(current_user, args["name"], days=args["expires_in_days"])
    body = NewApiTokenSchema().dump(row)
    body["token"] = text
    return jsonify(body), 201


@blueprint.post("/tokens/<token_id>/revoke")
@permission("revoke", "api_token")
def revoke_token(token_id: str) -> Any:
    row = tokens.revoke_api_token(current_user, token_id)
    return jsonify(ApiTokenSchema().dump(row))
