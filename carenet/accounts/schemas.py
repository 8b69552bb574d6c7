"""Output shapes of the accounts API (never a password hash or a token hash)."""

from __future__ import annotations

from marshmallow import EXCLUDE, Schema, fields, validate


class MembershipSchema(Schema):
    organization_id = fields.String()
    organization_name = fields.Function(lambda m: m.organization.name)
    organization_kind = fields.Function(lambda m: m.organization.kind)
    role = fields.String()


class MeSchema(Schema):
    id = fields.String()
    email = fields.String()
    display_name = fields.String(allow_none=True)
    roles = fields.Function(lambda u: sorted(u.roles))
    memberships = fields.List(fields.Nested(MembershipSchema))


class ApiTokenSchema(Schema):
    id = fields.String()
    name = fields.String()
    prefix = fields.String()
    created_at = fields.DateTime()
    last_used_at = fields.DateTime(allow_none=True)
    revoked_at = fields.DateTime(allow_none=True)
    expires_at = fields.DateTime()
    state = fields.String()  # active, expired or revoked


class NewApiTokenSchema(ApiTokenSchema):
    token = fields.String()  # the secret, in this answer only


class ApiTokenIn(Schema):
    """``POST /api/v1/tokens``: a name, and a lifetime within ``TOKEN_MAX_DAYS``."""

    class Meta:
        unknown = EXCLUDE

    name = fields.String(load_default="", validate=validate.Length(max=128))
    expires_in_days = fields.Integer(
        load_default=None, allow_none=True, strict=True, validate=validate.Range(min=1)
    )
