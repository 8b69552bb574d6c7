"""Whatever a client sends to create or update, /fhir answers with a resource or a 4xx
OperationOutcome — never a 500 — and a refused body writes nothing (hypothesis)."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from integration.fhir.conftest import parse
from integration.fhir.test_fhir_write import CONSENT, PATIENT, service_request, task

from carenet.extensions import db
from carenet.referrals.models import Referral
from carenet.referrals.service import ReferralRequest, send_referral

SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**40), max_value=2**40),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=40),
    st.sampled_from(["", "urn:uuid:x", "Patient/x", "#p1", "2026-13-45", "requested", "Task/"]),
)
JSON = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)


def mutated(base: dict[str, Any]) -> st.SearchStrategy[Any]:
    """``base`` with keys replaced, removed or added, or something else entirely."""
    keys = st.sampled_from(sorted(base) + ["extension", "contained", "output", "meta", "id"])
    changes = st.dictionaries(keys, JSON, max_size=4)
    dropped = st.lists(st.sampled_from(sorted(base)), max_size=3)
    return st.one_of(
        st.builds(
            lambda change, drop: {
                **{k: v for k, v in base.items() if k not in drop},
                **change,
                "resourceType": base["resourceType"],
            },
            changes,
            dropped,
        ),
        JSON,
    )


def _answered(response: Any) -> None:
    assert response.status_code < 500, response.get_data(as_text=True)
    body = response.get_json(force=True, silent=True)
    assert isinstance(body, dict), response.get_data(as_text=True)
    parse(body)


def test_no_body_makes_a_500(app, fnet, auth):
    client = app.test_client()
    ehr, cbo = auth["coordinator"], auth["staff_a"]
    patient = f"Patient/{fnet.patient}"
    with app.app_context():
        referral = send_referral(
            fnet.user("coordinator"),
            ReferralRequest(fnet.patient, fnet.services["open"], category="food-insecurity"),
        ).referral.id
    current = client.get(f"/fhir/Task/{referral}", headers=cbo).get_json(force=True)
    bodies = {
        "Patient": mutated(PATIENT),
        "Consent": mutated({**CONSENT, "patient": {"reference": patient}}),
        "ServiceRequest": mutated(service_request(patient)),
        "Task": mutated(task("ServiceRequest/x", f"Organization/{fnet.orgs['cbo_a']}", patient)),
    }
    fuzz = settings(
        max_examples=100, deadline=None, suppress_health_check=list(HealthCheck), database=None
    )

    @fuzz
    @given(st.sampled_from(sorted(bodies)).flatmap(lambda k: st.tuples(st.just(k), bodies[k])))
    def create(made: tuple[str, Any]) -> None:
        kind, body = made
        _answered(client.post(f"/fhir/{kind}", json=body, headers=ehr))

    create()

    @fuzz
    @given(mutated(current), st.sampled_from([None, 'W/"1"', 'W/"x"', "*", '"9999999999"']))
    def update(body: Any, if_match: str | None) -> None:
        headers = {**cbo, **({"If-Match": if_match} if if_match else {})}
        _answered(client.put(f"/fhir/Task/{referral}", json=body, headers=headers))

    update()

    @fuzz
    @given(st.lists(mutated(PATIENT), max_size=3), JSON)
    def bundle(resources: list[Any], junk: Any) -> None:
        entries = [
            {
                "fullUrl": f"urn:uuid:{i}",
                "resource": r,
                "request": {"method": "POST", "url": "Patient"},
            }
            for i, r in enumerate(resources)
        ] + [junk]
        _answered(
            client.post(
                "/fhir",
                json={"resourceType": "Bundle", "type": "transaction", "entry": entries},
                headers=ehr,
            )
        )

    bundle()
    with app.app_context():  # the fuzzed Tasks pointed at no ServiceRequest: nothing sent
        assert db.session.scalar(db.select(db.func.count()).select_from(Referral)) == 1
