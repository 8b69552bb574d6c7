"""Editing a patient: the address is placed on the map again (offline ZIP data), the ZIP
code's centre when the street cannot be found; the patient list pages through all."""

from __future__ import annotations

import re
from datetime import date

from factories import PatientFactory

from carenet.db.paging import PageRequest
from carenet.extensions import db
from carenet.geo.geocoding import zip_centroid
from carenet.referrals import patients
from carenet.referrals.models import Patient


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html) or re.search(
        r'name="csrf_token" type="hidden" value="([^"]+)"', html
    )
    assert match
    return match.group(1)


def test_a_new_zip_moves_the_patient_on_the_map(net):
    coordinator = net.user("coordinator")
    changed = patients.edit_patient(
        coordinator, net.patient_without_consent, {"postal_code": "33157"}
    )
    centre = zip_centroid("33157")
    assert centre is not None and changed.warnings == []
    assert (changed.patient.latitude, changed.patient.longitude) == (
        centre.latitude,
        centre.longitude,
    )


def test_an_unknown_street_falls_back_to_the_zip_centre(net):
    coordinator = net.user("coordinator")
    changed = patients.edit_patient(
        coordinator,
        net.patient,
        {"address_1": "1 Nowhere Lane", "city": "Atlantis", "postal_code": "33130"},
    )
    centre = zip_centroid("33130")
    assert centre is not None
    assert changed.patient.latitude == centre.latitude
    assert all("street" not in w or "ZIP" in w for w in changed.warnings)


def test_a_zip_that_does_not_exist_is_a_warning_not_an_error(net):
    changed = patients.edit_patient(net.user("coordinator"), net.patient, {"postal_code": "00000"})
    assert changed.patient.latitude is None
    assert changed.warnings and "could not be placed" in changed.warnings[0]


def test_the_edit_page_saves_and_another_org_cannot_open_it(app, api_net, signed_in):
    client = signed_in("coordinator")
    path = f"/patients/{api_net.patient}/edit"
    page = client.get(path).get_data(as_text=True)
    assert 'value="Lopez"' in page and 'value="33130"' in page
    saved = client.post(
        path,
        data={"csrf_token": _csrf(page), "given_name": "Ana", "family_name": "López",
              "birth_date": "1950-03-04", "postal_code": "33157", "phone": ""},
    )  # fmt: skip
    assert saved.status_code == 302 and saved.headers["Location"].endswith(api_net.patient)
    with app.app_context():
        patient = db.session.get(Patient, api_net.patient)
        assert patient.family_name == "López" and patient.postal_code == "33157"
        assert patient.phone is None  # a blank field clears it
        assert patient.latitude is not None
    assert signed_in("coordinator_other").get(path).status_code == 404
    bad = client.post(path, data={"csrf_token": _csrf(page), "given_name": "Ana",
                                  "family_name": "L", "birth_date": "1950-03-04",
                                  "postal_code": "ABCDE"})  # fmt: skip
    assert bad.status_code == 302 and bad.headers["Location"].endswith("/edit")


def test_every_patient_is_reachable_page_by_page(net):
    care = db.session.get(Patient, net.patient).organization
    for n in range(45):
        PatientFactory(organization=care, given_name=f"P{n:02d}", family_name="Many",
                       birth_date=date(1980, 1, 1))  # fmt: skip
    db.session.commit()
    coordinator = net.user("coordinator")
    seen: set[str] = set()
    page = 1
    while True:
        found = patients.list_patients(coordinator, None, PageRequest(page, 20))
        seen |= {p.id for p in found.items}
        if not found.has_next:
            break
        page += 1
    assert len(seen) == 47 and page == 3
    assert patients.list_patients(coordinator, "many 1980-01-01").total == 45
