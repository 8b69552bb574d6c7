"""Helpers shared by the referral pages: read a form through a schema, show domain errors."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import flash, redirect, request
from marshmallow import Schema, ValidationError

from carenet.errors import DomainError


def form_data(schema: Schema, lists: tuple[str, ...] = ()) -> dict[str, Any]:
    """The posted form through ``schema``; blank fields count as not given."""
    raw: dict[str, Any] = {k: v for k, v in request.form.items() if v.strip() and k != "csrf_token"}
    for name in lists:
        raw[name] = request.form.getlist(name)
    return schema.load(raw, unknown="exclude")


def on_error_back(action: Callable[[], Any], back: str) -> Any:
    """Run ``action``; on a refused change, flash why (naming fields) and go back to ``back``."""
    try:
        return action()
    except ValidationError as exc:
        messages = exc.messages if isinstance(exc.messages, dict) else {"form": exc.messages}
        flash(_describe("Please correct the form.", messages), "error")
    except DomainError as exc:
        flash(_describe(exc.detail, exc.errors or {}), "error")
    return redirect(back)


def _describe(detail: str, errors: dict[str, Any]) -> str:
    parts = [
        f"{field}: {' '.join(map(str, msgs if isinstance(msgs, list) else [msgs]))}"
        for field, msgs in errors.items()
    ]
    return detail + (" — " + "; ".join(parts) if parts else "")
