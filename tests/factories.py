"""factory_boy factories for the rows tests need: directory objects, accounts, referrals.

Every factory writes through ``db.session`` of the current app context and flushes
(never commits: the test decides). Pass keyword arguments to override any column,
``field__sub`` to reach a sub-factory or a post-generation hook.

Directory::

    OrganizationFactory(kind="care")
    LocationFactory(organization=org, at=(lat, lon), address__postal_code="33157")
    ServiceFactory()                                 # a new organization, one location in Miami
    ServiceFactory(organization=org, locations=[])   # no location
    ServiceFactory(locations=[site, (lat, lon)], locations__timezone="America/Chicago",
                   categories=("food-pantry",), languages=("en",), phones=("305-555-0100",),
                   schedules=[{"byday": "SA"}], areas=[{"kind": "radius", "radius_mi": 5}])
    IndexedServiceFactory(name="Rides", locations=[(lat, lon)])  # indexed, committed

Accounts and referrals::

    UserFactory(role="cbo_staff", organization=org)  # with its membership; password PASSWORD
    PatientFactory(organization=care), ConsentFactory(patient=p), NeedFactory(patient=p)
    ReferralFactory(need=need, recipient_organization=cbo)  # a row only: to send one through
                                                             # the workflow, use send_referral

Import with ``from factories import ServiceFactory`` (tests/ is on sys.path because
tests/conftest.py lives there).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, time, timedelta
from functools import cache
from typing import Any

import factory
from factory.alchemy import SQLAlchemyModelFactory

from carenet.accounts import passwords
from carenet.accounts.models import Membership, User
from carenet.db.types import point_wkt, utcnow
from carenet.directory.hsds.conventions import circle_polygon, multipolygon_ewkt
from carenet.directory.models import (
    Address,
    Language,
    Location,
    Organization,
    Phone,
    Schedule,
    Service,
    ServiceArea,
    ServiceAreaPostcode,
    ServiceAtLocation,
)
from carenet.directory.search.index import refresh_services
from carenet.directory.service import ensure_taxonomy
from carenet.extensions import db
from carenet.geo import postcodes_in_county
from carenet.referrals.models import Consent, Need, Patient, Referral, ReferralEvent

MIAMI = (25.7617, -80.1918)
PASSWORD = "a long test passphrase"


@cache
def password_hash(password: str = PASSWORD) -> str:
    """The hash the code stores (argon2id, 64 MiB), computed once per password and run."""
    return passwords.hash_password(password)


def _session() -> Any:
    return db.session


class _Factory(SQLAlchemyModelFactory):
    class Meta:
        abstract = True
        sqlalchemy_session_factory = _session
        sqlalchemy_session_persistence = "flush"


# --- directory ----------------------------------------------------------------


class OrganizationFactory(_Factory):
    class Meta:
        model = Organization

    name = factory.Sequence(lambda n: f"Organization {n}")
    kind = "community"


class AddressFactory(_Factory):
    class Meta:
        model = Address

    location = factory.SubFactory("factories.LocationFactory", address=None)
    address_1 = factory.Sequence(lambda n: f"{n} Main St")
    city = "Miami"
    state_province = "FL"
    postal_code = "33130"


class LocationFactory(_Factory):
    """A physical location with one address; ``at`` (lat, lon) sets latitude, longitude and
    ``geom`` (None: no coordinates)."""

    class Meta:
        model = Location

    class Params:
        at = MIAMI

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"Site {n}")
    latitude = factory.LazyAttribute(lambda o: o.at[0] if o.at else None)
    longitude = factory.LazyAttribute(lambda o: o.at[1] if o.at else None)
    geocode_method = factory.LazyAttribute(lambda o: "source" if o.latitude is not None else None)
    geom = factory.LazyAttribute(
        lambda o: point_wkt(o.longitude, o.latitude) if o.latitude is not None else None
    )
    address = factory.RelatedFactory(AddressFactory, factory_related_name="location")


class ServiceAtLocationFactory(_Factory):
    class Meta:
        model = ServiceAtLocation

    service = factory.SubFactory("factories.ServiceFactory", locations=[])
    location = factory.SubFactory(LocationFactory)


class PhoneFactory(_Factory):
    class Meta:
        model = Phone

    service = factory.SubFactory("factories.ServiceFactory", locations=[])
    number = "305-555-0100"


class LanguageFactory(_Factory):
    class Meta:
        model = Language

    service = factory.SubFactory("factories.ServiceFactory", locations=[])
    code = "es"


class ScheduleFactory(_Factory):
    """A weekly schedule of a service (location-independent unless ``location`` given)."""

    class Meta:
        model = Schedule

    service = factory.SubFactory("factories.ServiceFactory", locations=[])
    freq = "WEEKLY"
    byday = "MO,TU,WE,TH,FR"
    opens_at = time(9)
    closes_at = time(17)


def weekly(
    byday: str | None = "MO,TU,WE,TH,FR",
    opens: str | None = "09:00",
    closes: str | None = "17:00",
    **fields: Any,
) -> dict[str, Any]:
    """ScheduleFactory fields from wall-clock strings: ``weekly("SA", "22:00", "02:00")``."""
    return {
        "byday": byday,
        "opens_at": time.fromisoformat(opens) if opens else None,
        "closes_at": time.fromisoformat(closes) if closes else None,
        **fields,
    }


def polygon_ewkt(lonlats: Iterable[tuple[float, float]]) -> str:
    points = list(lonlats)
    ring = ", ".join(f"{lon} {lat}" for lon, lat in points + points[:1])
    return f"SRID=4326;MULTIPOLYGON((({ring})))"


def _area_geom(area: Any) -> str | None:
    if area.kind == "radius":
        circle = circle_polygon(area.center_latitude, area.center_longitude, area.radius_mi)
        return multipolygon_ewkt(circle)
    if area.kind == "polygon" and area.lonlats:
        return polygon_ewkt(area.lonlats)
    return None


class ServiceAreaFactory(_Factory):
    """A service area of kind postcodes (``postcodes=[...]``, default 33130 and 33131),
    county (``county``, ``state``; its ZIP codes unless ``postcodes`` given), radius
    (``center`` (lat, lon), ``radius_mi``; the circle as ``geom``) or polygon
    (``lonlats`` [(lon, lat), ...] or ``geom`` EWKT)."""

    class Meta:
        model = ServiceArea

    class Params:
        center = MIAMI
        lonlats = None

    service = factory.SubFactory("factories.ServiceFactory", locations=[])
    kind = "postcodes"
    center_latitude = factory.LazyAttribute(lambda o: o.center[0] if o.kind == "radius" else None)
    center_longitude = factory.LazyAttribute(lambda o: o.center[1] if o.kind == "radius" else None)
    radius_mi = factory.LazyAttribute(lambda o: 10.0 if o.kind == "radius" else None)
    geom = factory.LazyAttribute(_area_geom)

    @factory.post_generation
    def postcodes(area: ServiceArea, create: bool, extracted: Iterable[str] | None, **_: Any):
        if extracted is None:
            if area.kind == "postcodes":
                extracted = ["33130", "33131"]
            elif area.kind == "county":
                extracted = postcodes_in_county(area.county, area.state)
            else:
                extracted = []
        area.postcodes = [ServiceAreaPostcode(postcode=code) for code in extracted]
        if create:
            db.session.flush()


def _add_categories(service: Service, slugs: Iterable[str] | None) -> None:
    slugs = tuple(slugs or ())
    if slugs:
        terms = ensure_taxonomy()
        service.categories.extend(terms[slug] for slug in slugs)
        db.session.flush()


class ServiceFactory(_Factory):
    """A service of a new organization (or ``organization``), and its parts:

    - ``locations``: Location rows or (lat, lon) points (new locations of the organization,
      named "<service> site <i>" at "<i> Main St"); default one in Miami; ``[]`` none.
      ``locations__<field>`` goes to each new LocationFactory.
    - ``categories``: slugs of carenet's taxonomy (made if missing).
    - ``languages`` (codes), ``phones`` (numbers), ``schedules`` and ``areas`` (dicts of
      ScheduleFactory and ServiceAreaFactory fields).
    """

    class Meta:
        model = Service

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"Service {n}")

    @factory.post_generation
    def locations(service: Service, create: bool, extracted: Any, **fields: Any):
        if extracted is None:
            extracted = [MIAMI]
        for index, site in enumerate(extracted, start=1):
            if not isinstance(site, Location):
                site = LocationFactory.create(
                    **{
                        "organization": service.organization,
                        "at": site,
                        "name": f"{service.name} site {index}",
                        "address__address_1": f"{index} Main St",
                        **fields,
                    }
                )
            service.service_at_locations.append(ServiceAtLocation(location=site))
        db.session.flush()

    @factory.post_generation
    def categories(service: Service, create: bool, extracted: Iterable[str] | None, **_: Any):
        _add_categories(service, extracted)

    @factory.post_generation
    def languages(service: Service, create: bool, extracted: Iterable[str] | None, **_: Any):
        for code in extracted or ():
            LanguageFactory(service=service, code=code)

    @factory.post_generation
    def phones(service: Service, create: bool, extracted: Iterable[str] | None, **_: Any):
        for number in extracted or ():
            PhoneFactory(service=service, number=number)

    @factory.post_generation
    def schedules(service: Service, create: bool, extracted: Iterable[dict] | None, **_: Any):
        for fields in extracted or ():
            ScheduleFactory(service=service, **fields)

    @factory.post_generation
    def areas(service: Service, create: bool, extracted: Iterable[dict] | None, **_: Any):
        for fields in extracted or ():
            ServiceAreaFactory(service=service, **fields)


class IndexedServiceFactory(ServiceFactory):
    """A service as search tests want it: of "<name> Inc.", category support-groups,
    English, one phone; refreshed in the search index (``refresh_services``) and committed.
    ``locations=[(lat, lon)]`` places it; ``locations=[]`` has no physical location."""

    organization = factory.SubFactory(
        OrganizationFactory, name=factory.LazyAttribute(lambda o: f"{o.factory_parent.name} Inc.")
    )

    @factory.post_generation
    def categories(service: Service, create: bool, extracted: Iterable[str] | None, **_: Any):
        _add_categories(service, ("support-groups",) if extracted is None else extracted)

    @factory.post_generation
    def languages(service: Service, create: bool, extracted: Iterable[str] | None, **_: Any):
        for code in ("en",) if extracted is None else extracted:
            LanguageFactory(service=service, code=code)

    @factory.post_generation
    def phones(service: Service, create: bool, extracted: Iterable[str] | None, **_: Any):
        for number in ("305-555-0100",) if extracted is None else extracted:
            PhoneFactory(service=service, number=number)

    @factory.post_generation
    def indexed(service: Service, create: bool, extracted: bool | None, **_: Any):
        if create and extracted is not False:
            db.session.flush()
            refresh_services([service.id])
            db.session.commit()


# --- accounts -----------------------------------------------------------------


class MembershipFactory(_Factory):
    class Meta:
        model = Membership

    user = factory.SubFactory("factories.UserFactory", membership=None)
    organization = factory.SubFactory(OrganizationFactory)
    role = "coordinator"


class UserFactory(_Factory):
    """A user who signs in with ``password`` (hashed as the code hashes it), with one
    membership: ``role`` in ``organization`` (a new organization unless given);
    ``membership=None`` for none."""

    class Meta:
        model = User

    class Params:
        password = PASSWORD
        role = "coordinator"
        organization = factory.SubFactory(OrganizationFactory)

    email = factory.Sequence(lambda n: f"user{n}@example.org")
    password_hash = factory.LazyAttribute(lambda o: password_hash(o.password))
    membership = factory.RelatedFactory(
        MembershipFactory,
        factory_related_name="user",
        role=factory.SelfAttribute("..role"),
        organization=factory.SelfAttribute("..organization"),
    )


# --- referrals ----------------------------------------------------------------


class PatientFactory(_Factory):
    class Meta:
        model = Patient

    organization = factory.SubFactory(OrganizationFactory, kind="care")
    given_name = "Ana"
    family_name = factory.Sequence(lambda n: f"Person {n:04d}")
    birth_date = date(1950, 3, 4)


class ConsentFactory(_Factory):
    """Consent to share with CBOs, given verbally a day ago, open-ended."""

    class Meta:
        model = Consent

    patient = factory.SubFactory(PatientFactory)
    method = "verbal"
    scope = "share-with-cbo"
    starts_at = factory.LazyFunction(lambda: utcnow() - timedelta(days=1))


class NeedFactory(_Factory):
    class Meta:
        model = Need

    patient = factory.SubFactory(PatientFactory)
    category = "food-insecurity"


class ReferralFactory(_Factory):
    """A referral row as it stands (status, timestamps as given), for reports' fixed
    histories. It skips the workflow's rules: to send one, call ``send_referral``."""

    class Meta:
        model = Referral

    need = factory.SubFactory(NeedFactory)
    patient = factory.LazyAttribute(lambda o: o.need.patient if o.need else PatientFactory())
    category = factory.LazyAttribute(lambda o: o.need.category if o.need else "food-insecurity")
    sender_organization = factory.LazyAttribute(lambda o: o.patient.organization)
    recipient_organization = factory.SubFactory(OrganizationFactory)
    service_name = "Test service"
    status = "requested"


class ReferralEventFactory(_Factory):
    class Meta:
        model = ReferralEvent

    class Params:
        referral = None  # the Referral (the event has no relationship to it)

    referral_id = factory.LazyAttribute(lambda o: o.referral.id)
    from_status = None
    to_status = "requested"
    version = 1
