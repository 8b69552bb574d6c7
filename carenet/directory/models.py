"""Directory tables in the shape of Open Referral HSDS 3.0.

organization → service → service_at_location ← location (address, point),
plus phone, schedule, language, taxonomy / taxonomy_term (service categories),
service_area (where a delivered service reaches). Identifiers are HSDS ids
(text, usually UUIDs) so imports can upsert by id. See docs/data-model.md.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from geoalchemy2 import Geometry
from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    Time,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from carenet.db.types import (
    ID,
    UTCDateTime,
    area_column_type,
    new_id,
    one_of,
    point_column_type,
    utcnow,
)
from carenet.extensions import Model

ORGANIZATION_KINDS = ("care", "community", "network")
SERVICE_STATUSES = ("active", "inactive", "defunct", "temporarily closed")
# A service's capacity (shown in search; referrals to NO_CAPACITY are refused, WAITLIST and
# ASSESSMENT_REQUIRED are sent with a warning). The one definition: import it, never retype it.
HAS_CAPACITY = "capacity"
NO_CAPACITY = "no-capacity"
WAITLIST = "waitlist"
ASSESSMENT_REQUIRED = "additional-assessment-required"
CAPACITY_STATUSES = (HAS_CAPACITY, NO_CAPACITY, WAITLIST, ASSESSMENT_REQUIRED)
LOCATION_TYPES = ("physical", "postal", "virtual")
ADDRESS_TYPES = ("physical", "postal", "virtual")
AREA_KINDS = ("polygon", "county", "postcodes", "radius")
SCHEDULE_FREQS = ("WEEKLY", "MONTHLY")


class HsdsExtra:
    """The HSDS fields of an object that carenet has no typed column for, as given (JSON
    object), and under ``carenet:derived`` the values carenet derived rather than read
    (docs/hsds.md, "Lossless storage")."""

    hsds_extra: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)


class Timestamped:
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class Organization(HsdsExtra, Timestamped, Model):
    __tablename__ = "organization"
    __table_args__ = (
        CheckConstraint(one_of("kind", ORGANIZATION_KINDS), name="ck_organization_kind"),
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(255))
    alternate_name: Mapped[str | None] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(Text)
    email: Mapped[str | None] = mapped_column(String(255))
    website: Mapped[str | None] = mapped_column(String(512))
    tax_status: Mapped[str | None] = mapped_column(String(64))
    tax_id: Mapped[str | None] = mapped_column(String(64))
    year_incorporated: Mapped[int | None] = mapped_column(Integer)
    legal_status: Mapped[str | None] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16), default="community", server_default="community")

    services: Mapped[list[Service]] = relationship(back_populates="organization")
    locations: Mapped[list[Location]] = relationship(back_populates="organization")
    phones: Mapped[list[Phone]] = relationship(
        primaryjoin="and_(Phone.organization_id == Organization.id, Phone.service_id.is_(None),"
        " Phone.location_id.is_(None))",
        viewonly=True,
    )


service_category = Table(
    "service_category",
    Model.metadata,
    Column("service_id", ID, ForeignKey("service.id", ondelete="CASCADE"), primary_key=True),
    Column(
        "taxonomy_term_id",
        ID,
        ForeignKey("taxonomy_term.id", ondelete="RESTRICT"),
        primary_key=True,
        index=True,
    ),
)


class Service(HsdsExtra, Timestamped, Model):
    __tablename__ = "service"
    __table_args__ = (
        CheckConstraint(one_of("status", SERVICE_STATUSES), name="ck_service_status"),
        CheckConstraint(one_of("capacity_status", CAPACITY_STATUSES), name="ck_service_capacity"),
        CheckConstraint(
            "minimum_age IS NULL OR maximum_age IS NULL OR minimum_age <= maximum_age",
            name="ck_service_age_range",
        ),
        CheckConstraint("minimum_age IS NULL OR minimum_age >= 0", name="ck_service_min_age"),
        Index("ix_service_updated_at", "updated_at"),
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    organization_id: Mapped[str] = mapped_column(
        ID, ForeignKey("organization.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(255))
    alternate_name: Mapped[str | None] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(Text)
    url: Mapped[str | None] = mapped_column(String(512))
    email: Mapped[str | None] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(32), default="active", server_default="active")
    interpretation_services: Mapped[str | None] = mapped_column(Text)
    application_process: Mapped[str | None] = mapped_column(Text)
    fees_description: Mapped[str | None] = mapped_column(Text)
    free: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    eligibility_description: Mapped[str | None] = mapped_column(Text)
    minimum_age: Mapped[int | None] = mapped_column(Integer)
    maximum_age: Mapped[int | None] = mapped_column(Integer)
    capacity_status: Mapped[str] = mapped_column(
        String(40), default="capacity", server_default="capacity"
    )
    confidential: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    last_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_verified_by: Mapped[str | None] = mapped_column(String(255))

    organization: Mapped[Organization] = relationship(back_populates="services")
    categories: Mapped[list[TaxonomyTerm]] = relationship(
        secondary=service_category, order_by="TaxonomyTerm.code"
    )
    languages: Mapped[list[Language]] = relationship(
        back_populates="service", cascade="all, delete-orphan", order_by="Language.code"
    )
    service_at_locations: Mapped[list[ServiceAtLocation]] = relationship(
        back_populates="service", cascade="all, delete-orphan"
    )
    service_areas: Mapped[list[ServiceArea]] = relationship(
        back_populates="service", cascade="all, delete-orphan"
    )
    schedules: Mapped[list[Schedule]] = relationship(
        back_populates="service", cascade="all, delete-orphan"
    )
    phones: Mapped[list[Phone]] = relationship(
        back_populates="service", cascade="all, delete-orphan"
    )

    @property
    def category_slugs(self) -> list[str]:
        return [term.code for term in self.categories]


class Location(HsdsExtra, Timestamped, Model):
    __tablename__ = "location"
    __table_args__ = (
        CheckConstraint(one_of("location_type", LOCATION_TYPES), name="ck_location_type"),
        CheckConstraint(
            "latitude IS NULL OR (latitude BETWEEN -90 AND 90)", name="ck_location_latitude"
        ),
        CheckConstraint(
            "longitude IS NULL OR (longitude BETWEEN -180 AND 180)", name="ck_location_longitude"
        ),
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    organization_id: Mapped[str | None] = mapped_column(
        ID, ForeignKey("organization.id", ondelete="CASCADE"), index=True
    )
    location_type: Mapped[str] = mapped_column(
        String(16), default="physical", server_default="physical"
    )
    url: Mapped[str | None] = mapped_column(String(512))
    name: Mapped[str | None] = mapped_column(String(255))
    alternate_name: Mapped[str | None] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(Text)
    transportation: Mapped[str | None] = mapped_column(Text)
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    # How the point was found: "source" (given), "postcode" (offline ZIP centroid), "geocoder".
    geocode_method: Mapped[str | None] = mapped_column(String(16))
    timezone: Mapped[str] = mapped_column(
        String(64), default="America/New_York", server_default="America/New_York"
    )
    geom: Mapped[object | None] = mapped_column(point_column_type(), nullable=True)

    organization: Mapped[Organization | None] = relationship(back_populates="locations")
    addresses: Mapped[list[Address]] = relationship(
        back_populates="location", cascade="all, delete-orphan"
    )
    phones: Mapped[list[Phone]] = relationship(
        back_populates="location", cascade="all, delete-orphan"
    )
    schedules: Mapped[list[Schedule]] = relationship(
        back_populates="location", cascade="all, delete-orphan"
    )
    service_at_locations: Mapped[list[ServiceAtLocation]] = relationship(
        back_populates="location", cascade="all, delete-orphan"
    )

    @property
    def physical_address(self) -> Address | None:
        for address in self.addresses:
            if address.address_type == "physical":
                return address
        return self.addresses[0] if self.addresses else None


class Address(HsdsExtra, Model):
    __tablename__ = "address"
    __table_args__ = (
        CheckConstraint(one_of("address_type", ADDRESS_TYPES), name="ck_address_type"),
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    location_id: Mapped[str] = mapped_column(
        ID, ForeignKey("location.id", ondelete="CASCADE"), index=True
    )
    attention: Mapped[str | None] = mapped_column(String(255))
    address_1: Mapped[str] = mapped_column(String(255))
    address_2: Mapped[str | None] = mapped_column(String(255))
    city: Mapped[str] = mapped_column(String(128))
    region: Mapped[str | None] = mapped_column(String(128))
    state_province: Mapped[str] = mapped_column(String(64))
    postal_code: Mapped[str] = mapped_column(String(16), index=True)
    country: Mapped[str] = mapped_column(String(2), default="US", server_default="US")
    address_type: Mapped[str] = mapped_column(
        String(16), default="physical", server_default="physical"
    )

    location: Mapped[Location] = relationship(back_populates="addresses")

    @property
    def one_line(self) -> str:
        street = ", ".join(p for p in (self.address_1, self.address_2) if p)
        return f"{street}, {self.city}, {self.state_province} {self.postal_code}"


class ServiceAtLocation(HsdsExtra, Model):
    __tablename__ = "service_at_location"
    __table_args__ = (
        Index("ix_service_at_location_pair", "service_id", "location_id", unique=True),
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    service_id: Mapped[str] = mapped_column(ID, ForeignKey("service.id", ondelete="CASCADE"))
    location_id: Mapped[str] = mapped_column(
        ID, ForeignKey("location.id", ondelete="CASCADE"), index=True
    )
    description: Mapped[str | None] = mapped_column(Text)

    service: Mapped[Service] = relationship(back_populates="service_at_locations")
    location: Mapped[Location] = relationship(back_populates="service_at_locations")


class Phone(HsdsExtra, Model):
    __tablename__ = "phone"

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    organization_id: Mapped[str | None] = mapped_column(
        ID, ForeignKey("organization.id", ondelete="CASCADE"), index=True
    )
    service_id: Mapped[str | None] = mapped_column(
        ID, ForeignKey("service.id", ondelete="CASCADE"), index=True
    )
    location_id: Mapped[str | None] = mapped_column(
        ID, ForeignKey("location.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[str] = mapped_column(String(64))
    extension: Mapped[str | None] = mapped_column(String(16))
    type: Mapped[str | None] = mapped_column(String(16))
    description: Mapped[str | None] = mapped_column(Text)

    service: Mapped[Service | None] = relationship(back_populates="phones")
    location: Mapped[Location | None] = relationship(back_populates="phones")


class Schedule(HsdsExtra, Model):
    """An HSDS 3 recurring schedule; times are local to the location's time zone."""

    __tablename__ = "schedule"
    __table_args__ = (
        CheckConstraint(one_of("freq", SCHEDULE_FREQS), name="ck_schedule_freq"),
        CheckConstraint(
            "service_id IS NOT NULL OR location_id IS NOT NULL", name="ck_schedule_owner"
        ),
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    service_id: Mapped[str | None] = mapped_column(
        ID, ForeignKey("service.id", ondelete="CASCADE"), index=True
    )
    location_id: Mapped[str | None] = mapped_column(
        ID, ForeignKey("location.id", ondelete="CASCADE"), index=True
    )
    freq: Mapped[str] = mapped_column(String(8), default="WEEKLY", server_default="WEEKLY")
    interval: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    byday: Mapped[str | None] = mapped_column(String(64))  # e.g. "MO,TU,WE"
    bymonthday: Mapped[str | None] = mapped_column(String(64))
    opens_at: Mapped[time | None] = mapped_column(Time)
    closes_at: Mapped[time | None] = mapped_column(Time)  # earlier than opens_at: past midnight
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    description: Mapped[str | None] = mapped_column(Text)

    service: Mapped[Service | None] = relationship(back_populates="schedules")
    location: Mapped[Location | None] = relationship(back_populates="schedules")


class Language(HsdsExtra, Model):
    __tablename__ = "language"
    __table_args__ = (
        Index("ix_language_code_service", "code", "service_id"),
        Index("ix_language_service_id", "service_id"),  # a service's languages; cascades
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    service_id: Mapped[str] = mapped_column(ID, ForeignKey("service.id", ondelete="CASCADE"))
    name: Mapped[str | None] = mapped_column(String(64))
    code: Mapped[str] = mapped_column(String(8))  # ISO 639-1; "" when the source gave none
    note: Mapped[str | None] = mapped_column(Text)

    service: Mapped[Service] = relationship(back_populates="languages")


class Taxonomy(HsdsExtra, Model):
    __tablename__ = "taxonomy"

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(Text)
    uri: Mapped[str | None] = mapped_column(String(512))
    version: Mapped[str | None] = mapped_column(String(32))

    terms: Mapped[list[TaxonomyTerm]] = relationship(back_populates="taxonomy")


class TaxonomyTerm(HsdsExtra, Model):
    __tablename__ = "taxonomy_term"
    __table_args__ = (Index("ix_taxonomy_term_code", "taxonomy_id", "code", unique=True),)

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    taxonomy_id: Mapped[str] = mapped_column(ID, ForeignKey("taxonomy.id", ondelete="CASCADE"))
    parent_id: Mapped[str | None] = mapped_column(ID, ForeignKey("taxonomy_term.id"))
    code: Mapped[str] = mapped_column(String(64))  # the category slug
    name: Mapped[str] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(Text)
    term_uri: Mapped[str | None] = mapped_column(String(512))
    sdoh_code: Mapped[str | None] = mapped_column(String(64))  # SDOHCC temporary code
    delivered: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")

    taxonomy: Mapped[Taxonomy] = relationship(back_populates="terms")


class ServiceArea(HsdsExtra, Model):
    """Where a delivered service reaches a patient's home.

    ``kind`` says how the area was given: a GeoJSON polygon, a county, a list
    of ZIP codes or a radius around a base point. Polygons and radii are
    stored as ``geom`` (a radius as its circle, so containment is one spatial
    test); counties and ZIP lists as rows of ``service_area_postcode``
    (a county is expanded to its ZIP codes from the offline ZIP data).
    """

    __tablename__ = "service_area"
    __table_args__ = (
        CheckConstraint(one_of("kind", AREA_KINDS), name="ck_service_area_kind"),
        CheckConstraint(
            "radius_mi IS NULL OR (radius_mi > 0 AND radius_mi <= 500)",
            name="ck_service_area_radius",
        ),
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    service_id: Mapped[str] = mapped_column(
        ID, ForeignKey("service.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str | None] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(16))
    county: Mapped[str | None] = mapped_column(String(128))
    state: Mapped[str | None] = mapped_column(String(2))
    center_latitude: Mapped[float | None] = mapped_column(Float)
    center_longitude: Mapped[float | None] = mapped_column(Float)
    radius_mi: Mapped[float | None] = mapped_column(Float)
    extent: Mapped[str | None] = mapped_column(Text)  # GeoJSON text as given, for polygons
    geom: Mapped[object | None] = mapped_column(area_column_type(), nullable=True)

    service: Mapped[Service] = relationship(back_populates="service_areas")
    postcodes: Mapped[list[ServiceAreaPostcode]] = relationship(
        back_populates="service_area", cascade="all, delete-orphan"
    )


class ServiceAreaPostcode(Model):
    __tablename__ = "service_area_postcode"

    service_area_id: Mapped[str] = mapped_column(
        ID, ForeignKey("service_area.id", ondelete="CASCADE"), primary_key=True
    )
    postcode: Mapped[str] = mapped_column(String(10), primary_key=True, index=True)

    service_area: Mapped[ServiceArea] = relationship(back_populates="postcodes")


__all__ = [
    "Address",
    "Geometry",
    "Language",
    "Location",
    "Organization",
    "Phone",
    "Schedule",
    "Service",
    "ServiceArea",
    "ServiceAreaPostcode",
    "ServiceAtLocation",
    "Taxonomy",
    "TaxonomyTerm",
    "service_category",
]
