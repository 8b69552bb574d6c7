"""The database itself refuses impossible directory rows (check constraints, both backends)."""

from __future__ import annotations

import pytest
from factories import LocationFactory, OrganizationFactory, ServiceFactory
from sqlalchemy.exc import IntegrityError

from carenet.directory.models import Schedule, ServiceArea
from carenet.extensions import db


@pytest.mark.parametrize(
    "fields",
    [
        {"capacity_status": "maybe"},
        {"minimum_age": 70, "maximum_age": 18},
        {"minimum_age": -1},
        {"status": "open"},
    ],
)
def test_service_check_constraints(app_ctx, fields):
    org = OrganizationFactory()
    db.session.commit()
    with pytest.raises(IntegrityError):
        ServiceFactory(organization=org, locations=[], **fields)
    db.session.rollback()


def test_location_latitude_outside_range_is_refused(app_ctx):
    with pytest.raises(IntegrityError):
        LocationFactory(organization=None, at=(91.0, 0.0))
    db.session.rollback()


def test_schedule_needs_an_owner_and_a_known_freq(app_ctx):
    with pytest.raises(IntegrityError):
        db.session.add(Schedule(freq="WEEKLY"))
        db.session.flush()
    db.session.rollback()
    service = ServiceFactory(locations=[])
    with pytest.raises(IntegrityError):
        db.session.add(Schedule(service_id=service.id, freq="DAILY"))
        db.session.flush()
    db.session.rollback()


def test_service_area_radius_over_500_miles_is_refused(app_ctx):
    service = ServiceFactory(locations=[])
    with pytest.raises(IntegrityError):
        db.session.add(ServiceArea(service_id=service.id, kind="radius", radius_mi=900))
        db.session.flush()
    db.session.rollback()
