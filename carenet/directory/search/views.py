"""The coordinator's search page: a form, the results, and a map of them.

Every result has a Refer action for a user who may send referrals; a search opened from
a patient's need carries ``patient_id`` and ``need_id`` (opaque ids, passed on to the
referral form, never read here: the directory knows no patients). The language filter
takes a language by name or code among those the directory offers.
"""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, current_app, render_template, request
from flask_login import current_user
from marshmallow import ValidationError

from carenet.accounts import policy
from carenet.accounts.access import public
from carenet.directory.search.details import (
    capacity_words,
    details_for,
    directory_languages,
    language_code,
)
from carenet.directory.search.results import SearchPage
from carenet.directory.search.schemas import SearchArgsSchema, args_from_query
from carenet.directory.search.service import can_see_confidential, search_services
from carenet.directory.taxonomy import CATEGORIES
from carenet.errors import InvalidInput

blueprint = Blueprint("search", __name__)

CONTEXT_KEYS = ("patient_id", "need_id")  # passed through to the Refer links
OPAQUE_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")


def referral_context(form: dict[str, Any]) -> dict[str, str]:
    """The referral context the page carries (dropped when not an id)."""
    found = {}
    for key in CONTEXT_KEYS:
        value = form.pop(key, None)
        if isinstance(value, str) and OPAQUE_ID.match(value):
            found[key] = value
    return found


def _language(form: dict[str, Any], offered: list[tuple[str, str]]) -> None:
    """Turn a language typed by name into its code; an unknown one is a 400 naming it."""
    typed = form.get("language")
    if not isinstance(typed, str):
        return
    code = language_code(typed, offered)
    if code is None:
        raise InvalidInput(
            "No service in the directory offers that language.",
            {"language": [f"No service offers “{typed[:40]}”; choose one from the list."]},
        )
    form["language"] = code


def _can_refer() -> bool:
    return bool(current_user.is_authenticated) and policy.allows(
        "send", current_user, None, "referral"
    )


@blueprint.get("/search")
@public
def search_page() -> Any:
    # A submitted HTML form sends its empty fields too; they mean "not given".
    form = {k: v for k, v in args_from_query(request.args).items() if v not in ("", [])}
    context = referral_context(form)
    offered = directory_languages()
    page: SearchPage | None = None
    errors: dict[str, Any] = {}  # field → messages (marshmallow's may nest)
    if form:
        try:
            _language(form, offered)
            params = SearchArgsSchema().load(form)
            page = search_services(params, show_confidential=can_see_confidential(current_user))
        except ValidationError as exc:
            errors = exc.messages if isinstance(exc.messages, dict) else {"": exc.messages}
        except InvalidInput as exc:
            errors = exc.errors or {"": [exc.detail]}
    details = details_for([r["service"]["id"] for r in page.contents]) if page else {}
    html = render_template(
        "directory/search.html", form=form, page=page, errors=errors, categories=CATEGORIES,
        tile_url=current_app.config.get("MAP_TILE_URL") or "", languages=offered,
        language_names=dict(offered), details=details, capacity_words=capacity_words,
        context=context, can_refer=_can_refer(),
    )  # fmt: skip
    return html, 400 if errors else 200
