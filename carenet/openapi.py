"""``GET /api/openapi.json``: the OpenAPI 3.0 document of every JSON route, generated from
the app's routes and the marshmallow schemas the handlers load and dump (apispec).

The routes come from ``app.url_map`` (everything under ``/api/``); ``OPERATIONS`` says, per
endpoint, which schemas its query string, body and response use. Who may call a route
comes from its access marker: public routes need nothing, the rest a bearer token (or the
session cookie). Errors are ``application/problem+json``. The HSDS 3.0 endpoints are
described with the official paging envelope; their objects are the official compiled
schemas (``carenet/directory/hsds/schema/``, linked from each description), of which the
document repeats the required fields.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Blueprint, Flask, current_app, jsonify
from werkzeug.routing import Rule

from carenet.accounts.access import marker_of, public
from carenet.accounts.schemas import ApiTokenIn, ApiTokenSchema, MeSchema, NewApiTokenSchema
from carenet.directory.hsds import schemas as hsds
from carenet.directory.schemas_detail import ServiceDetailSchema
from carenet.directory.search.schemas import SearchArgsSchema, SearchPageSchema
from carenet.referrals import schemas as referrals
from carenet.reports.schemas import ReportArgs, ReportTableOut

blueprint = Blueprint("openapi", __name__, url_prefix="/api")

OFFICIAL = "https://raw.githubusercontent.com/openreferral/specification/3.0/schema"
JSON = "application/json"
PROBLEM = "application/problem+json"
OBJECT: dict[str, Any] = {"type": "object"}


@dataclass(frozen=True)
class Operation:
    """What one endpoint reads and answers."""

    summary: str
    query: Any = None  # a marshmallow schema class for the query string
    body: Any = None  # a marshmallow schema class for the JSON body
    response: Any = None  # a schema class, a ref name or a JSON schema; None: an object
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)  # request header → description


def _hsds(name: str, required: list[str], url: str) -> dict[str, Any]:
    return {
        "type": "object",
        "required": required,
        "properties": {k: {"type": "string"} for k in required},
        "description": f"An HSDS 3.0 {name} object: the official schema {url}",
    }


def _page_of(item: Any) -> dict[str, Any]:
    return {"allOf": [{"$ref": "#/components/schemas/Page"}, {"type": "object", "properties": {
        "contents": {"type": "array", "items": item}}, "required": ["contents"]}]}  # fmt: skip


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


HSDS_SCHEMAS = {
    "HsdsService": _hsds("service", ["id", "name", "status"], f"{OFFICIAL}/compiled/service.json"),
    "HsdsServiceList": _hsds(
        "service (list)", ["id", "name", "status"], f"{OFFICIAL}/compiled/service_list.json"
    ),
    "HsdsOrganization": _hsds(
        "organization", ["id", "name", "description"], f"{OFFICIAL}/compiled/organization.json"
    ),
    "HsdsOrganizationList": _hsds(
        "organization (list)",
        ["id", "name", "description"],
        f"{OFFICIAL}/compiled/organization_list.json",
    ),
    "HsdsServiceAtLocation": _hsds(
        "service_at_location", ["id"], f"{OFFICIAL}/compiled/service_at_location.json"
    ),
    "HsdsServiceAtLocationList": _hsds(
        "service_at_location (list)", ["id"], f"{OFFICIAL}/compiled/service_at_location_list.json"
    ),
    "HsdsTaxonomy": _hsds("taxonomy", ["id", "name", "description"], f"{OFFICIAL}/taxonomy.json"),
    "HsdsTaxonomyTerm": _hsds(
        "taxonomy_term", ["id", "name", "description"], f"{OFFICIAL}/taxonomy_term.json"
    ),
}

PAGE = {
    "type": "object",
    "description": "The HSDS 3.0 paging envelope; total_items counts every match.",
    "required": [
        "total_items",
        "total_pages",
        "page_number",
        "size",
        "first_page",
        "last_page",
        "empty",
    ],  # fmt: skip
    "properties": {
        "total_items": {"type": "integer", "minimum": 0},
        "total_pages": {"type": "integer", "minimum": 0},
        "page_number": {"type": "integer", "minimum": 1},
        "size": {"type": "integer", "minimum": 0},
        "first_page": {"type": "boolean"},
        "last_page": {"type": "boolean"},
        "empty": {"type": "boolean"},
    },
}

PROBLEM_SCHEMA = {
    "type": "object",
    "description": "RFC 9457 problem details; errors names each bad field or parameter.",
    "required": ["type", "status", "title"],
    "properties": {
        "type": {"type": "string"},
        "status": {"type": "integer"},
        "title": {"type": "string"},
        "detail": {"type": "string"},
        "errors": {
            "type": "object",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
        },
    },
}

ABOUT = {
    "type": "object",
    "required": ["version", "openapi_url"],
    "properties": {
        "version": {"type": "string"},
        "openapi_url": {"type": "string", "format": "uri"},
    },
}

ERRORS = {
    400: "Invalid input; `errors` names each bad field or parameter.",
    401: "Not signed in.",
    403: "Signed in, but your role may not.",
    404: "No such record, or one you may not learn exists.",
    409: "Conflict: a stale version, a move the workflow forbids, no consent or capacity.",
}

OPERATIONS: dict[str, Operation] = {
    "openapi.document": Operation("This OpenAPI document.", response=OBJECT),
    "accounts_api.me": Operation("The signed-in user.", response=MeSchema),
    "accounts_api.create_token": Operation(
        "Create an API token for yourself (from a signed-in session; shown once).",
        body=ApiTokenIn,
        response=NewApiTokenSchema,
        status=201,
    ),
    "accounts_api.revoke_token": Operation("Revoke an API token.", response=ApiTokenSchema),
    "directory_api.search": Operation(
        "Search services near a place.", query=SearchArgsSchema, response=SearchPageSchema
    ),
    "directory_api.service": Operation("One service in detail.", response=ServiceDetailSchema),
    "referrals_api.create_patient": Operation(
        "Create a patient.", body=referrals.PatientIn, response=referrals.PatientOut, status=201
    ),
    "referrals_api.get_patient": Operation("One patient.", response=referrals.PatientOut),
    "referrals_api.record_consent": Operation(
        "Record consent.", body=referrals.ConsentIn, response=referrals.ConsentOut, status=201
    ),
    "referrals_api.revoke_consent": Operation(
        "Revoke consent.", body=referrals.RevokeIn, response=referrals.ConsentOut
    ),
    "referrals_api.record_screening": Operation(
        "Record a screening (AHC HRSN answers).", body=referrals.ScreeningIn, status=201
    ),
    "referrals_api.send_referral": Operation(
        "Send a referral.",
        body=referrals.ReferralIn,
        status=201,
        headers={"Idempotency-Key": "Replays the first referral sent with this key."},
    ),
    "referrals_api.list_referrals": Operation(
        "A page of referrals.", query=referrals.ReferralListIn, response=_page_of(OBJECT)
    ),
    "referrals_api.get_referral": Operation("One referral with its notes."),
    "referrals_api.referral_events": Operation(
        "A referral's history.",
        response={
            "type": "object",
            "properties": {"contents": {"type": "array", "items": _ref("EventOut")}},
        },  # fmt: skip
    ),
    "referrals_api.transition": Operation("Move a referral.", body=referrals.TransitionIn),
    "referrals_api.add_note": Operation(
        "Add a note.", body=referrals.NoteIn, response=referrals.NoteOut, status=201
    ),
    "referrals_api.set_capacity": Operation("Set a service's capacity.", body=referrals.CapacityIn),
    "reports_api.report": Operation(
        "A report (`{name}.csv` for CSV).", query=ReportArgs, response=ReportTableOut
    ),
    "hsds_api.about": Operation("This API and its HSDS version.", response=ABOUT),
    "hsds_api.services": Operation(
        "A page of services.",
        query=hsds.ServiceListArgsSchema,
        response=_page_of(_ref("HsdsServiceList")),
    ),
    "hsds_api.service": Operation("A fully nested service.", response=_ref("HsdsService")),
    "hsds_api.organizations": Operation(
        "A page of organizations.",
        query=hsds.OrganizationListArgsSchema,
        response=_page_of(_ref("HsdsOrganizationList")),
    ),
    "hsds_api.organization": Operation(
        "A fully nested organization.",
        query=hsds.OrganizationArgsSchema,
        response=_ref("HsdsOrganization"),
    ),
    "hsds_api.service_at_locations": Operation(
        "A page of service_at_locations.",
        query=hsds.ServiceAtLocationListArgsSchema,
        response=_page_of(_ref("HsdsServiceAtLocationList")),
    ),
    "hsds_api.service_at_location": Operation(
        "A fully nested service_at_location.", response=_ref("HsdsServiceAtLocation")
    ),
    "hsds_api.taxonomies": Operation(
        "A page of taxonomies.",
        query=hsds.TaxonomyListArgsSchema,
        response=_page_of(_ref("HsdsTaxonomy")),
    ),
    "hsds_api.taxonomy": Operation("One taxonomy.", response=_ref("HsdsTaxonomy")),
    "hsds_api.taxonomy_terms": Operation(
        "A page of taxonomy terms.",
        query=hsds.TaxonomyTermListArgsSchema,
        response=_page_of(_ref("HsdsTaxonomyTerm")),
    ),
    "hsds_api.taxonomy_term": Operation("One taxonomy term.", response=_ref("HsdsTaxonomyTerm")),
}


def api_rules(app: Flask) -> list[Rule]:
    """The JSON routes: every rule under /api/, in path order."""
    rules = [r for r in app.url_map.iter_rules() if r.rule.startswith("/api/")]
    return sorted(rules, key=lambda r: (r.rule, r.endpoint))


def _path(rule: Rule) -> str:
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)


def _content(schema: Any, media: str = JSON) -> dict[str, Any]:
    return {media: {"schema": schema if schema is not None else OBJECT}}


def _operation(rule: Rule, method: str, op: Operation, is_public: bool) -> dict[str, Any]:
    parameters: list[dict[str, Any]] = [
        {"in": "path", "name": name, "required": True, "schema": {"type": "string"}}
        for name in sorted(rule.arguments)
    ]
    parameters += [
        {
            "in": "header",
            "name": name,
            "required": False,
            "schema": {"type": "string"},
            "description": text,
        }
        for name, text in op.headers.items()  # fmt: skip
    ]
    if op.query is not None:
        parameters.append({"in": "query", "schema": op.query})
    responses: dict[str, Any] = {
        str(op.status): {"description": op.summary, "content": _content(op.response)}
    }
    statuses = [400] if op.query or op.body or rule.arguments else []
    statuses += [] if is_public else [401, 403]
    statuses += [404] if rule.arguments else []
    statuses += [409] if method == "post" else []
    for status in statuses:
        responses[str(status)] = {"$ref": f"#/components/responses/Problem{status}"}
    operation: dict[str, Any] = {
        "operationId": rule.endpoint.replace(".", "_"),
        "summary": op.summary,
        "tags": [rule.endpoint.split(".")[0]],
        "parameters": parameters,
        "responses": responses,
        "security": [] if is_public else [{"bearer": []}, {"session": []}],
    }
    if op.body is not None:
        operation["requestBody"] = {"required": True, "content": _content(op.body)}
    return operation


def build_document(app: Flask) -> dict[str, Any]:
    """The OpenAPI document of ``app``'s JSON routes."""
    spec = APISpec(
        title="carenet API",
        version="1",
        openapi_version="3.0.3",
        plugins=[MarshmallowPlugin()],
        info={"description": "carenet's JSON API: /api/v1 and the HSDS 3.0 API at /api/hsds."},
    )
    spec.components.security_scheme(
        "bearer", {"type": "http", "scheme": "bearer", "description": "An API token."}
    )
    spec.components.security_scheme(
        "session", {"type": "apiKey", "in": "cookie", "name": "session"}
    )
    spec.components.schema("Page", PAGE)
    spec.components.schema("Problem", PROBLEM_SCHEMA)
    spec.components.schema("EventOut", schema=referrals.EventOut)
    for name, schema in HSDS_SCHEMAS.items():
        spec.components.schema(name, schema)
    for status, text in ERRORS.items():
        spec.components.response(
            f"Problem{status}", {"description": text, "content": _content(_ref("Problem"), PROBLEM)}
        )
    paths: dict[str, dict[str, Any]] = {}
    for rule in api_rules(app):
        op = OPERATIONS.get(rule.endpoint)
        if op is None:
            continue  # tests/integration/test_openapi.py fails on an undocumented route
        is_public = (marker_of(app.view_functions[rule.endpoint]) or ("",))[0] == "public"
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            paths.setdefault(_path(rule), {})[method.lower()] = _operation(
                rule, method.lower(), op, is_public
            )
    for path, operations in paths.items():
        spec.path(path=path, operations=operations)
    return spec.to_dict()


@blueprint.get("/openapi.json")
@public
def document() -> Any:
    """The OpenAPI document, built once per application."""
    cached = current_app.extensions.get("carenet_openapi")
    if cached is None:
        cached = current_app.extensions["carenet_openapi"] = build_document(current_app)
    response = jsonify(cached)
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response
