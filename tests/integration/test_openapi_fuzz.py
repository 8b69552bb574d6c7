"""The OpenAPI document (/api/openapi.json): valid OpenAPI 3, covering every JSON route; and
schemathesis run over it against the app (WSGI): no 5xx for any generated request, and the
HSDS answers and problem documents conform to the document's schemas."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
import schemathesis
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, Phase, given, settings
from openapi_spec_validator import validate
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import response_schema_conformance
from seeded_world import seed

from carenet.openapi import OPERATIONS, api_rules

# Bounded so a backend's run takes well under 90 s on two shared cores.
ANONYMOUS_EXAMPLES = 400
AUTHENTICATED_EXAMPLES = 150
EXACT = ("/api/hsds", "/api/openapi.json")  # whose response schemas are exact


def test_the_document_is_valid_openapi_and_covers_every_json_route(
    client: FlaskClient, app: Flask
) -> None:
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    document = response.get_json()
    validate(document)
    assert document["openapi"].startswith("3.")
    undocumented = {r.endpoint for r in api_rules(app)} - set(OPERATIONS)
    assert not undocumented, f"add these endpoints to carenet.openapi.OPERATIONS: {undocumented}"
    paths = document["paths"]
    assert "/api/hsds/services/{service_id}" in paths
    assert paths["/api/v1/patients"]["post"]["requestBody"]["content"]["application/json"]
    assert paths["/api/v1/me"]["get"]["security"] == [{"bearer": []}, {"session": []}]
    assert paths["/api/hsds/services"]["get"]["security"] == []
    query = {p["name"] for p in paths["/api/hsds/service_at_locations"]["get"]["parameters"]}
    assert {"postcode", "proximity", "taxonomy_term_id", "modified_after", "full"} <= query


def _fuzz(schema: Any, headers: dict[str, str], examples: int, statuses: Counter[int]) -> list[str]:
    """Run ``examples`` generated requests per generation mode; the 5xx answers found."""
    server_errors: list[str] = []
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

        @settings(
            max_examples=examples,
            deadline=None,
            database=None,
            phases=[Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=schema.as_strategy(generation_mode=mode))
        def run(case: Any) -> None:
            response = case.call(headers=headers)
            statuses[response.status_code] += 1
            if response.status_code >= 500:
                server_errors.append(f"{case.method} {case.formatted_path} {case.query}")
                return
            if case.path.startswith(EXACT):
                case.validate_response(response, checks=[response_schema_conformance])

        run()
    return server_errors


@pytest.mark.parametrize("who", ["anonymous", "coordinator"])
def test_schemathesis_finds_no_server_error(app: Flask, who: str) -> None:
    world = seed(app)
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    if who == "anonymous":
        selected = schema.include(method="GET", path_regex=r"^/api/(hsds|openapi|v1/services)")
        examples = ANONYMOUS_EXAMPLES
    else:
        selected = schema.include(method="GET")
        examples = AUTHENTICATED_EXAMPLES
    statuses: Counter[int] = Counter()
    assert _fuzz(selected, world.headers[who], examples, statuses) == []
    assert sum(statuses.values()) >= examples and statuses[200] > 0, statuses
    print(who, dict(sorted(statuses.items())))  # noqa: T201 (shown with -s)
