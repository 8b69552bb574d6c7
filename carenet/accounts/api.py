"""JSON API of accounts: who am I, and revoking a token (``/api/v1``)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify
from flask_login import current_user

from carenet.accounts import tokens
from carenet.accounts.access import authenticated, permission
from carenet.accounts.schemas import ApiTokenSchema, MeSchema

blueprint = Blueprint("accounts_api", __name__, url_prefix="/api/v1")


@blueprint.get("/me")
@authenticated
def me() -> Any:
    return jsonify(MeSchema().dump(current_user))


@blueprint.post("/tokens/<token_id>/revoke")
@permission("revoke", "api_token")
def revoke_token(token_id: str) -> Any:
    row = tokens.revoke_api_token(current_user, token_id)
    return jsonify(ApiTokenSchema().dump(row))
