"""carenet import-hsds: good data, each kind of bad record, dry run, upsert by id."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from directory_helpers import dump_directory, table_counts

from carenet.directory.hsds import import_path
from carenet.directory.models import Location, Service, ServiceArea
from carenet.extensions import db

OFFICIAL_SERVICE = "ac148810-d857-441c-9679-408f346de14b"


def _official_example_with_valid_coordinates(data_dir: Path, tmp_path: Path) -> Path:
    """The official HSDS example says latitude 100 / longitude 101; put it in Miami."""
    example = json.loads((data_dir / "service_full.json").read_text())
    example["service_at_locations"][0]["location"].update(latitude=25.7617, longitude=-80.1918)
    example["organization"]["locations"][0].update(latitude=25.7617, longitude=-80.1918)
    path = tmp_path / "service_full_fixed.json"
    path.write_text(json.dumps(example))
    return path


def test_official_example_drops_its_latitude_of_100_with_a_warning_and_keeps_the_record(
    app_ctx, data_dir
):
    report = import_path(data_dir / "service_full.json")
    assert report.rejected == []
    assert report.counts["service_created"] == 1
    where = f"record {OFFICIAL_SERVICE} (service_full.json line 1)"
    messages = [str(w) for w in report.warnings]
    assert (
        f"{where}: location 3a19ff88-4620-4d17-9830-ac1d859eb5d5: latitude 100 is outside"
        " -90..90; dropped"
    ) in messages
    location = db.session.get(Location, "3a19ff88-4620-4d17-9830-ac1d859eb5d5")
    assert (location.latitude, location.longitude) == (None, None)  # "ABC 1234" is no US ZIP
    assert location.name == "MyCity Civic Center"


def test_official_example_imports_every_field_carenet_keeps(app_ctx, data_dir, tmp_path):
    report = import_path(_official_example_with_valid_coordinates(data_dir, tmp_path))
    assert report.rejected == []
    assert report.counts["service_created"] == 1 and report.counts["organization_created"] == 1
    service = db.session.get(Service, OFFICIAL_SERVICE)
    assert service.name == "Community Counselling"
    assert (service.minimum_age, service.maximum_age) == (12, 100)
    assert service.last_verified_at.date().isoformat() == "2005-01-01"
    assert service.fees_description.startswith("Non-NHS patients")
    assert [(lang.code, lang.name) for lang in service.languages] == [("ur", "Urdu")]
    assert [(s.byday, str(s.opens_at), str(s.closes_at)) for s in service.schedules] == [
        ("TH,FR", "10:00:00", "18:00:00")
    ]
    assert service.organization.name == "Example Organization Inc."
    location = service.service_at_locations[0].location
    assert (location.latitude, location.longitude, location.geocode_method) == (
        25.7617,
        -80.1918,
        "source",
    )
    assert location.addresses[0].postal_code == "ABC 1234"
    # The example's service area has extent "extent": reported, kept as given, never matched.
    assert any("kept as given" in w for w in report.warnings)
    assert db.session.query(ServiceArea).count() == 0
    assert service.hsds_extra["service_areas"][0]["extent"] == "extent"


def test_bad_records_are_rejected_with_reasons_and_good_ones_in_the_same_file_land(
    app_ctx, data_dir
):
    report = import_path(data_dir / "bad_records.json")
    assert [str(r) for r in report.rejected] == [
        "record 00000000-0000-4000-8000-000000000002 (bad_records.json line 3): name is missing",
    ]
    warnings = [str(w) for w in report.warnings]
    for expected in (
        "record 00000000-0000-4000-8000-000000000003 (bad_records.json line 4): location "
        "00000000-0000-4000-8000-000000000230: latitude 123.4 is outside -90..90; dropped",
        "record 00000000-0000-4000-8000-000000000004 (bad_records.json line 5): service: "
        "unknown taxonomy term 'carenet-categories:teleportation'; ignored",
        "record 00000000-0000-4000-8000-000000000005 (bad_records.json line 6): location "
        "00000000-0000-4000-8000-000000000250: longitude 'west' is not a number; dropped",
        "record 00000000-0000-4000-8000-000000000007 (bad_records.json line 8): unknown capacity "
        "status 'maybe' (expected one of capacity, no-capacity, waitlist, "
        "additional-assessment-required); dropped",
    ):
        assert expected in warnings
    imported = sorted(db.session.scalars(db.select(Service.id)))
    assert imported == [f"00000000-0000-4000-8000-00000000000{i}" for i in (1, 3, 4, 5, 6, 7)]
    # Nothing of the rejected record was written.
    assert db.session.get(Service, "00000000-0000-4000-8000-000000000002") is None
    # The optional field that failed is absent, the rest of its record is there.
    assert db.session.get(Location, "00000000-0000-4000-8000-000000000230").latitude != 123.4
    maybe = db.session.get(Service, "00000000-0000-4000-8000-000000000007")
    assert maybe.capacity_status == "capacity"  # carenet's default for search: not exported
    assert maybe.hsds_extra["carenet:local"]["capacity_status"] == "capacity"


def test_broken_json_names_file_line_and_column_and_keeps_earlier_records(app_ctx, data_dir):
    report = import_path(data_dir / "broken.json")
    assert [str(r) for r in report.rejected] == [
        "input (broken.json line 87, column 2): broken JSON: Expecting ',' delimiter"
    ]
    assert db.session.query(Service).count() == 2


def test_broken_json_object_file_reports_json_decoder_position(app_ctx, tmp_path):
    path = tmp_path / "one.json"
    path.write_text('{\n  "id": "x",\n  "name": "A"\n  "status": "active"\n}\n')
    report = import_path(path)
    assert [str(r) for r in report.rejected] == [
        "input (one.json line 4, column 3): broken JSON: Expecting ',' delimiter"
    ]


def test_dry_run_validates_and_writes_nothing(app_ctx, data_dir):
    before = dump_directory()
    report = import_path(data_dir / "bad_records.json", dry_run=True)
    assert len(report.rejected) == 1
    assert report.counts["service_created"] == 6
    assert dump_directory() == before


def test_reimport_updates_by_id_and_never_duplicates(app_ctx, data_dir, tmp_path):
    path = _official_example_with_valid_coordinates(data_dir, tmp_path)
    import_path(path)
    first = table_counts()
    changed = json.loads(path.read_text())
    changed["name"] = "Community Counselling (renamed)"
    changed["languages"].append({"id": "9a9c7c1e-1f0b-4d3e-8f54-0d2a4c1b0b01", "code": "pl"})
    path.write_text(json.dumps(changed))
    report = import_path(path)
    assert report.counts["service_updated"] == 1 and report.counts["service_created"] == 0
    assert db.session.get(Service, OFFICIAL_SERVICE).name == "Community Counselling (renamed)"
    second = table_counts()
    assert second["language"] == first["language"] + 1
    assert {k: v for k, v in second.items() if k != "language"} == {
        k: v for k, v in first.items() if k != "language"
    }


def test_address_without_coordinates_is_placed_at_its_zip_centroid(app_ctx, data_dir, tmp_path):
    records = json.loads((data_dir / "bad_records.json").read_text())[:1]
    location = records[0]["service_at_locations"][0]["location"]
    del location["latitude"], location["longitude"]
    location["addresses"][0]["postal_code"] = "33157"
    path = tmp_path / "nocoords.json"
    path.write_text(json.dumps(records))
    assert import_path(path).rejected == []
    stored = db.session.get(Location, location["id"])
    assert stored.geocode_method == "postcode"
    assert round(stored.latitude, 1) == 25.6 and round(stored.longitude, 1) == -80.3
    assert stored.timezone == "America/New_York"


def test_cli_prints_counts_and_every_rejection_and_exits_1(runner, data_dir):
    result = runner.invoke(args=["import-hsds", str(data_dir / "bad_records.json")])
    assert result.exit_code == 1
    out = result.stdout
    assert "services: 6 created, 0 updated" in out
    assert "rejected: 1" in out
    assert "(bad_records.json line 3): name is missing" in out
    assert "Traceback" not in result.output


def test_cli_dry_run_exits_0_on_clean_input_and_says_nothing_was_written(
    runner, data_dir, tmp_path
):
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(data_dir / "broken.json", folder / "a.json")
    result = runner.invoke(args=["import-hsds", "--dry-run", str(folder)])
    assert result.exit_code == 1
    assert "dry run, nothing written" in result.stdout
    assert "(a.json line 87, column 2): broken JSON" in result.stdout
    with runner.app.app_context():
        assert db.session.query(Service).count() == 0


def test_organization_object_with_locations_and_services_imports_them_all(
    app_ctx, data_dir, tmp_path
):
    organization = json.loads((data_dir / "organization_full.json").read_text())
    organization["locations"][0].update(latitude=25.7617, longitude=-80.1918)
    for service in organization["services"]:
        for sal in service.get("service_at_locations", []):
            if isinstance(sal.get("location"), dict):
                sal["location"].update(latitude=25.7617, longitude=-80.1918)
    path = tmp_path / "org.json"
    path.write_text(json.dumps(organization))
    report = import_path(path)
    assert report.rejected == []
    assert report.counts["organization_created"] == 1
    assert report.counts["service_created"] == len(organization["services"]) == 1
    service = db.session.get(Service, OFFICIAL_SERVICE)
    assert service.organization_id == organization["id"]
    assert service.organization.website == "http://example.com"


def test_api_page_of_services_is_imported(app_ctx, data_dir, tmp_path):
    record = json.loads((data_dir / "bad_records.json").read_text())[0]
    page = {
        "total_items": 1,
        "total_pages": 1,
        "page_number": 1,
        "size": 1,
        "first_page": True,
        "last_page": True,
        "empty": False,
        "contents": [record],
    }
    path = tmp_path / "page.json"
    path.write_text(json.dumps(page))
    report = import_path(path)
    assert report.rejected == [] and report.counts["service_created"] == 1


def test_a_record_the_database_refuses_is_isolated_from_its_batch(app_ctx, data_dir, tmp_path):
    records = json.loads((data_dir / "bad_records.json").read_text())
    good_1, good_6 = records[0], records[5]
    clash = json.loads(json.dumps(good_1))
    clash["id"] = "00000000-0000-4000-8000-0000000000c1"
    location = clash["service_at_locations"][0]["location"]
    location["id"] = "00000000-0000-4000-8000-0000000000c2"
    location["addresses"][0]["id"] = "00000000-0000-4000-8000-0000000000c3"
    clash["service_at_locations"][0]["id"] = "00000000-0000-4000-8000-0000000000c4"
    # two terms of one taxonomy with the same code: the unique (taxonomy, code) index refuses it
    taxonomy = {"id": "00000000-0000-4000-8000-0000000000c7", "name": "T", "description": ""}
    clash["attributes"] = [
        {
            "id": f"00000000-0000-4000-8000-0000000000d{i}",
            "taxonomy_term_id": f"00000000-0000-4000-8000-0000000000e{i}",
            "taxonomy_term": {
                "id": f"00000000-0000-4000-8000-0000000000e{i}",
                "code": "same",
                "name": f"Term {i}",
                "description": "",
                "taxonomy_detail": taxonomy,
            },
        }
        for i in (1, 2)
    ]
    path = tmp_path / "batch.json"
    path.write_text(json.dumps([good_1, clash, good_6]))
    report = import_path(path, batch_size=10)
    assert [(r.record_id, r.position) for r in report.rejected] == [(clash["id"], "line 1")]
    assert report.rejected[0].reason.startswith("database refused the record:")
    assert sorted(db.session.scalars(db.select(Service.id))) == [good_1["id"], good_6["id"]]
    assert db.session.get(Location, location["id"]) is None


def test_language_with_a_name_and_no_code_is_kept_and_exported_as_given(
    app_ctx, data_dir, tmp_path
):
    from carenet.directory.hsds import export_directory

    record = json.loads((data_dir / "bad_records.json").read_text())[0]
    record["languages"] = [{"id": "9a9c7c1e-1f0b-4d3e-8f54-0d2a4c1b0b02", "name": "Klingon"}]
    path = tmp_path / "lang.json"
    path.write_text(json.dumps([record]))
    report = import_path(path)
    assert report.rejected == [] and report.warnings == []
    export_directory(tmp_path / "out")
    services = json.loads((tmp_path / "out" / "services.json").read_text())
    assert services[0]["languages"] == [
        {
            "id": "9a9c7c1e-1f0b-4d3e-8f54-0d2a4c1b0b02",
            "service_id": record["id"],
            "name": "Klingon",
        }
    ]


def test_cli_report_file_has_every_rejection_and_warning_as_json_lines(runner, data_dir, tmp_path):
    report = tmp_path / "report.jsonl"
    result = runner.invoke(
        args=["import-hsds", str(data_dir / "bad_records.json"), "--report", str(report)]
    )
    assert result.exit_code == 1
    lines = [json.loads(line) for line in report.read_text().splitlines()]
    kinds = [line["kind"] for line in lines]
    assert kinds.count("rejected") == 1 and kinds.count("warning") >= 4
    assert lines[0] == {
        "kind": "rejected",
        "record_id": "00000000-0000-4000-8000-000000000002",
        "file": "bad_records.json",
        "position": "line 3",
        "message": "name is missing",
    }
    assert f"rejected: 1, warnings: {kinds.count('warning')}" in result.stdout


def test_a_service_at_location_on_its_own_links_a_service_already_imported(
    app_ctx, data_dir, tmp_path
):
    records = json.loads((data_dir / "bad_records.json").read_text())
    import_path(data_dir / "bad_records.json")
    other = records[5]["service_at_locations"][0]["location"]
    link = {"id": "00000000-0000-4000-8000-0000000000f1", "service_id": records[0]["id"]}
    link["location_id"] = other["id"]
    path = tmp_path / "sal.json"
    path.write_text(json.dumps(link))
    report = import_path(path)
    assert report.rejected == []
    service = db.session.get(Service, records[0]["id"])
    assert other["id"] in {sal.location_id for sal in service.service_at_locations}
    missing = dict(link, id="00000000-0000-4000-8000-0000000000f2", service_id="nope")
    path.write_text(json.dumps(missing))
    assert [r.reason for r in import_path(path).rejected] == ["service nope not found"]
