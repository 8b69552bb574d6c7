"""Reading a FHIR JSON body: values at element paths, with a 400/422 OperationOutcome naming
the element when one is missing or of the wrong shape, and marshmallow errors (carenet's own
schemas, the same rules as /api/v1) translated to element paths."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError

from carenet.fhir.outcome import FhirError


def resource_of(body: Any, resource_type: str) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise FhirError(400, "The body must be a FHIR resource (a JSON object).", resource_type)
    if body.get("resourceType") != resource_type:
        raise FhirError(
            400, f"The body must be a {resource_type}.", f"{resource_type}.resourceType"
        )
    return body


def obj(value: Any, path: str, required: bool = False) -> dict[str, Any]:
    if value is None and not required:
        return {}
    if not isinstance(value, dict):
        raise FhirError(422 if value is None else 400, f"{path} must be an object.", path)
    return value


def items(value: Any, path: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise FhirError(400, f"{path} must be an array.", path)
    return value


def text(value: Any, path: str, required: bool = False) -> str | None:
    if value is None:
        if required:
            raise FhirError(422, f"{path} is required.", path)
        return None
    if not isinstance(value, str):
        raise FhirError(400, f"{path} must be a string.", path)
    return value


def codes(concept: Any, path: str) -> list[tuple[str | None, str]]:
    """(system, code) of each coding of a CodeableConcept."""
    found = []
    for i, coding in enumerate(items(obj(concept, path).get("coding"), f"{path}.coding")):
        coding = obj(coding, f"{path}.coding[{i}]")
        code = text(coding.get("code"), f"{path}.coding[{i}].code")
        if code is not None:
            found.append((text(coding.get("system"), f"{path}.coding[{i}].system"), code))
    return found


CODING_ELEMENTS = ("system", "version", "code", "display")


def _known(value: dict[str, Any], known: tuple[str, ...], path: str) -> None:
    for key in value:
        if key not in known:
            raise FhirError(400, f"{path}: unknown element {key!r}.", f"{path}.{key}")


def _filled(value: Any, path: str) -> str | None:
    found = text(value, path)
    if found is not None and not found.strip():
        raise FhirError(400, f"{path} must not be empty (leave it out instead).", path)
    return found


def concept(value: Any, path: str) -> dict[str, Any] | None:
    """A CodeableConcept kept as sent, after checking it is one: ``coding`` (system,
    version, code, display) and ``text``, strings that are not empty; anything else is a
    400 naming the element, so what is stored is always a valid FHIR value to send back."""
    found = obj(value, path)
    _known(found, ("coding", "text"), path)
    kept: dict[str, Any] = {}
    coding = []
    for i, each in enumerate(items(found.get("coding"), f"{path}.coding")):
        where = f"{path}.coding[{i}]"
        each = obj(each, where, required=True)
        _known(each, CODING_ELEMENTS, where)
        clean = {k: _filled(each.get(k), f"{where}.{k}") for k in CODING_ELEMENTS}
        clean = {k: v for k, v in clean.items() if v is not None}
        if not clean:
            raise FhirError(400, f"{where} is empty.", where)
        coding.append(clean)
    if coding:
        kept["coding"] = coding
    label = _filled(found.get("text"), f"{path}.text")
    if label is not None:
        kept["text"] = label
    return kept or None


def reference(
    value: Any, path: str, types: tuple[str, ...], required: bool = False
) -> tuple[str, str] | None:
    """A Reference ``{"reference": "Type/id"}`` → (type, id); relative references only (or
    absolute ones ending in ``Type/id``); a ``urn:uuid`` left unresolved is a 422."""
    found = obj(value, path, required)
    target = text(found.get("reference"), f"{path}.reference", required)
    if target is None:
        return None
    if target.startswith("urn:"):
        raise FhirError(422, f"{path}: {target} names no entry of this transaction.", path)
    parts = target.rstrip("/").split("/")
    if len(parts) < 2 or parts[-2] not in types or not parts[-1]:
        raise FhirError(422, f"{path} must refer to {' or '.join(types)}.", path)
    return parts[-2], parts[-1]


def load(schema: Schema, data: dict[str, Any], paths: dict[str, str], fallback: str) -> Any:
    """``schema.load(data)``; its errors as a 400 naming the FHIR elements (``paths``)."""
    try:
        return schema.load(data)
    except ValidationError as exc:
        messages = exc.messages if isinstance(exc.messages, dict) else {"_": exc.messages}
        names = sorted({paths.get(str(name), fallback) for name in messages})
        detail = "; ".join(
            f"{paths.get(str(name), fallback)}: {' '.join(str(m) for m in _flat(msgs))}"
            for name, msgs in messages.items()
        )
        raise FhirError(400, f"Invalid value: {detail}", names) from exc


def _flat(messages: Any) -> list[Any]:
    if isinstance(messages, dict):
        return [m for value in messages.values() for m in _flat(value)]
    if isinstance(messages, list):
        return [m for value in messages for m in _flat(value)]
    return [messages]
