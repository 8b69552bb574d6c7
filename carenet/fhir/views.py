"""The /fhir blueprint: thin handlers that parse, call one FHIR service and render.

Every answer is ``application/fhir+json``; every refusal an OperationOutcome (a problem
document from below is converted in ``after_request``). Bearer tokens authenticate as on
/api/v1 (cookie sessions still need their CSRF token on writes).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, request
from flask_login import current_user

from carenet.accounts.access import authenticated, public
from carenet.fhir import capability, reading, task_update, transaction
from carenet.fhir.bundle import searchset
from carenet.fhir.outcome import FhirError, error_response, fhir_response, from_problem
from carenet.fhir.search_params import parse_search
from carenet.fhir.searching import SEARCHES

blueprint = Blueprint("fhir", __name__, url_prefix="/fhir")

ID_PATTERN = r"[A-Za-z0-9\-\.]{1,64}"


@blueprint.errorhandler(FhirError)
def _fhir_error(exc: FhirError) -> Response:
    return error_response(exc)


@blueprint.after_request
def _as_fhir(response: Response) -> Response:
    if response.mimetype == "application/problem+json":
        return from_problem(response)
    return response


def _etag(version: int | None) -> dict[str, str]:
    return {"ETag": f'W/"{version}"'} if version is not None else {}


def _plain(read: Callable[[Any, str], dict[str, Any]]) -> Callable[[Any, str], Any]:
    return lambda actor, resource_id: (read(actor, resource_id), None)


READERS: dict[str, Callable[[Any, str], tuple[dict[str, Any], int | None]]] = {
    "Patient": _plain(reading.read_patient),
    "Consent": _plain(reading.read_consent),
    "Condition": _plain(reading.read_condition),
    "QuestionnaireResponse": _plain(reading.read_questionnaire_response),
    "Observation": _plain(reading.read_observation),
    "ServiceRequest": reading.read_service_request,
    "Task": reading.read_task,
    "Procedure": _plain(reading.read_procedure),
    "Organization": _plain(lambda actor, rid: reading.read_organization(rid)),
    "Location": _plain(reading.read_location),
    "HealthcareService": _plain(reading.read_healthcare_service),
}


def _known(resource_type: str) -> None:
    if resource_type not in capability.INTERACTIONS:
        raise FhirError(404, f"Resource type {resource_type} is not supported here.", "type")


@blueprint.get("/metadata")
@public
def metadata() -> Response:
    return fhir_response(capability.capability_statement(_base(), "0.1.0"))


def _base() -> str:
    return request.url_root.rstrip("/") + "/fhir"


@blueprint.get("/<resource_type>")
@authenticated
def search(resource_type: str) -> Response:
    _known(resource_type)
    wanted = parse_search(resource_type, request.args)
    page, included = SEARCHES[resource_type](current_user, wanted)
    args = list(request.args.items(multi=True))
    return fhir_response(searchset(_base(), resource_type, args, page, included))


@blueprint.get("/<resource_type>/<resource_id>")
@authenticated
def read(resource_type: str, resource_id: str) -> Response:
    _known(resource_type)
    if not re.fullmatch(ID_PATTERN, resource_id):
        raise FhirError(404, f"{resource_type}/{resource_id[:64]}: not a FHIR id.", "id")
    resource, version = READERS[resource_type](current_user, resource_id)
    return fhir_response(resource, headers=_etag(version))


def _body() -> Any:
    if not request.is_json:
        raise FhirError(415, "Send application/fhir+json.", "Content-Type")
    body = request.get_json(silent=True)
    if body is None:
        raise FhirError(400, "The body is not JSON.", "body")
    return body


def _created(resource: dict[str, Any], version: int | None) -> Response:
    location = f"{_base()}/{resource['resourceType']}/{resource['id']}"
    headers = {"Location": location + (f"/_history/{version}" if version else "")}
    return fhir_response(resource, 201, {**headers, **_etag(version)})


@blueprint.post("/<resource_type>")
@authenticated
def create(resource_type: str) -> Response:
    _known(resource_type)
    resource, version = transaction.create(current_user, resource_type, _body())
    return _created(resource, version)


@blueprint.post("")
@blueprint.post("/")
@authenticated
def batch() -> Response:
    """A transaction Bundle: every entry made, or none."""
    return fhir_response(transaction.transaction(current_user, _body()))


@blueprint.put("/Task/<task_id>")
@authenticated
def update_task(task_id: str) -> Response:
    resource, version = task_update.update_task(
        current_user, task_id, _body(), request.headers.get("If-Match")
    )
    return fhir_response(resource, headers=_etag(version))


@blueprint.route("", methods=["GET", "PUT", "PATCH", "DELETE"])
@blueprint.route("/", methods=["GET", "PUT", "PATCH", "DELETE"])
@authenticated
def root() -> Response:
    """The base URL takes only a transaction Bundle (POST)."""
    raise FhirError(405, "POST a transaction Bundle here, or use /fhir/metadata.", "Bundle")


@blueprint.route("/<path:rest>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
@authenticated
def unsupported(rest: str) -> Response:
    """Any other path or method under /fhir: 404 for an unknown type, else 405."""
    first = rest.split("/", 1)[0]
    if first in capability.INTERACTIONS:
        raise FhirError(405, f"{request.method} {first} is not supported here.", first)
    raise FhirError(404, "No such FHIR endpoint.", "type")
