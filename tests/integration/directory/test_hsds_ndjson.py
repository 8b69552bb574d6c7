"""Newline-delimited JSON and API-page files through ``import_path`` (both backends)."""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from carenet.directory.hsds import import_path
from carenet.directory.hsds.reading import open_source
from carenet.directory.models import Organization, Service
from carenet.extensions import db

ORG = "00000000-0000-4000-8000-00000000a001"


def service(number: int, **extra: object) -> dict[str, object]:
    return {
        "id": f"00000000-0000-4000-8000-{number:012d}",
        "name": f"Meals on wheels {number}",
        "organization": {"id": ORG, "name": "Helping Hands"},
        **extra,
    }


def lines(*objects: object) -> str:
    return "".join((o if isinstance(o, str) else json.dumps(o)) + "\n" for o in objects)


def test_an_ndjson_file_imports_one_record_per_line(app_ctx, tmp_path):
    path = tmp_path / "services.ndjson"
    path.write_text(lines(service(1), "", service(2), '{"id": "x",, "name": 1}', service(3)))
    report = import_path(path)
    assert report.records == 3
    assert [(r.file, r.position) for r in report.rejected] == [
        ("services.ndjson", "line 4, column 12")
    ]
    assert (
        report.rejected[0].reason
        == "broken JSON: Expecting property name enclosed in double quotes"
    )
    assert db.session.query(Service).count() == 3
    assert db.session.get(Organization, ORG).name == "Helping Hands"


def test_errors_name_their_lines(tmp_path):
    path = tmp_path / "mixed.jsonl"
    path.write_bytes(
        lines(service(1), "[1, 2]").encode() + b'{"name": "caf\xe9"}\n' + lines(service(4)).encode()
    )
    items = list(open_source(path).items)
    assert [(i.position, i.error) for i in items] == [
        ("line 1", None),
        ("line 2", "expected one JSON object per line"),
        ("line 3", "line is not UTF-8 text"),
        ("line 4", None),
    ]
    assert items[-1].done == path.stat().st_size


def test_a_json_file_holding_one_object_per_line_is_read_as_ndjson(tmp_path):
    path = tmp_path / "export.json"
    path.write_text(lines(service(1), service(2)))
    assert [i.obj["id"] for i in open_source(path).items] == [service(1)["id"], service(2)["id"]]


def test_a_folder_reads_json_and_ndjson_files_in_path_order(app_ctx, tmp_path):
    (tmp_path / "a.json").write_text(json.dumps([service(1)]))
    (tmp_path / "b.ndjson").write_text(lines(service(2)))
    (tmp_path / "c.jsonl").write_text(lines(service(3)))
    (tmp_path / "notes.txt").write_text("not read")
    report = import_path(tmp_path)
    assert (report.records, report.rejected) == (3, [])
    assert db.session.query(Service).count() == 3


def test_an_api_page_file_imports_its_contents(app_ctx, tmp_path):
    page = {"total_items": 2, "total_pages": 1, "page_number": 1, "size": 2,
            "contents": [service(1), service(2)]}  # fmt: skip
    path = tmp_path / "page.json"
    path.write_text(json.dumps(page))
    report = import_path(path)
    assert (report.records, report.rejected) == (2, [])
    assert db.session.query(Service).count() == 2


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(st.one_of(st.text(max_size=40), st.binary(max_size=40).map(repr)), max_size=6))
def test_any_line_gives_a_record_or_an_error_never_an_exception(tmp_path_factory, text_lines):
    path = Path(tmp_path_factory.mktemp("nd")) / "fuzz.ndjson"
    path.write_bytes("\n".join(text_lines).encode("utf-8", "surrogatepass"))
    for item in open_source(path).items:
        assert (item.obj is None) != (item.error is None)
        assert item.position.startswith("line ")
