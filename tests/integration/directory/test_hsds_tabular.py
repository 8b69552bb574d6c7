"""Tabular data packages: HSDS 3.0 CSVs and the HSDS 1.x shape of 211 exports (Open211 Miami)."""

from __future__ import annotations

import shutil

from carenet.directory.hsds import import_path
from carenet.directory.hsds.conventions import derived_id
from carenet.directory.models import Organization, Service
from carenet.extensions import db


def test_miami_211_sample_is_cleaned_mapped_and_categorised(app_ctx, data_dir):
    report = import_path(data_dir / "miami_sample")
    assert report.rejected == []
    assert report.counts["service_created"] == 6
    meals = db.session.get(Service, derived_id("hsds1", "service", "3787"))
    assert {"meal-delivery", "food-pantry", "social-connection"} <= set(meals.category_slugs)
    rides = db.session.get(Service, derived_id("hsds1", "service", "1608"))
    assert "transportation" in rides.category_slugs
    scouts = db.session.get(Service, derived_id("hsds1", "service", "136"))
    assert [(s.byday, str(s.opens_at), str(s.closes_at)) for s in scouts.schedules] == [
        ("MO,TU,WE,TH,FR", "09:00:00", "17:00:00")
    ]
    assert [lang.code for lang in scouts.languages] == ["en", "es", "ht"]  # Creole -> ht
    address = scouts.service_at_locations[0].location.addresses[0]
    assert (address.state_province, address.country, address.postal_code) == ("FL", "US", "33157")
    assert scouts.service_at_locations[0].location.geocode_method == "postcode"
    # A service whose organization row is missing gets one built from the site it points at.
    site_service = db.session.get(Service, derived_id("hsds1", "service", "6562"))
    assert site_service.organization.name.startswith("M-DC CAHS")
    assert any("built from location 6253" in w for w in report.warnings)
    assert any("dropped: address_1" in w for w in report.warnings)


def test_reimporting_the_miami_sample_updates_in_place(app_ctx, data_dir):
    import_path(data_dir / "miami_sample")
    again = import_path(data_dir / "miami_sample")
    assert again.counts["service_created"] == 0 and again.counts["service_updated"] == 6
    assert db.session.query(Service).count() == 6


def test_official_hsds3_csv_package_imports_with_warnings_for_latitude_100_and_unknown_org(
    app_ctx, data_dir
):
    report = import_path(data_dir / "hsds3_csv")
    assert report.rejected == []
    messages = [w.reason for w in report.warnings]
    assert (
        "location 3a19ff88-4620-4d17-9830-ac1d859eb5d5: latitude 100 is outside -90..90; dropped"
    ) in messages
    # The official example's location names an organization that is not in the package.
    assert (
        "location 3a19ff88-4620-4d17-9830-ac1d859eb5d5: organization "
        "985e4a42-bd9f-4edc-911d-0243a4640aca not found; the location is stored without it"
    ) in messages
    assert {w.position for w in report.warnings} == {"line 2"}
    service = db.session.get(Service, "ac148810-d857-441c-9679-408f346de14b")
    assert service.name == "Community Counselling"
    assert db.session.get(Organization, service.organization_id) is not None
    location = service.service_at_locations[0].location
    assert location.organization_id is None
    assert location.hsds_extra["organization_id"] == "985e4a42-bd9f-4edc-911d-0243a4640aca"


def test_unreadable_csv_is_reported_not_raised(app_ctx, tmp_path):
    (tmp_path / "services.csv").write_bytes(b"id,name\n1,Caf\xe9 \xff\n")
    report = import_path(tmp_path)
    assert len(report.rejected) == 1
    assert report.rejected[0].reason.startswith("cannot read the CSV files:")


def test_hsds3_csv_schedule_with_service_and_location_belongs_to_the_service_there(
    app_ctx, data_dir, tmp_path
):
    fixed = tmp_path / "csv"
    shutil.copytree(data_dir / "hsds3_csv", fixed)
    locations = (fixed / "locations.csv").read_text().replace(",100,101,", ",25.76,-80.19,")
    locations = locations.replace(
        "985e4a42-bd9f-4edc-911d-0243a4640aca", "d9d5e0f5-d3ce-4f73-9a2f-4dd0ecc6c610"
    )
    (fixed / "locations.csv").write_text(locations)
    assert import_path(fixed).rejected == []
    service = db.session.get(Service, "ac148810-d857-441c-9679-408f346de14b")
    [schedule] = service.schedules
    assert schedule.location_id == "3a19ff88-4620-4d17-9830-ac1d859eb5d5"
    assert (schedule.byday, str(schedule.opens_at)) == ("TH,FR", "10:00:00")
