"""JSON API of the directory: ``/api/v1/services/search`` and ``/api/v1/services/{id}``."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request
from flask_login import current_user

from carenet.accounts.access import public
from carenet.directory import service as directory
from carenet.directory.schemas_detail import ServiceDetailSchema
from carenet.directory.search import can_see_confidential, search_services
from carenet.directory.search.schemas import SearchArgsSchema, SearchPageSchema, args_from_query

blueprint = Blueprint("directory_api", __name__, url_prefix="/api/v1")

# Built once: a schema's construction (declared fields deep-copied, nested schemas made on
# first use) costs more than the dump of a page. Neither keeps per-request state.
SEARCH_ARGS = SearchArgsSchema()
SEARCH_PAGE = SearchPageSchema()


@blueprint.get("/services/search")
@public
def search() -> Any:
    params = SEARCH_ARGS.load(args_from_query(request.args))
    page = search_services(params, show_confidential=can_see_confidential(current_user))
    return jsonify(SEARCH_PAGE.dump(page))


@blueprint.get("/services/<service_id>")
@public
def service(service_id: str) -> Any:
    found = directory.get_service(service_id)
    schema = ServiceDetailSchema(show_confidential=can_see_confidential(current_user))
    return jsonify(schema.dump(found))
