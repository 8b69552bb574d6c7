"""carenet: a community resource directory and closed-loop social-needs referral network."""

from __future__ import annotations

from typing import Any

from flask import Flask

from carenet.config import INSTANCE_DIR, config_for, refuse_insecure
from carenet.db import engine_options, install_connect_hooks
from carenet.extensions import csrf, db, login_manager, migrate


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """The application factory: settings from the environment, overridden by ``config``."""
    app = Flask(__name__, instance_path=str(INSTANCE_DIR), instance_relative_config=False)
    app.config.from_object(config_for((config or {}).get("ENV_NAME")))
    if config:
        app.config.update(config)
    # Production unless development or test is asked for: refuse a missing, short or
    # known secret key and debug mode (docs/operations.md "What refuses to start").
    refuse_insecure({**app.config, "DEBUG": app.debug})
    if not app.config["SESSION_COOKIE_SECURE"] and app.config["ENV_NAME"] == "production":
        app.logger.warning("CARENET_SECURE_COOKIES is off: cookies are sent over plain HTTP")
    INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    options = engine_options(url)
    options.update(app.config.get("SQLALCHEMY_ENGINE_OPTIONS", {}))
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options

    register_extensions(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_commands(app)
    from carenet.referrals.timeutil import register_filters

    register_filters(app)  # local time in words for every template (|local_time, |duration)
    from carenet.accounts import kept_form

    kept_form.init_app(app)  # an expired session keeps the form (restore_form in templates)
    app.jinja_env.globals["has_endpoint"] = lambda name: name in app.view_functions  # nav
    return app


def register_extensions(app: Flask) -> None:
    import carenet.models  # noqa: F401  (every table known to metadata and Alembic)

    db.init_app(app)
    with app.app_context():
        install_connect_hooks(db.engine, app.config["SPATIALITE_LIBRARY"])
    migrate.init_app(app, db, directory=str(_migrations_dir()), render_as_batch=True)
    login_manager.init_app(app)
    csrf.init_app(app)
    from carenet import security

    security.init_app(app)  # who the caller is, route access gate, CSRF, security headers
    from carenet import validation

    validation.init_app(app)  # size, JSON depth, clean text: after the gate (docs/api.md)


def register_blueprints(app: Flask) -> None:
    """Every domain's HTML and JSON blueprints; each route carries an access marker."""
    from carenet.accounts.admin_views import blueprint as accounts_admin_views
    from carenet.accounts.api import blueprint as accounts_api
    from carenet.accounts.views import blueprint as accounts_views
    from carenet.audit.views import blueprint as audit_views
    from carenet.directory.api import blueprint as directory_api
    from carenet.directory.curation_views import blueprint as curation_views
    from carenet.directory.hsds.api import blueprint as hsds_api
    from carenet.directory.search.views import blueprint as search_views
    from carenet.directory.views import blueprint as directory_views
    from carenet.fhir.views import blueprint as fhir_views
    from carenet.openapi import blueprint as openapi
    from carenet.public import blueprint as public_views
    from carenet.referrals.admin_views import blueprint as outbox_admin_views
    from carenet.referrals.api import blueprint as referrals_api
    from carenet.referrals.patient_views import blueprint as patient_views
    from carenet.referrals.views import blueprint as referral_views
    from carenet.reports.api import blueprint as reports_api
    from carenet.reports.views import blueprint as reports_views

    for blueprint in (
        public_views,
        accounts_views,
        accounts_admin_views,
        accounts_api,
        audit_views,
        directory_views,
        directory_api,
        hsds_api,
        openapi,
        search_views,
        curation_views,
        referrals_api,
        patient_views,
        referral_views,
        outbox_admin_views,
        reports_api,
        reports_views,
        fhir_views,
    ):
        app.register_blueprint(blueprint)
    from carenet.fhir import smart, subscriptions

    app.register_blueprint(smart.blueprint)  # SMART Backend Services (docs/fhir-access.md)
    app.register_blueprint(subscriptions.blueprint)
    subscriptions.init_app()  # notifications of Task status changes through the outbox


def register_errorhandlers(app: Flask) -> None:
    from carenet.errors import register_errorhandlers as register

    register(app)


def register_commands(app: Flask) -> None:
    from carenet.cli import register_commands as register

    register(app)


def _migrations_dir() -> Any:
    from pathlib import Path

    return Path(__file__).resolve().parent.parent / "migrations"
