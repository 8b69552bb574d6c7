"""The HSDS 3.0 API under ``/api/hsds`` (docs/api.md, "HSDS API"): the official OpenAPI
document's read-only endpoints, for anyone, from any origin (``Access-Control-Allow-Origin:
*``). Views parse the query string and call one ``read_api`` function."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request, url_for
from flask_login import current_user

from carenet.accounts.access import public
from carenet.directory.hsds import read_api
from carenet.directory.hsds.schemas import (
    EmptyArgsSchema,
    OrganizationArgsSchema,
    OrganizationListArgsSchema,
    ServiceAtLocationListArgsSchema,
    ServiceListArgsSchema,
    TaxonomyListArgsSchema,
    TaxonomyTermListArgsSchema,
    args_of,
)
from carenet.directory.search import can_see_confidential

blueprint = Blueprint("hsds_api", __name__, url_prefix="/api/hsds")

NO_ARGS = EmptyArgsSchema()
SERVICE_LIST_ARGS = ServiceListArgsSchema()
SAL_LIST_ARGS = ServiceAtLocationListArgsSchema()
ORGANIZATION_ARGS = OrganizationArgsSchema()
ORGANIZATION_LIST_ARGS = OrganizationListArgsSchema()
TAXONOMY_LIST_ARGS = TaxonomyListArgsSchema()
TAXONOMY_TERM_LIST_ARGS = TaxonomyTermListArgsSchema()


@blueprint.after_request
def _cors(response: Response) -> Response:
    """Public, read-only data: any site may read it."""
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


def _viewer() -> read_api.Viewer:
    return read_api.Viewer(show_confidential=can_see_confidential(current_user))


@blueprint.get("/")
@public
def about() -> Any:
    args_of(NO_ARGS, request.args)
    return jsonify(
        version=read_api.HSDS_VERSION,
        openapi_url=url_for("openapi.document", _external=True),
    )


@blueprint.get("/services")
@public
def services() -> Any:
    return jsonify(read_api.list_services(args_of(SERVICE_LIST_ARGS, request.args), _viewer()))


@blueprint.get("/services/<service_id>")
@public
def service(service_id: str) -> Any:
    args_of(NO_ARGS, request.args)
    return jsonify(read_api.get_service(service_id, _viewer()))


@blueprint.get("/organizations")
@public
def organizations() -> Any:
    args = args_of(ORGANIZATION_LIST_ARGS, request.args)
    return jsonify(read_api.list_organizations(args, _viewer()))


@blueprint.get("/organizations/<organization_id>")
@public
def organization(organization_id: str) -> Any:
    args = args_of(ORGANIZATION_ARGS, request.args)
    return jsonify(read_api.get_organization(organization_id, args, _viewer()))


@blueprint.get("/service_at_locations")
@public
def service_at_locations() -> Any:
    args = args_of(SAL_LIST_ARGS, request.args)
    return jsonify(read_api.list_service_at_locations(args, _viewer()))


@blueprint.get("/service_at_locations/<service_at_location_id>")
@public
def service_at_location(service_at_location_id: str) -> Any:
    args_of(NO_ARGS, request.args)
    return jsonify(read_api.get_service_at_location(service_at_location_id, _viewer()))


@blueprint.get("/taxonomies")
@public
def taxonomies() -> Any:
    return jsonify(read_api.list_taxonomies(args_of(TAXONOMY_LIST_ARGS, request.args)))


@blueprint.get("/taxonomies/<taxonomy_id>")
@public
def taxonomy(taxonomy_id: str) -> Any:
    args_of(NO_ARGS, request.args)
    return jsonify(read_api.get_taxonomy(taxonomy_id))


@blueprint.get("/taxonomy_terms")
@public
def taxonomy_terms() -> Any:
    return jsonify(read_api.list_taxonomy_terms(args_of(TAXONOMY_TERM_LIST_ARGS, request.args)))


@blueprint.get("/taxonomy_terms/<term_id>")
@public
def taxonomy_term(term_id: str) -> Any:
    args_of(NO_ARGS, request.args)
    return jsonify(read_api.get_taxonomy_term(term_id))
