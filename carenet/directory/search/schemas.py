"""Marshmallow schemas of directory search: the query string in, the HSDS-style page out."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from marshmallow import (
    RAISE,
    Schema,
    ValidationError,
    fields,
    post_load,
    validate,
    validates_schema,
)

from carenet.directory.search.params import (
    DEFAULT_PER_PAGE,
    DEFAULT_RADIUS_MI,
    MAX_PER_PAGE,
    MAX_RADIUS_MI,
    MIN_RADIUS_MI,
    SearchParams,
)
from carenet.validation import YEAR_MESSAGE, check_year

SLUG = r"^[a-z0-9][a-z0-9._-]{0,63}$"


class IsoDateTime(fields.Field):
    """An ISO 8601 date-time; with an offset it is an instant, without one a wall-clock time
    that each location reads in its own time zone."""

    default_error_messages = {
        "invalid": "Not a valid ISO 8601 date-time (2026-11-27T23:30).",
        "range": YEAR_MESSAGE,
    }

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> datetime:
        if not isinstance(value, str) or len(value) > 40:
            raise self.make_error("invalid")
        try:
            found = datetime.fromisoformat(value.strip().replace("Z", "+00:00").replace(" ", "+"))
        except ValueError as exc:
            raise self.make_error("invalid") from exc
        if not check_year(found):
            raise self.make_error("range")
        return found


class SearchArgsSchema(Schema):
    """Query parameters of ``GET /api/v1/services/search`` (see docs/search.md)."""

    class Meta:
        unknown = RAISE

    near = fields.String(validate=validate.Length(min=1, max=200))
    lat = fields.Float(validate=validate.Range(min=-90, max=90), allow_nan=False)
    lon = fields.Float(validate=validate.Range(min=-180, max=180), allow_nan=False)
    radius_mi = fields.Float(
        load_default=DEFAULT_RADIUS_MI,
        validate=validate.Range(min=MIN_RADIUS_MI, max=MAX_RADIUS_MI),
        allow_nan=False,
    )
    category = fields.List(fields.String(validate=validate.Regexp(SLUG)), load_default=list)
    q = fields.String(validate=validate.Length(min=1, max=200))
    open_now = fields.Boolean(load_default=False)
    open_at = IsoDateTime()
    language = fields.String(validate=validate.Regexp(r"^[A-Za-z]{2}$"))
    free = fields.Boolean(load_default=False)
    age = fields.Integer(validate=validate.Range(min=0, max=130), strict=False)
    accepting = fields.Boolean(load_default=False)
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=10_000))
    per_page = fields.Integer(
        load_default=DEFAULT_PER_PAGE, validate=validate.Range(min=1, max=MAX_PER_PAGE)
    )

    @validates_schema
    def _where(self, data: dict[str, Any], **_: Any) -> None:
        has_lat, has_lon = "lat" in data, "lon" in data
        if "near" in data and (has_lat or has_lon):
            raise ValidationError("Give near, or lat and lon, not both.", "near")
        if has_lat != has_lon:
            missing = "lon" if has_lat else "lat"
            raise ValidationError("lat and lon go together.", missing)
        if "near" not in data and not has_lat:
            raise ValidationError("Give near (a ZIP code or an address) or lat and lon.", "near")
        if data.get("open_now") and "open_at" in data:
            raise ValidationError("Give open_now or open_at, not both.", "open_at")

    @post_load
    def _params(self, data: dict[str, Any], **_: Any) -> SearchParams:
        return SearchParams(
            near=data.get("near"),
            latitude=data.get("lat"),
            longitude=data.get("lon"),
            radius_mi=data["radius_mi"],
            categories=tuple(dict.fromkeys(data["category"])),
            q=data.get("q"),
            open_now=data["open_now"],
            open_at=data.get("open_at"),
            language=data["language"].lower() if data.get("language") else None,
            free=data["free"],
            age=data.get("age"),
            accepting=data["accepting"],
            page=data["page"],
            per_page=data["per_page"],
        )


def args_from_query(args: Any) -> dict[str, Any]:
    """A request's MultiDict as schema input: ``category`` repeatable, others single."""
    data: dict[str, Any] = {}
    for key in args:
        values = args.getlist(key)
        data[key] = values if key == "category" else values[-1]
    return data


class PhoneSchema(Schema):
    number = fields.String()
    extension = fields.String(allow_none=True)
    type = fields.String(allow_none=True)


class ResultServiceSchema(Schema):
    id = fields.String()
    name = fields.String()
    description = fields.String(allow_none=True)
    categories = fields.List(fields.String())


class ResultOrganizationSchema(Schema):
    id = fields.String()
    name = fields.String()


class ResultLocationSchema(Schema):
    id = fields.String(allow_none=True)
    name = fields.String(allow_none=True)
    address = fields.String(allow_none=True)
    latitude = fields.Float(allow_none=True)
    longitude = fields.Float(allow_none=True)
    redacted = fields.Boolean()


class SearchResultSchema(Schema):
    service = fields.Nested(ResultServiceSchema)
    organization = fields.Nested(ResultOrganizationSchema)
    location = fields.Nested(ResultLocationSchema, allow_none=True)
    distance_mi = fields.Float(allow_none=True)
    distance_km = fields.Float(allow_none=True)
    serves_patient_area = fields.Boolean()
    open_now = fields.Boolean(allow_none=True)
    next_open_at = fields.String(allow_none=True)
    next_open_words = fields.String(allow_none=True)  # "Opens tomorrow at 7 AM" (local time)
    hours = fields.List(fields.String())  # "Monday to Friday, 9 AM to 5 PM" (local time)
    capacity_status = fields.String()
    free = fields.Boolean()
    languages = fields.List(fields.String())
    phones = fields.List(fields.Nested(PhoneSchema))


class SearchOriginSchema(Schema):
    latitude = fields.Float()
    longitude = fields.Float()
    postcode = fields.String(allow_none=True)
    label = fields.String(allow_none=True)
    radius_mi = fields.Float()


class SearchPageSchema(Schema):
    """The HSDS 3.0 paging envelope around search results."""

    total_items = fields.Integer()
    total_items_exact = fields.Boolean()  # carenet's: False when total_items is the cap
    total_pages = fields.Integer()
    page_number = fields.Integer()
    size = fields.Integer()
    first_page = fields.Boolean()
    last_page = fields.Boolean()
    empty = fields.Boolean()
    # Each item has SearchResultSchema's shape: ``results.result`` builds it so, and a test
    # checks SearchResultSchema().dump(item) == item. Dumping 20 nested results through
    # marshmallow again took longer than the search itself at a million services.
    contents = fields.Raw()
    search = fields.Nested(SearchOriginSchema, attribute="origin")
