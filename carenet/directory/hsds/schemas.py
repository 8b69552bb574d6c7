"""Marshmallow schemas of the HSDS 3.0 API's query parameters (``/api/hsds``, docs/api.md).

Each schema names exactly the parameters the official OpenAPI document gives its endpoint;
anything else is refused (400 naming the parameter). ``format`` takes ``json`` only.
"""

from __future__ import annotations

from datetime import UTC
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

from carenet.validation import AwareDateTime

DEFAULT_PER_PAGE = 25
MAX_PER_PAGE = 100
MAX_PAGE = 100_000
MAX_PROXIMITY_M = 500_000  # meters from the postcode's centroid
TEXT = validate.Length(min=1, max=200)
ID = validate.Length(min=1, max=255)


class PagedArgsSchema(Schema):
    """``search``, ``page``, ``per_page`` and ``format``: every HSDS list takes them."""

    class Meta:
        unknown = RAISE

    search = fields.String(validate=TEXT, metadata={"description": "Full text search."})
    page = fields.Integer(
        load_default=1,
        validate=validate.Range(min=1, max=MAX_PAGE),
        metadata={"description": "Page number of paginated result."},
    )
    per_page = fields.Integer(
        load_default=DEFAULT_PER_PAGE,
        validate=validate.Range(min=1, max=MAX_PER_PAGE),
        metadata={"description": "Number of results requested in a single page."},
    )
    format = fields.String(
        validate=validate.OneOf(["json"]),
        metadata={"description": "Only `json` (`ndjson` streaming is not offered)."},
    )


class ServiceFilterArgsSchema(PagedArgsSchema):
    """The filters services and service_at_locations share."""

    taxonomy_term_id = fields.String(
        validate=ID, metadata={"description": "Services with this taxonomy term."}
    )
    taxonomy_id = fields.String(
        validate=ID, metadata={"description": "Services with any term of this taxonomy."}
    )
    organization_id = fields.String(
        validate=ID, metadata={"description": "Services this organization provides."}
    )
    modified_after = AwareDateTime(
        default_timezone=UTC,
        metadata={"description": "Modified on or after this date-time (UTC if no offset)."},
    )
    full = fields.Boolean(
        load_default=False, metadata={"description": "Return fully nested objects."}
    )


class ServiceListArgsSchema(ServiceFilterArgsSchema):
    """Query parameters of ``GET /api/hsds/services``."""

    minimal = fields.Boolean(
        load_default=False,
        metadata={"description": "Only id, name, status and last_modified of each service."},
    )


class ServiceAtLocationListArgsSchema(ServiceFilterArgsSchema):
    """Query parameters of ``GET /api/hsds/service_at_locations``."""

    postcode = fields.String(
        validate=validate.Regexp(r"^\d{5}$", error="Not a 5-digit US ZIP code."),
        metadata={
            "description": "Without proximity: services whose service area holds the ZIP code "
            "or located in it. With proximity: locations within proximity meters of its "
            "centroid."
        },
    )
    proximity = fields.Float(
        validate=validate.Range(min=1, max=MAX_PROXIMITY_M),
        allow_nan=False,
        metadata={"description": "Meters from the centroid of postcode (needs postcode)."},
    )

    @validates_schema
    def _proximity_needs_postcode(self, data: dict[str, Any], **_: Any) -> None:
        if "proximity" in data and "postcode" not in data:
            raise ValidationError("Give postcode with proximity.", "postcode")


FULL_SERVICE = {"description": "Nest each service in full, not only its own fields."}


class OrganizationArgsSchema(Schema):
    """Query parameters of ``GET /api/hsds/organizations/{id}``."""

    class Meta:
        unknown = RAISE

    full_service = fields.Boolean(load_default=False, metadata=FULL_SERVICE)


class OrganizationListArgsSchema(PagedArgsSchema):
    """Query parameters of ``GET /api/hsds/organizations``."""

    full_service = fields.Boolean(load_default=False, metadata=FULL_SERVICE)
    full = fields.Boolean(
        load_default=False,
        metadata={"description": "Fully nested organizations (locations, services)."},
    )


class TaxonomyListArgsSchema(PagedArgsSchema):
    """Query parameters of ``GET /api/hsds/taxonomies``."""


class TaxonomyTermListArgsSchema(PagedArgsSchema):
    """Query parameters of ``GET /api/hsds/taxonomy_terms``."""

    taxonomy_id = fields.String(validate=ID, metadata={"description": "Terms of this taxonomy."})
    top_only = fields.Boolean(
        load_default=False, metadata={"description": "Only terms without a parent."}
    )
    parent_id = fields.String(
        validate=ID, metadata={"description": "Terms whose parent has this id."}
    )


class EmptyArgsSchema(Schema):
    """Endpoints that take no query parameter."""

    class Meta:
        unknown = RAISE


def args_of(schema: Schema, query: Any) -> dict[str, Any]:
    """The request's query string (last value of each parameter) loaded by ``schema``."""
    loaded: dict[str, Any] = schema.load({key: query.getlist(key)[-1] for key in query})
    return loaded
