"""carenet export-hsds: valid HSDS 3.0 against the official schemas, and a lossless round trip."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources

from directory_helpers import dump_directory, wipe_directory
from factories import (
    LanguageFactory,
    LocationFactory,
    OrganizationFactory,
    PhoneFactory,
    ScheduleFactory,
    ServiceAreaFactory,
    ServiceFactory,
)
from jsonschema import Draft202012Validator

from carenet.directory.hsds import export_directory, import_path
from carenet.directory.service import ensure_taxonomy
from carenet.extensions import db

# found as package data, so the test works against an installed (non-editable) carenet too
SCHEMAS = resources.files("carenet.directory.hsds") / "schema"
POLYGON = {
    "type": "Polygon",
    "coordinates": [[[-80.3, 25.7], [-80.1, 25.7], [-80.1, 25.9], [-80.3, 25.9], [-80.3, 25.7]]],
}


@cache
def validator(name: str) -> Draft202012Validator:
    """The official compiled schema (it declares no $schema: validate as draft 2020-12)."""
    return Draft202012Validator(json.loads((SCHEMAS / f"{name}.json").read_text()))


def _directory_with_every_kind_of_row() -> None:
    ensure_taxonomy()
    org = OrganizationFactory(
        kind="care", description="A test CBO", website="https://example.org", year_incorporated=1990
    )
    base = LocationFactory(
        organization=org, address__postal_code="33157", timezone="America/New_York"
    )
    rides = ServiceFactory(
        organization=org,
        locations=[base],
        categories=("transportation",),
        capacity_status="waitlist",
        free=True,
        minimum_age=60,
        eligibility_description="Older adults",
    )
    PhoneFactory(service=rides, extension="12", type="voice")
    LanguageFactory(service=rides, name="Spanish")
    ScheduleFactory(service=rides, description="Weekdays")
    ScheduleFactory(service=rides, byday="SA", location=base)
    ServiceAreaFactory(
        service=rides,
        kind="radius",
        radius_mi=15.0,
        name="15 miles",
        extent=json.dumps(
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [-80.1918, 25.7617]},
                "properties": {"radius_mi": 15.0},
            }
        ),
    )
    meals = ServiceFactory(
        organization=org, categories=("meal-delivery", "food-pantry"), confidential=True
    )
    ServiceAreaFactory(
        service=meals,
        kind="postcodes",
        postcodes=["33101", "33125"],
        extent="postcodes:33101 33125",
    )
    ServiceAreaFactory(
        service=meals,
        kind="polygon",
        extent=json.dumps(POLYGON),
        geom="SRID=4326;MULTIPOLYGON(((-80.3 25.7,-80.1 25.7,-80.1 25.9,-80.3 25.9,-80.3 25.7)))",
    )
    db.session.commit()


def test_every_exported_object_validates_against_the_official_schemas(app_ctx, tmp_path):
    _directory_with_every_kind_of_row()
    counts = export_directory(tmp_path)
    assert counts == {"organizations": 1, "services": 2}
    for name in ("organization", "service"):
        objects = json.loads((tmp_path / f"{name}s.json").read_text())
        for obj in objects:
            errors = [e.message for e in validator(name).iter_errors(obj)]
            assert errors == [], f"{name} {obj['id']}: {errors}"


def test_import_export_import_round_trips_without_loss(app_ctx, data_dir, tmp_path):
    import_path(data_dir / "miami_sample")
    example = json.loads((data_dir / "service_full.json").read_text())
    example["service_at_locations"][0]["location"].update(latitude=25.76, longitude=-80.19)
    (tmp_path / "example.json").write_text(json.dumps(example))
    assert import_path(tmp_path / "example.json").rejected == []
    _directory_with_every_kind_of_row()
    before = dump_directory()
    assert before["service_area_postcode"] and before["service_category"]
    export_directory(tmp_path / "out")
    wipe_directory()
    assert dump_directory()["service"] == []
    report = import_path(tmp_path / "out")
    assert report.rejected == []
    # URLs without a scheme are kept for display but never exported (not valid HSDS "uri")
    assert dump_directory() == _without_unexported_urls(before)


def _without_unexported_urls(dump: dict[str, list[tuple]]) -> dict[str, list[tuple]]:
    out = dict(dump)
    for table in ("organization", "service", "location"):
        names = [c.name for c in db.metadata.tables[table].columns]
        names = [n for n in names if n not in {"created_at", "updated_at"}]
        rows = []
        for row in dump[table]:
            values = dict(zip(names, row, strict=True))
            extra = values.get("hsds_extra") or {}
            local = dict(extra.get("carenet:local") or {})
            for key in ("url", "website"):
                if key in local:
                    values[key] = None
                    del local[key]
            if "carenet:local" in extra:
                values["hsds_extra"] = {**extra, "carenet:local": local}
            rows.append(tuple(values[n] for n in names))
        out[table] = sorted(rows, key=repr)
    return out


def test_cli_export_writes_both_files(runner, tmp_path, data_dir):
    runner.invoke(args=["import-hsds", str(data_dir / "miami_sample")])
    result = runner.invoke(args=["export-hsds", str(tmp_path / "out")])
    assert result.exit_code == 0
    assert "Wrote 6 organizations" in result.stdout and "6 services" in result.stdout
    services = json.loads((tmp_path / "out" / "services.json").read_text())
    assert len(services) == 6


def test_cli_export_to_a_file_path_is_an_error_message_not_a_trace(runner, tmp_path):
    target = tmp_path / "taken"
    target.write_text("x")
    result = runner.invoke(args=["export-hsds", str(target)])
    assert result.exit_code == 1
    assert "cannot write to" in result.output and "Traceback" not in result.output
