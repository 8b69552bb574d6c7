"""Input of the audit log page: its filters."""

from __future__ import annotations

from typing import Any

from marshmallow import (
    EXCLUDE,
    Schema,
    ValidationError,
    fields,
    post_load,
    validate,
    validates_schema,
)

from carenet.audit import service
from carenet.audit.service import AuditFilter
from carenet.db import paging
from carenet.db.paging import PageRequest
from carenet.validation import Date


class AuditFilterSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    actor = fields.String(load_default=None, validate=validate.Length(max=255))
    action = fields.String(load_default=None, validate=validate.Length(max=64))
    object_type = fields.String(load_default=None, validate=validate.Length(max=64))
    object_id = fields.String(load_default=None, validate=validate.Length(max=64))
    since = Date(load_default=None)
    until = Date(load_default=None)
    page = paging.page_field()
    per_page = paging.per_page_field(service.PER_PAGE)

    @validates_schema
    def _ordered(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data.get("since") and data.get("until") and data["since"] > data["until"]:
            raise ValidationError("must not be after 'until'", "since")

    @post_load
    def _build(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        page = PageRequest(data.pop("page"), data.pop("per_page"))
        cleaned: dict[str, Any] = {
            k: (v or None) if isinstance(v, str) else v for k, v in data.items()
        }
        return {"criteria": AuditFilter(**cleaned), "page": page}
