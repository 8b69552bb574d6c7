"""Whatever a signed-in coordinator sends to the pages of their day — the worklist, the
dashboard's filters, the picker and its JSON, the send form, the patient form, the plan,
its print and the follow-up form, the search's language — is never a 500 (hypothesis)."""

from __future__ import annotations

import re
from urllib.parse import quote

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

TEXT = st.text(max_size=80)
NASTY = ["", "0", "-1", "1e999", "nan", "2026-02-30", "1950-03-04", "03/04/1950", "declined",
         "open", "Spanish", "es", "\x00", "../../etc", "%", "_"]  # fmt: skip
WORDS = st.one_of(TEXT, st.sampled_from(NASTY))


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html) or re.search(
        r'name="csrf_token" type="hidden" value="([^"]+)"', html
    )
    assert match
    return match.group(1)


def test_no_input_is_a_500(app, api_net, signed_in):
    client = signed_in("coordinator")
    token = _csrf(client.get("/patients/new").get_data(as_text=True))
    patient, service = api_net.patient, api_net.services["open"]
    gets = [
        lambda v: f"/worklist?scope={quote(v)}",
        lambda v: f"/dashboard?status={quote(v)}&mine={quote(v)}&overdue=1&page={quote(v)}",
        lambda v: f"/patients/lookup?q={quote(v)}",
        lambda v: f"/referrals/new?service_id={service}&patient_q={quote(v)}",
        lambda v: f"/referrals/new?service_id={quote(v)}&patient_id={quote(v)}",
        lambda v: f"/referrals/new?service_id={service}&patient_id={patient}&need_id={quote(v)}",
        lambda v: f"/patients/{patient}/plan/print?lang={quote(v)}",
        lambda v: f"/patients/{quote(v, safe='')}/plan",
        lambda v: f"/patients/{patient}/search?category={quote(v)}",
        lambda v: f"/search?near=33130&language={quote(v)}&patient_id={quote(v)}",
        lambda v: f"/patients?q={quote(v)}",
    ]

    @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
    @given(which=st.integers(0, len(gets) - 1), value=WORDS)
    def get(which, value):
        response = client.get(gets[which](value), headers={"Accept": "text/html"})
        assert response.status_code < 500, (gets[which](value), response.status_code)

    @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
    @given(
        fields=st.dictionaries(
            st.sampled_from(
                [
                    "given_name",
                    "family_name",
                    "birth_date",
                    "postal_code",
                    "create_anyway",
                    "service_id",
                    "email",
                    "address_1",
                ]
            ),  # fmt: skip
            WORDS,
        ),
        day=WORDS,
    )
    def post(fields, day):
        created = client.post("/patients/new", data={"csrf_token": token, **fields})
        assert created.status_code < 500
        edited = client.post(f"/patients/{patient}/edit", data={"csrf_token": token, **fields})
        assert edited.status_code < 500
        follow = client.post(
            "/referrals/not-a-referral/follow-up",
            data={"csrf_token": token, "follow_up_on": day, "next": day},
        )
        assert follow.status_code < 500

    get()
    post()
