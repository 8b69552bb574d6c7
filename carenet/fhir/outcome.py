"""Errors as OperationOutcome: ``FhirError`` (raised by the FHIR services), and the
conversion of carenet's problem documents (a domain error raised below them) into an
OperationOutcome whose ``issue.expression`` names the FHIR element."""

from __future__ import annotations

import json
from typing import Any

from flask import Response

from carenet.errors import DomainError
from carenet.fhir.codes import FHIR_JSON

ISSUE_CODES = {
    400: "invalid",
    401: "login",
    403: "forbidden",
    404: "not-found",
    405: "not-supported",
    409: "conflict",
    412: "conflict",
    413: "too-costly",
    415: "not-supported",
    422: "processing",
    503: "transient",
}


class FhirError(DomainError):
    """A refusal of a FHIR request: ``status`` and the elements (``expression``) at fault."""

    def __init__(
        self,
        status: int,
        detail: str,
        expression: str | list[str] | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.title = "FHIR request refused"
        if isinstance(expression, str):
            expression = [expression]
        self.expression = list(expression or [])
        self.code = code or ISSUE_CODES.get(status, "processing")


def operation_outcome(
    detail: str, status: int, expression: list[str] | None = None, code: str | None = None
) -> dict[str, Any]:
    issue: dict[str, Any] = {
        "severity": "error" if status < 500 else "fatal",
        "code": code or ISSUE_CODES.get(status, "processing"),
        "diagnostics": detail,
    }
    if expression:
        issue["expression"] = expression
    return {"resourceType": "OperationOutcome", "issue": [issue]}


def fhir_response(
    body: dict[str, Any], status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    response = Response(json.dumps(body, separators=(",", ":")), status=status)
    response.headers["Content-Type"] = f"{FHIR_JSON}; charset=utf-8"
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def error_response(exc: FhirError) -> Response:
    return fhir_response(
        operation_outcome(exc.detail, exc.status, exc.expression, exc.code), exc.status
    )


def from_domain(
    exc: DomainError, resource_type: str, fields: dict[str, str] | None = None
) -> FhirError:
    """A domain error of a carenet service as a FhirError: the fields it names become FHIR
    element paths (``fields``: carenet field → element; otherwise ``<Type>``)."""
    if isinstance(exc, FhirError):
        return exc
    names = list((exc.errors or {}).keys())
    expression = [(fields or {}).get(name, resource_type) for name in names] or None
    messages = "; ".join(f"{m}" for msgs in (exc.errors or {}).values() for m in msgs)
    detail = f"{exc.detail} {messages}".strip() if messages else exc.detail
    status = 422 if exc.status in (400, 409) and exc.errors else exc.status
    return FhirError(status, detail, sorted(set(expression)) if expression else None)


def from_problem(response: Response) -> Response:
    """A problem+json response (raised below the FHIR layer) as an OperationOutcome."""
    try:
        problem = json.loads(response.get_data(as_text=True))
    except ValueError:
        problem = {}
    status = response.status_code
    detail = str(problem.get("detail") or problem.get("title") or "Request refused.")
    errors = problem.get("errors") if isinstance(problem.get("errors"), dict) else {}
    expression = sorted(str(name) for name in errors) or None
    converted = fhir_response(operation_outcome(detail, status, expression), status)
    for name in ("WWW-Authenticate", "Retry-After"):
        if name in response.headers:
            converted.headers[name] = response.headers[name]
    return converted
