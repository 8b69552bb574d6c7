"""``carenet import-hsds http://host/api/hsds``: one carenet pulls another's directory over
real HTTP (a second, seeded carenet served locally), and what happens when the other
side fails: unreachable, failing part way, slow, retried, not an HSDS API."""

from __future__ import annotations

import itertools
import json
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest
from directory_helpers import table_counts
from flask import Flask
from hypothesis import given, settings
from hypothesis import strategies as st
from live_server import serve_app

from carenet import create_app
from carenet.directory.hsds import import_path, remote
from carenet.directory.models import Service
from carenet.extensions import db

ORG = {"id": "00000000-0000-4000-8000-00000000b001", "name": "Remote Helpers"}


@pytest.fixture(scope="module")
def other_carenet(spatialite_template: Path, tmp_path_factory) -> Iterator[tuple[str, Flask]]:
    """A second carenet on its own database, seeded with seed_data/, served over HTTP."""
    from carenet.directory.seed import seed_directory

    path = tmp_path_factory.mktemp("other") / "other.db"
    shutil.copyfile(spatialite_template, path)
    other = create_app(
        {"ENV_NAME": "test", "TESTING": True, "SECRET_KEY": "other-secret",
         "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}", "SERVER_NAME": None}
    )  # fmt: skip
    with other.app_context():
        assert not seed_directory(echo=lambda _line: None).rejected
    with serve_app(other) as url:
        yield f"{url}/api/hsds", other
    with other.app_context():
        db.engine.dispose()


def _hsds(client: Any, path: str) -> dict[str, Any]:
    response = client.get(f"/api/hsds{path}")
    assert response.status_code == 200, path
    return response.get_json()


def _comparable(service: dict[str, Any]) -> dict[str, Any]:
    """What must survive the trip (time stamps of the other database aside)."""
    return {
        "name": service["name"],
        "description": service.get("description"),
        "organization": service["organization"]["name"],
        "phones": sorted(p["number"] for p in service.get("phones") or []),
        "schedules": sorted(
            (s.get("byday"), s.get("opens_at"), s.get("closes_at"))
            for s in service.get("schedules") or []
        ),
        "languages": sorted(lang.get("code") or "" for lang in service.get("languages") or []),
        "locations": sorted(
            (sal["location"].get("latitude"), sal["location"].get("longitude"))
            for sal in service.get("service_at_locations") or []
        ),
    }


def test_one_carenet_pulls_anothers_directory_over_http(app_ctx, other_carenet):
    url, other = other_carenet
    report = import_path(url)
    assert report.rejected == []
    with other.app_context():
        theirs = table_counts()
    ours = table_counts()
    for table in ("organization", "service", "location", "phone", "schedule", "language"):
        assert ours[table] == theirs[table], table
    assert ours["service"] == 499 and report.counts["service_created"] == 499
    # Every service reads the same from both APIs (sampled across the pages).
    ids = sorted(db.session.scalars(db.select(Service.id)))
    mine, remote = app_ctx.test_client(), other.test_client()
    for service_id in ids[::25]:
        assert _comparable(_hsds(mine, f"/services/{service_id}")) == _comparable(
            _hsds(remote, f"/services/{service_id}")
        )
    # Importing again updates by id and duplicates nothing.
    again = import_path(url)
    assert again.rejected == [] and again.counts["service_created"] == 0
    assert table_counts()["service"] == 499


Handler = Callable[[str, dict[str, list[str]]], tuple[int, Any]]


class FakeHsdsApi:
    """A real HTTP server answering from ``handler(path, query)`` -> (status, JSON or text)."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.requests: list[str] = []

    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        path, query = environ["PATH_INFO"], parse_qs(environ.get("QUERY_STRING", ""))
        self.requests.append(f"{path}?{environ.get('QUERY_STRING', '')}")
        status, body = self.handler(path, query)
        data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        kind = "text/html" if isinstance(body, str) else "application/json"
        start_response(f"{status} X", [("Content-Type", kind), ("Content-Length", str(len(data)))])
        return [data]


def _service(number: int) -> dict[str, Any]:
    return {"id": f"00000000-0000-4000-8000-{number:012d}", "name": f"Rides {number}",
            "organization_id": ORG["id"]}  # fmt: skip


def _page(number: int, pages: int, contents: list[Any], total: int) -> dict[str, Any]:
    return {"total_items": total, "total_pages": pages, "page_number": number,
            "size": len(contents), "first_page": number == 1, "last_page": number == pages,
            "empty": not contents, "contents": contents}  # fmt: skip


@pytest.fixture
def fake_api() -> Iterator[Callable[[Handler], tuple[str, FakeHsdsApi]]]:
    servers = []

    def start(handler: Handler) -> tuple[str, FakeHsdsApi]:
        api = FakeHsdsApi(handler)
        server = serve_app(api)  # type: ignore[arg-type]
        servers.append(server)
        return f"{server.__enter__()}/api/hsds", api

    yield start
    for server in servers:
        server.__exit__(None, None, None)


def _numbered(path: str, query: dict[str, list[str]]) -> int:
    return int(query.get("page", ["1"])[0])


def test_a_failure_part_way_keeps_the_pages_before_it_and_says_so(app_ctx, fake_api):
    app_ctx.config.update(IMPORT_BATCH_SIZE=2, IMPORT_HTTP_RETRIES=1)

    def handler(path: str, query: dict[str, list[str]]) -> tuple[int, Any]:
        if path == "/api/hsds/organizations/" + ORG["id"]:
            return 200, {**ORG, "services": [{"id": "listed, not imported from here"}]}
        if path == "/api/hsds/services" and _numbered(path, query) == 1:
            return 200, _page(1, 2, [_service(1), _service(2), _service(3)], 5)
        return (503, {}) if path == "/api/hsds/services" else (404, {})

    url, api = fake_api(handler)
    report = import_path(url)
    assert [(r.file, r.position) for r in report.rejected] == [(url, "reading stopped")]
    assert report.rejected[0].reason == (
        f"{url}/services?page=2&per_page=100&full=true answered HTTP 503 (tried 2 times); "
        "4 records were read before this"  # the organization and three services
    )
    assert db.session.query(Service).count() == 3  # page 1 is committed, nothing after
    assert api.requests.count("/api/hsds/services?page=2&per_page=100&full=true") == 2
    assert f"/api/hsds/organizations/{ORG['id']}?" in api.requests  # fetched once
    assert sum(r.startswith("/api/hsds/organizations/") for r in api.requests) == 1


def test_a_page_that_fails_once_is_retried(app_ctx, fake_api):
    failures = {"left": 1}

    def handler(path: str, query: dict[str, list[str]]) -> tuple[int, Any]:
        if path == "/api/hsds/organizations":
            return 200, _page(1, 1, [ORG], 1)
        if path == "/api/hsds/services":
            if _numbered(path, query) == 2 and failures["left"]:
                failures["left"] -= 1
                return 502, {}
            number = _numbered(path, query)
            return 200, _page(number, 2, [_service(number * 10 + i) for i in range(2)], 4)
        return 404, {}

    url, api = fake_api(handler)
    report = import_path(url)
    assert (report.rejected, report.records) == ([], 5)
    assert db.session.query(Service).count() == 4
    assert not any(r.startswith("/api/hsds/organizations/") for r in api.requests)


def test_a_slow_api_times_out(app_ctx, fake_api):
    app_ctx.config.update(IMPORT_HTTP_TIMEOUT=0.3, IMPORT_HTTP_RETRIES=0)

    def handler(path: str, query: dict[str, list[str]]) -> tuple[int, Any]:
        time.sleep(1.0)
        return 200, _page(1, 1, [], 0)

    url, _api = fake_api(handler)
    report = import_path(url)
    assert len(report.rejected) == 1
    assert report.rejected[0].reason.startswith(f"cannot reach {url}/organizations?page=1")
    assert "timed out (tried 1 time); 0 records were read" in report.rejected[0].reason


@pytest.mark.parametrize(
    ("status", "body", "reason"),
    [
        (200, "<html>hello</html>", "did not answer JSON (is it an HSDS API?)"),
        (200, {"services": []}, "is not an HSDS API page (no 'contents' list)"),
        (401, {}, "answered HTTP 401"),
    ],
)
def test_something_that_is_not_an_hsds_api_is_refused(app_ctx, fake_api, status, body, reason):
    url, _api = fake_api(lambda path, query: (status, body))
    report = import_path(url + "/")
    assert len(report.rejected) == 1 and reason in report.rejected[0].reason
    assert db.session.query(Service).count() == 0


JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 5) | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)
PAGE = st.fixed_dictionaries(
    {"contents": st.lists(JSON, max_size=3)},
    optional={"total_items": JSON, "total_pages": JSON, "page_number": JSON, "last_page": JSON},
)


def test_whatever_an_api_answers_reading_gives_records_or_one_error(fake_api):
    answer: dict[str, Any] = {}
    url, _api = fake_api(lambda path, query: (answer["status"], answer["body"]))

    @settings(max_examples=40, deadline=None)
    @given(st.sampled_from([200, 200, 200, 404, 400]), st.one_of(PAGE, JSON))
    def read(status: int, body: Any) -> None:
        answer.update(status=status, body=body)
        options = remote.Options(retries=0, timeout=5)
        items = list(itertools.islice(remote.open_remote(url, options).items, 200))
        assert len(items) < 200  # paging ends
        errors = [i for i in items if i.error]
        assert all(i.obj is None for i in errors) and errors in ([], items[-1:])

    read()
