"""One place that decides how an error is shown: problem+json for API clients, HTML for people.

Service modules raise the domain exceptions below; nothing else maps them to HTTP.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, jsonify, make_response, render_template, request
from marshmallow import ValidationError
from sqlalchemy.exc import DBAPIError
from werkzeug.exceptions import HTTPException

from carenet.db.engine import expect_writes, is_lock_error
from carenet.extensions import db


class DomainError(Exception):
    """Base of the errors a service function raises on purpose."""

    status = 400
    title = "Bad request"

    def __init__(self, detail: str, errors: dict[str, list[str]] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors


class InvalidInput(DomainError):
    status = 400
    title = "Invalid input"


class NotFound(DomainError):
    status = 404
    title = "Not found"


class NotAllowed(DomainError):
    status = 403
    title = "Forbidden"


class Conflict(DomainError):
    status = 409
    title = "Conflict"


class Busy(Conflict):
    """Other writers held the database's lock for longer than we wait: try again shortly."""

    status = 503
    title = "Service unavailable"
    retry_after_seconds = 2


def wants_json() -> bool:
    """API paths and clients that prefer JSON get problem documents."""
    if request.path.startswith(("/api/", "/fhir")):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json"


def problem(status: int, title: str, detail: str | None = None, **extra: Any) -> Response:
    """An RFC 9457 problem document."""
    body: dict[str, Any] = {"type": "about:blank", "status": status, "title": title}
    if detail:
        body["detail"] = detail
    body.update({k: v for k, v in extra.items() if v is not None})
    response = jsonify(body)
    response.status_code = status
    response.mimetype = "application/problem+json"
    return response


def _render(status: int, title: str, detail: str | None, errors: Any = None) -> Any:
    if wants_json():
        return problem(status, title, detail, errors=errors)
    return render_template("error.html", status=status, title=title, detail=detail), status


def register_errorhandlers(app: Flask) -> None:
    """Map domain, validation and HTTP errors to responses; never leak a trace."""

    @app.errorhandler(DomainError)
    def _domain(exc: DomainError) -> Any:
        rendered = _render(exc.status, exc.title, exc.detail, exc.errors)
        retry_after = getattr(exc, "retry_after_seconds", None)
        if not retry_after:
            return rendered
        response = make_response(rendered)
        response.headers["Retry-After"] = str(retry_after)
        return response

    @app.errorhandler(DBAPIError)
    def _database(exc: DBAPIError) -> Any:
        if not is_lock_error(exc):
            return _unexpected(exc)
        # A lock not had within the busy timeout (carenet.db.retry): 503, not 500. The page
        # itself must not wait for a lock again: its reads begin as readers.
        db.session.rollback()
        expect_writes(False)
        app.logger.warning("database busy, answered 503: %s", exc.orig)
        return _domain(Busy("The service is busy; try again in a moment."))

    @app.errorhandler(ValidationError)
    def _validation(exc: ValidationError) -> Any:
        messages = exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}
        fields = ", ".join(sorted(str(k) for k in messages))
        return _render(400, "Invalid input", f"Invalid value for: {fields}", messages)

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> Any:
        return _render(exc.code or 500, exc.name, exc.description)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Any:
        app.logger.exception("unhandled error")
        return _render(500, "Internal server error", "Something went wrong on our side.")
