"""Settings, read only from ``CARENET_*`` environment variables."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

INSTANCE_DIR = Path(os.environ.get("CARENET_INSTANCE_DIR", Path.cwd() / "instance"))


def _env(name: str, default: str | None = None) -> str | None:
    return os.environ.get(f"CARENET_{name}", default)


def _bool(name: str, default: bool) -> bool:
    value = _env(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def default_database_url() -> str:
    return f"sqlite:///{INSTANCE_DIR / 'carenet.db'}"


class Config:
    """Production defaults; every value can be overridden from the environment."""

    ENV_NAME = "production"
    SECRET_KEY = _env("SECRET_KEY")
    SQLALCHEMY_DATABASE_URI = _env("DATABASE_URL") or default_database_url()
    SQLALCHEMY_TRACK_MODIFICATIONS = False
    SMTP_URL = _env("SMTP_URL", "smtp://127.0.0.1:25")
    MAIL_FROM = _env("MAIL_FROM", "carenet@localhost")
    SMTP_TIMEOUT_SECONDS = float(_env("SMTP_TIMEOUT_SECONDS", "10") or 10)
    # The outbox worker (docs/operations.md "The worker"): how long a claim holds a message,
    # how many attempts before a dead letter, how many messages one claim takes.
    OUTBOX_LEASE_SECONDS = float(_env("OUTBOX_LEASE_SECONDS", "120") or 120)
    OUTBOX_MAX_ATTEMPTS = int(_env("OUTBOX_MAX_ATTEMPTS", "10") or 10)
    OUTBOX_BATCH_SIZE = int(_env("OUTBOX_BATCH_SIZE", "20") or 20)
    BASE_URL = _env("BASE_URL", "http://127.0.0.1:5000")
    GEOCODER = _env("GEOCODER", "offline")
    GEOCODER_OPTIONS = _env("GEOCODER_OPTIONS", "")  # JSON object passed to the geopy geocoder
    MAP_TILE_URL = _env("MAP_TILE_URL", "")  # empty: draw the map without tiles
    DEFAULT_TIMEZONE = _env("DEFAULT_TIMEZONE", "America/New_York")
    SPATIALITE_LIBRARY = _env("SPATIALITE_LIBRARY", "mod_spatialite")
    # A search counts and pages through at most this many matches, nearest first (search.md)
    SEARCH_MAX_RESULTS = int(_env("SEARCH_MAX_RESULTS", "200") or 200)
    IMPORT_BATCH_SIZE = int(_env("IMPORT_BATCH_SIZE", "500") or 500)
    # Processes mapping HSDS records while the import writes; empty: automatic (docs/hsds.md)
    IMPORT_WORKERS = _env("IMPORT_WORKERS", "")
    # An admin's taxonomy mapping file, extending seed_data/taxonomy_map.csv (docs/hsds.md)
    TAXONOMY_MAP = _env("TAXONOMY_MAP")
    # carenet import-hsds http://host/api/hsds: seconds per request, retries per page
    IMPORT_HTTP_TIMEOUT = float(_env("IMPORT_HTTP_TIMEOUT", "30") or 30)
    IMPORT_HTTP_RETRIES = int(_env("IMPORT_HTTP_RETRIES", "3") or 3)
    # The largest request body accepted, in bytes (413 beyond; docs/api.md "Limits")
    MAX_CONTENT_LENGTH = int(_env("MAX_CONTENT_LENGTH", "1048576") or 1048576)
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = _bool("SECURE_COOKIES", True)
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SECURE = _bool("SECURE_COOKIES", True)
    IDLE_TIMEOUT_MINUTES = int(_env("IDLE_TIMEOUT_MINUTES", "30") or 30)
    # A session ends after this many hours however active it is (idle timeout aside)
    SESSION_MAX_HOURS = float(_env("SESSION_MAX_HOURS", "12") or 12)
    # API tokens: lifetime when none is asked for, and the longest one may ask for (days)
    TOKEN_DEFAULT_DAYS = int(_env("TOKEN_DEFAULT_DAYS", "90") or 90)
    TOKEN_MAX_DAYS = int(_env("TOKEN_MAX_DAYS", "365") or 365)
    # Sign-in throttling (carenet/accounts/throttle.py; docs/security.md "Throttling"):
    # failures of one account from one address before growing waits (first delay, doubled
    # per further failure, at most the window) ...
    LOGIN_MAX_FAILURES = int(_env("LOGIN_MAX_FAILURES", "5") or 5)
    LOGIN_FIRST_DELAY_SECONDS = int(_env("LOGIN_FIRST_DELAY_SECONDS", "60") or 60)
    LOGIN_FAILURE_WINDOW_MINUTES = int(_env("LOGIN_FAILURE_WINDOW_MINUTES", "15") or 15)
    # ... of one account from any address before a short wait after each failure ...
    LOGIN_MAX_FAILURES_PER_ACCOUNT = int(_env("LOGIN_MAX_FAILURES_PER_ACCOUNT", "20") or 20)
    LOGIN_ACCOUNT_DELAY_SECONDS = int(_env("LOGIN_ACCOUNT_DELAY_SECONDS", "60") or 60)
    # ... and from one address for any accounts (raise it when many share one address: NAT)
    LOGIN_MAX_FAILURES_PER_ADDRESS = int(_env("LOGIN_MAX_FAILURES_PER_ADDRESS", "50") or 50)
    WTF_CSRF_TIME_LIMIT = None  # the session's own idle timeout bounds a token's life


class DevelopmentConfig(Config):
    ENV_NAME = "development"
    SECRET_KEY = _env("SECRET_KEY", "dev-only-not-secret")
    SESSION_COOKIE_SECURE = _bool("SECURE_COOKIES", False)
    REMEMBER_COOKIE_SECURE = _bool("SECURE_COOKIES", False)


class TestConfig(DevelopmentConfig):
    ENV_NAME = "test"
    TESTING = True


CONFIGS = {"production": Config, "development": DevelopmentConfig, "test": TestConfig}

MIN_SECRET_KEY_LENGTH = 32
# Keys that appear in this repository (defaults, tests, benchmarks): never a production key.
KNOWN_SECRET_KEYS = frozenset(
    {"dev-only-not-secret", "test-secret", "bench-only", "production-test-secret"}
)
_HOW_TO = (
    "Set CARENET_SECRET_KEY to a random value of at least 32 characters, e.g. "
    "`python -c 'import secrets; print(secrets.token_hex(32))'`, or set "
    "CARENET_ENV=development to run a development server."
)


class InsecureSettings(RuntimeError):
    """Production settings that must not serve real traffic: the app refuses to start."""


def config_for(name: str | None = None) -> type[Config]:
    """The settings class named by ``CARENET_ENV`` (default: production)."""
    chosen = name or _env("ENV") or "production"
    if chosen not in CONFIGS:
        raise InsecureSettings(
            f"CARENET_ENV={chosen!r} is not one of {', '.join(sorted(CONFIGS))}."
        )
    return CONFIGS[chosen]


def refuse_insecure(config: Mapping[str, Any]) -> None:
    """Raise ``InsecureSettings``, naming the setting, when production settings are unsafe:
    no secret key, a short one or one known from this repository, or debug mode on.
    Development and test settings are not checked (they are asked for explicitly)."""
    if config.get("ENV_NAME") in ("development", "test"):
        return
    key = str(config.get("SECRET_KEY") or "")
    if not key:
        raise InsecureSettings(f"CARENET_SECRET_KEY is not set (CARENET_ENV=production). {_HOW_TO}")
    if key in KNOWN_SECRET_KEYS or len(key) < MIN_SECRET_KEY_LENGTH:
        raise InsecureSettings(
            "CARENET_SECRET_KEY is too short or a known development value "
            f"(CARENET_ENV=production). {_HOW_TO}"
        )
    if config.get("DEBUG"):
        raise InsecureSettings(
            "FLASK_DEBUG is on with CARENET_ENV=production: the debugger runs code from "
            "the browser. Unset FLASK_DEBUG, or set CARENET_ENV=development."
        )
