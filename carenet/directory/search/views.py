"""The coordinator's search page: a form, the results, and a map of them."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, render_template, request
from flask_login import current_user
from marshmallow import ValidationError

from carenet.accounts.access import public
from carenet.directory.search.results import SearchPage
from carenet.directory.search.schemas import SearchArgsSchema, args_from_query
from carenet.directory.search.service import can_see_confidential, search_services
from carenet.directory.taxonomy import CATEGORIES
from carenet.errors import InvalidInput

blueprint = Blueprint("search", __name__)


@blueprint.get("/search")
@public
def search_page() -> Any:
    # A submitted HTML form sends its empty fields too; they mean "not given".
    form = {k: v for k, v in args_from_query(request.args).items() if v not in ("", [])}
    page: SearchPage | None = None
    errors: dict[str, Any] = {}  # field → messages (marshmallow's may nest)
    if form:
        try:
            params = SearchArgsSchema().load(form)
            page = search_services(params, show_confidential=can_see_confidential(current_user))
        except ValidationError as exc:
            errors = exc.messages if isinstance(exc.messages, dict) else {"": exc.messages}
        except InvalidInput as exc:
            errors = exc.errors or {"": [exc.detail]}
    html = render_template(
        "directory/search.html", form=form, page=page, errors=errors, categories=CATEGORIES,
        tile_url=current_app.config.get("MAP_TILE_URL") or "",
    )  # fmt: skip
    return html, 400 if errors else 200
