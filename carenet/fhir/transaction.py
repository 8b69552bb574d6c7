"""Create one resource, or a ``transaction`` Bundle of them in one database transaction:
entries are made Patient → Consent → ServiceRequest → Task, each ``urn:uuid`` reference to
an earlier entry's ``fullUrl`` pointed at what it became; any refusal writes nothing."""

from __future__ import annotations

import copy
from typing import Any

from carenet.accounts.actor import Actor
from carenet.db.retry import run_in_transaction
from carenet.fhir.creating import MAKERS, Created, ensure_coordinator, rendered
from carenet.fhir.fhir_input import items, obj, resource_of, text
from carenet.fhir.outcome import FhirError

ORDER = ("Patient", "Consent", "ServiceRequest", "Task")
MAX_ENTRIES = 100


def create(actor: Actor, resource_type: str, body: Any) -> tuple[dict[str, Any], int | None]:
    if resource_type not in MAKERS:
        raise FhirError(405, f"{resource_type} is not created here.", resource_type)
    ensure_coordinator(actor)
    resource = resource_of(body, resource_type)
    created = run_in_transaction(lambda: MAKERS[resource_type](actor, resource))
    return rendered(actor, created)


def _entries(bundle: dict[str, Any]) -> list[tuple[int, str | None, str, dict[str, Any]]]:
    """(index, fullUrl, type, resource) of each entry, in the order they are made."""
    if bundle.get("type") != "transaction":
        raise FhirError(400, "Only transaction Bundles are processed.", "Bundle.type")
    entries = items(bundle.get("entry"), "Bundle.entry")
    if not entries or len(entries) > MAX_ENTRIES:
        raise FhirError(400, f"A transaction has 1 to {MAX_ENTRIES} entries.", "Bundle.entry")
    found = []
    for i, entry in enumerate(entries):
        path = f"Bundle.entry[{i}]"
        entry = obj(entry, path, required=True)
        request = obj(entry.get("request"), f"{path}.request", required=True)
        resource = obj(entry.get("resource"), f"{path}.resource", required=True)
        kind = resource.get("resourceType")
        url = text(request.get("url"), f"{path}.request.url", required=True)
        if request.get("method") != "POST" or kind not in MAKERS or url != kind:
            raise FhirError(
                422,
                f"{path}: only POST of {', '.join(ORDER)} (request.url = the type).",
                f"{path}.request",
            )
        found.append((i, text(entry.get("fullUrl"), f"{path}.fullUrl"), kind, resource))
    return sorted(found, key=lambda e: (ORDER.index(e[2]), e[0]))


def _resolved(value: Any, made: dict[str, str]) -> Any:
    """A copy of ``value`` with every ``reference`` to a made entry's fullUrl replaced."""
    if isinstance(value, dict):
        return {
            k: (made.get(v, v) if k == "reference" and isinstance(v, str) else _resolved(v, made))
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_resolved(v, made) for v in value]
    return value


def _at_entry(exc: FhirError, index: int, kind: str) -> FhirError:
    paths = [
        f"Bundle.entry[{index}].resource{p[len(kind) :]}" if p.startswith(kind) else p
        for p in exc.expression
    ]
    found = FhirError(exc.status, f"Bundle.entry[{index}]: {exc.detail}", paths, exc.code)
    return found


def transaction(actor: Actor, body: Any) -> dict[str, Any]:
    ensure_coordinator(actor)
    bundle = resource_of(body, "Bundle")
    entries = _entries(bundle)

    def work() -> dict[int, Created]:
        made: dict[str, str] = {}
        created: dict[int, Created] = {}
        for index, full_url, kind, resource in entries:
            try:
                result = MAKERS[kind](actor, _resolved(copy.deepcopy(resource), made))
            except FhirError as exc:
                raise _at_entry(exc, index, kind) from exc
            created[index] = result
            if full_url:
                made[full_url] = f"{kind}/{result.id}"
        return created

    created = run_in_transaction(work)
    response_entries = []
    for index in sorted(created):
        resource, version = rendered(actor, created[index])
        location = f"{resource['resourceType']}/{resource['id']}"
        answer: dict[str, Any] = {"status": "201 Created", "location": location}
        if version is not None:
            answer["etag"] = f'W/"{version}"'
            answer["location"] = f"{location}/_history/{version}"
        response_entries.append({"resource": resource, "response": answer})
    return {"resourceType": "Bundle", "type": "transaction-response", "entry": response_entries}
