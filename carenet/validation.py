"""Input rules every request meets before a view sees it, and the marshmallow fields that
carry the rules shared by every schema (docs/api.md, "Limits").

Checked once per request (``init_app`` installs ``check_request``), after the access gate:

- the body is at most ``MAX_CONTENT_LENGTH`` bytes (Flask answers 413);
- a JSON body (``application/json`` or ``+json``) parses, is nested at most
  ``MAX_JSON_DEPTH`` deep and holds finite numbers only;
- every string of the query, a form, a JSON body (keys too), the path parameters and the
  headers is valid Unicode (no lone surrogate) without NUL.

Each refusal is ``InvalidInput`` naming the parameter or field (``body`` for the JSON body
as a whole), so errors.py shows it as a 400 problem or the error page.

The fields (``Date``, ``AwareDateTime``, ``check_year``) keep dates and date-times within
the years ``MIN_YEAR``..``MAX_YEAR``, so that adding a day or converting between time
zones can never overflow; ``PastDate`` (birth dates) also refuses a day after today.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

from flask import Flask, request
from marshmallow import fields

from carenet.errors import InvalidInput

DEFAULT_MAX_CONTENT_LENGTH = 1024 * 1024  # bytes; CARENET_MAX_CONTENT_LENGTH overrides
MAX_JSON_DEPTH = 32
MIN_YEAR, MAX_YEAR = 1900, 2100
YEAR_MESSAGE = f"Must be within the years {MIN_YEAR} to {MAX_YEAR}."
LATEST_OFFSET = timedelta(hours=14)  # the time zone furthest ahead of UTC
TEXT_MESSAGE = "Not valid text: a NUL character or an unpaired surrogate."


def init_app(app: Flask) -> None:
    """Set the body size limit (unless configured) and check every request's input."""
    app.config.setdefault("MAX_CONTENT_LENGTH", DEFAULT_MAX_CONTENT_LENGTH)
    app.before_request(check_request)


def check_request() -> None:
    """Raise InvalidInput for the first bad path parameter, query parameter, form field or
    JSON body of the current request."""
    _check_pairs((request.view_args or {}).items())
    _check_pairs(request.headers.items())  # e.g. Idempotency-Key
    _check_pairs(request.args.items(multi=True))
    if request.is_json:
        _check_json(request.get_data(cache=True))
    elif request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        _check_pairs(request.form.items(multi=True))


def is_clean_text(text: str) -> bool:
    """Valid Unicode (encodable as UTF-8: no lone surrogate) without NUL."""
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _shown(name: str) -> str:
    """A name safe to echo back in an error (bad characters escaped)."""
    return name.encode("utf-8", "backslashreplace").decode("utf-8").replace("\x00", "\\x00")


def _check_pairs(pairs: Iterable[tuple[str, Any]]) -> None:
    for key, value in pairs:
        if not is_clean_text(key) or (isinstance(value, str) and not is_clean_text(value)):
            name = _shown(key)
            raise InvalidInput(f"Invalid value for: {name}", {name: [TEXT_MESSAGE]})


def _body_error(message: str) -> InvalidInput:
    return InvalidInput(f"Invalid request body: {message}", {"body": [message]})


def _check_json(raw: bytes) -> None:
    if not raw.strip():
        return  # no body: the schema says what is missing
    try:
        document = json.loads(raw)
    except RecursionError as exc:
        raise _body_error(f"Nested more than {MAX_JSON_DEPTH} levels deep.") from exc
    except ValueError as exc:  # includes UnicodeDecodeError and over-long integers
        raise _body_error("Not valid JSON.") from exc
    for path, depth, value in _walk(document):
        if depth > MAX_JSON_DEPTH and isinstance(value, dict | list):
            raise _body_error(f"Nested more than {MAX_JSON_DEPTH} levels deep.")
        problem = _value_problem(value)
        if problem:
            name = path or "body"
            raise InvalidInput(f"Invalid value for: {name}", {name: [problem]})


def _value_problem(value: Any) -> str | None:
    if isinstance(value, str) and not is_clean_text(value):
        return TEXT_MESSAGE
    if isinstance(value, float) and not math.isfinite(value):
        return "Not a finite number."
    return None


def _walk(document: Any) -> Iterator[tuple[str, int, Any]]:
    """(dotted path, depth, value) of every value and key, without recursion; the document
    is at depth 1, an object's keys at the object's depth."""
    stack: list[tuple[str, int, Any]] = [("", 1, document)]
    while stack:
        path, depth, value = stack.pop()
        yield path, depth, value
        if isinstance(value, dict):
            for key, item in value.items():
                child = f"{path}.{_shown(key)}" if path else _shown(key)
                yield child, depth, key
                stack.append((child, depth + 1, item))
        elif isinstance(value, list):
            stack.extend((f"{path}[{i}]", depth + 1, item) for i, item in enumerate(value))


# --- marshmallow fields ----------------------------------------------------------------


def check_year(value: date) -> bool:
    """Whether a date or date-time lies within MIN_YEAR..MAX_YEAR (its own calendar)."""
    return MIN_YEAR <= value.year <= MAX_YEAR


class Date(fields.Date):
    """An ISO 8601 date within the years MIN_YEAR..MAX_YEAR."""

    default_error_messages = {"range": YEAR_MESSAGE}

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> date:
        found = super()._deserialize(value, attr, data, **kwargs)
        if not check_year(found):
            raise self.make_error("range")
        return found


class PastDate(Date):
    """An ISO 8601 date from MIN_YEAR-01-01 to today (e.g. a birth date). Today is the
    latest date anywhere on Earth (UTC+14), so no time zone's today is refused."""

    default_error_messages = {"past": f"Must be from {MIN_YEAR}-01-01 to today."}

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> date:
        found = super()._deserialize(value, attr, data, **kwargs)
        if found > (datetime.now(UTC) + LATEST_OFFSET).date():
            raise self.make_error("past")
        return found


class AwareDateTime(fields.AwareDateTime):
    """An ISO 8601 date-time within the years MIN_YEAR..MAX_YEAR (checked before any time zone
    conversion), naive values read in ``default_timezone``."""

    default_error_messages = {"range": YEAR_MESSAGE}

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> datetime:
        if isinstance(value, str) and len(value) > 64:
            raise self.make_error("invalid", input=value[:64], obj_type=self.OBJ_TYPE)
        found = super()._deserialize(value, attr, data, **kwargs)
        if not check_year(found):
            raise self.make_error("range")
        return found
