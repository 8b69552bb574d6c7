"""Marshmallow schema of one service as ``GET /api/v1/services/{id}`` returns it."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, post_dump


class CategorySchema(Schema):
    code = fields.String()
    name = fields.String()
    sdoh_code = fields.String(allow_none=True)


class DetailPhoneSchema(Schema):
    id = fields.String()
    number = fields.String()
    extension = fields.String(allow_none=True)
    type = fields.String(allow_none=True)
    description = fields.String(allow_none=True)


class DetailAddressSchema(Schema):
    address_1 = fields.String()
    address_2 = fields.String(allow_none=True)
    city = fields.String()
    state_province = fields.String()
    postal_code = fields.String()
    country = fields.String()
    address_type = fields.String()


class DetailLocationSchema(Schema):
    id = fields.String()
    name = fields.String(allow_none=True)
    location_type = fields.String()
    latitude = fields.Float(allow_none=True)
    longitude = fields.Float(allow_none=True)
    timezone = fields.String()
    addresses = fields.List(fields.Nested(DetailAddressSchema))


class DetailScheduleSchema(Schema):
    id = fields.String()
    location_id = fields.String(allow_none=True)
    freq = fields.String()
    byday = fields.String(allow_none=True)
    bymonthday = fields.String(allow_none=True)
    opens_at = fields.Time(allow_none=True)
    closes_at = fields.Time(allow_none=True)
    valid_from = fields.Date(allow_none=True)
    valid_to = fields.Date(allow_none=True)
    description = fields.String(allow_none=True)


class DetailAreaSchema(Schema):
    id = fields.String()
    kind = fields.String()
    name = fields.String(allow_none=True)
    county = fields.String(allow_none=True)
    state = fields.String(allow_none=True)
    center_latitude = fields.Float(allow_none=True)
    center_longitude = fields.Float(allow_none=True)
    radius_mi = fields.Float(allow_none=True)
    postcodes = fields.Method("_postcodes")

    def _postcodes(self, area: Any) -> list[str]:
        return sorted(p.postcode for p in area.postcodes)


class DetailOrganizationSchema(Schema):
    id = fields.String()
    name = fields.String()
    description = fields.String(allow_none=True)
    website = fields.String(allow_none=True)
    email = fields.String(allow_none=True)


class ServiceDetailSchema(Schema):
    """A service with its organization, locations, schedules and areas.

    ``show_confidential=False`` redacts the addresses and coordinates of a
    confidential service (its phones stay)."""

    id = fields.String()
    name = fields.String()
    alternate_name = fields.String(allow_none=True)
    description = fields.String(allow_none=True)
    url = fields.String(allow_none=True)
    email = fields.String(allow_none=True)
    status = fields.String()
    free = fields.Boolean()
    fees_description = fields.String(allow_none=True)
    eligibility_description = fields.String(allow_none=True)
    minimum_age = fields.Integer(allow_none=True)
    maximum_age = fields.Integer(allow_none=True)
    capacity_status = fields.String()
    confidential = fields.Boolean()
    last_verified_at = fields.DateTime(allow_none=True)
    categories = fields.List(fields.Nested(CategorySchema))
    languages = fields.Method("_languages")
    organization = fields.Nested(DetailOrganizationSchema)
    phones = fields.List(fields.Nested(DetailPhoneSchema))
    locations = fields.Method("_locations")
    schedules = fields.List(fields.Nested(DetailScheduleSchema))
    service_areas = fields.List(fields.Nested(DetailAreaSchema))

    def __init__(self, *args: Any, show_confidential: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.show_confidential = show_confidential

    def _languages(self, service: Any) -> list[str]:
        return [language.code for language in service.languages]

    def _locations(self, service: Any) -> list[dict[str, Any]]:
        return [DetailLocationSchema().dump(sal.location) for sal in service.service_at_locations]

    @post_dump(pass_original=True)
    def _redact(self, data: dict[str, Any], service: Any, **_: Any) -> dict[str, Any]:
        redacted = bool(service.confidential) and not self.show_confidential
        for location in data.get("locations", []):
            location["redacted"] = redacted
            if redacted:
                location.update(latitude=None, longitude=None, addresses=[])
        if redacted:
            for area in data.get("service_areas", []):
                if area["kind"] == "radius":
                    area.update(center_latitude=None, center_longitude=None)
        return data
