"""The send form, from anywhere: a service chosen (a search result, a service page, a
patient's need) and a patient chosen — given, or picked by name or birth date among the
coordinator's organization's patients (``patients.list_patients``: policy-checked and
audited), or created. An open referral of the same patient to the same service is shown
with a link before a second one is sent.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from typing import Any

from flask import url_for

from carenet.accounts.actor import Actor
from carenet.db.paging import PageRequest
from carenet.directory.models import Service
from carenet.errors import InvalidInput, NotFound
from carenet.extensions import db
from carenet.referrals import patients
from carenet.referrals.dashboard import open_referral_for
from carenet.referrals.models import Need, Patient, Referral

PICKER_SIZE = 10  # patients a picker search shows
MAX_QUERY = 100
OPAQUE_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")


@dataclass
class ReferralForm:
    service: Service
    patient: Patient | None = None
    need: Need | None = None
    query: str = ""
    matches: list[Patient] = field(default_factory=list)
    searched: bool = False
    existing: Referral | None = None  # an open referral of this patient to this service
    idempotency_key: str = field(default_factory=lambda: str(uuid.uuid4()))


def _service(service_id: str) -> Service:
    chosen = db.session.get(Service, service_id) if OPAQUE_ID.match(service_id) else None
    if chosen is None:
        raise NotFound("No such service.", {"service_id": ["No such service."]})
    return chosen


def search_query(args: Any) -> str:
    """The picker's search text, bounded; too long is a 400 naming it."""
    text = (args.get("patient_q") or args.get("q") or "").strip()
    if len(text) > MAX_QUERY:
        raise InvalidInput("The search is too long.", {"patient_q": [f"At most {MAX_QUERY}."]})
    return text


def pick(actor: Actor, query: str, size: int = PICKER_SIZE) -> list[Patient]:
    """The actor's organizations' patients matching a name and/or birth date (audited)."""
    if not query:
        return []
    return list(patients.list_patients(actor, query, PageRequest(1, size)).items)


def form_for(actor: Actor, args: Any) -> ReferralForm:
    """What the send form shows for a query string (service_id, patient_id, need_id,
    patient_q)."""
    form = ReferralForm(_service(str(args.get("service_id") or "")))
    patient_id = str(args.get("patient_id") or "")
    if not patient_id:
        form.query = search_query(args)
        form.searched = bool(form.query)
        form.matches = pick(actor, form.query)
        return form
    form.patient = patients.get_patient(actor, patient_id)
    need_id = args.get("need_id")
    form.need = next((n for n in form.patient.needs if n.id == need_id), None)
    form.existing = open_referral_for(actor, form.patient.id, form.service.id)
    return form


def lookup_rows(found: list[Patient]) -> list[dict[str, str]]:
    """The picker's JSON rows: id, name, birth date — nothing else of the patient."""
    return [{"id": p.id, "name": p.name, "birth_date": p.birth_date.isoformat()} for p in found]


def form_url(form: Any) -> str:
    """The send form's address from a posted form: back to it, as it was."""
    args: dict[str, Any] = {
        key: str(form.get(key))
        for key in ("service_id", "patient_id", "need_id")
        if form.get(key) and OPAQUE_ID.match(str(form.get(key)))
    }
    return url_for("referrals.new_referral", **args)
