"""Shared fixtures: a fresh app per test on each backend (SpatiaLite and PostGIS).

Every test that asks for ``app`` (or ``db_session``, ``client``, ``runner``) runs
twice, once per backend. PostGIS comes from ``CARENET_TEST_POSTGRES_URL`` (a
server where we may create databases) or, when that is unset, from a
throwaway cluster this file starts and removes.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from flask_migrate import upgrade
from sqlalchemy import text

from carenet import create_app
from carenet.extensions import db

BACKENDS = ["spatialite", "postgis"]
REPO_ROOT = Path(__file__).resolve().parent.parent


def _worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


def _test_config(url: str) -> dict[str, object]:
    return {
        "ENV_NAME": "test",
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": url,
        "SECRET_KEY": "test-secret",
        "SERVER_NAME": None,
    }


def _migrate(url: str) -> None:
    app = create_app(_test_config(url))
    with app.app_context():
        upgrade()
        db.engine.dispose()


@pytest.fixture(scope="session")
def postgres_server_url() -> Iterator[str]:
    url = os.environ.get("CARENET_TEST_POSTGRES_URL")
    if url:
        yield url
        return
    from carenet.db.throwaway_pg import start_cluster

    cluster = start_cluster()
    try:
        yield cluster.url
    finally:
        cluster.stop()


@pytest.fixture(scope="session")
def spatialite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    _migrate(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgis_database(postgres_server_url: str) -> str:
    from carenet.db.throwaway_pg import create_database

    url = create_database(postgres_server_url, f"carenet_test_{_worker()}")
    _migrate(url)
    return url


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def database_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if backend == "spatialite":
        template = request.getfixturevalue("spatialite_template")
        path = tmp_path / "carenet.db"
        shutil.copyfile(template, path)
        return f"sqlite:///{path}"
    return str(request.getfixturevalue("postgis_database"))


def _truncate_all(app: Flask) -> None:
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            return
        names = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables)
        with db.engine.begin() as conn:
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


@pytest.fixture
def app(database_url: str) -> Iterator[Flask]:
    app = create_app(_test_config(database_url))
    try:
        yield app
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        _truncate_all(app)
        with app.app_context():
            db.engine.dispose()


@pytest.fixture
def app_ctx(app: Flask) -> Iterator[Flask]:
    """The app with an application context pushed, for service-level tests."""
    with app.app_context():
        yield app


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


# --- both backends really ran -------------------------------------------------

_PASSED_BY_BACKEND: dict[str, int] = {name: 0 for name in BACKENDS}


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when == "call" and report.passed:
        for name in BACKENDS:
            if f"[{name}" in report.nodeid or f"-{name}]" in report.nodeid:
                _PASSED_BY_BACKEND[name] += 1


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:  # type: ignore[no-untyped-def]
    counts = ", ".join(f"{name}: {n}" for name, n in _PASSED_BY_BACKEND.items())
    terminalreporter.write_line(f"carenet: database tests passed per backend — {counts}")
    required = [b for b in os.environ.get("CARENET_REQUIRE_BACKENDS", "").split(",") if b]
    missing = [name for name in required if _PASSED_BY_BACKEND.get(name, 0) == 0]
    if missing:
        terminalreporter.write_line(f"carenet: FAILED: no database test passed on {missing}")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    required = [b for b in os.environ.get("CARENET_REQUIRE_BACKENDS", "").split(",") if b]
    if hasattr(session.config, "workerinput") or session.testsfailed:
        return
    missing = [name for name in required if _PASSED_BY_BACKEND.get(name, 0) == 0]
    if missing and not session.config.option.collectonly:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
