"""Minimum necessary: each role reaches only its own organization's objects, by link or by id."""

from __future__ import annotations

from carenet.directory.models import Service
from carenet.extensions import db


def _signed_in(app, sign_in, email):
    client = app.test_client()
    assert sign_in(client, email).status_code == 302
    return client


def test_cbo_admin_lists_only_their_own_services(app, world, sign_in):
    client = _signed_in(app, sign_in, world.emails["cbo_admin"])
    page = client.get("/curation/").get_data(as_text=True)
    assert "Pantry A" in page and "Pantry B" not in page
    stale = client.get("/curation/stale").get_data(as_text=True)
    assert "Pantry A" in stale and "Pantry B" not in stale
    # asking for the other organization by filter changes nothing
    filtered = client.get(f"/curation/?organization={world.cbo_b}").get_data(as_text=True)
    assert "Pantry B" not in filtered


def test_cbo_admin_cannot_open_or_change_another_organizations_service_by_id(
    app, world, sign_in, csrf_token
):
    client = _signed_in(app, sign_in, world.emails["cbo_admin"])
    assert client.get(f"/curation/services/{world.service_b}").status_code == 403
    token = csrf_token(client, f"/curation/services/{world.service_a}")
    edit = client.post(
        f"/curation/services/{world.service_b}",
        data={"capacity_status": "no-capacity", "hours": "", "phones": "", "csrf_token": token},
    )
    verify = client.post(f"/curation/services/{world.service_b}/verify", data={"csrf_token": token})
    assert edit.status_code == 403 and verify.status_code == 403
    with app.app_context():
        other = db.session.get(Service, world.service_b)
        assert other.capacity_status == "capacity" and other.last_verified_at is None


def test_unknown_ids_are_not_found(app, world, sign_in):
    client = _signed_in(app, sign_in, world.emails["admin"])
    assert client.get("/curation/services/no-such-service").status_code == 404


def test_roles_without_curation_rights_are_refused(app, world, sign_in):
    for role in ("coordinator", "cbo_staff", "program_lead"):
        client = _signed_in(app, sign_in, world.emails[role])
        for path in ("/curation/", "/curation/stale", f"/curation/services/{world.service_a}"):
            assert client.get(path).status_code == 403, (role, path)
        for path in ("/admin/audit", "/admin/users"):
            assert client.get(path).status_code == 403, (role, path)


def test_admin_curates_every_organization(app, world, sign_in):
    client = _signed_in(app, sign_in, world.emails["admin"])
    page = client.get("/curation/").get_data(as_text=True)
    assert "Pantry A" in page and "Pantry B" in page
    assert client.get(f"/curation/services/{world.service_b}").status_code == 200


def test_anonymous_sees_the_public_directory_only(app, world):
    client = app.test_client()
    assert client.get("/").status_code == 200
    assert client.get(f"/services/{world.service_a}").status_code == 200
    for path in ("/account", "/curation/", "/admin/audit", "/admin/users"):
        response = client.get(path)
        assert response.status_code == 302 and "/login" in response.headers["Location"], path
    assert client.get("/api/v1/me").status_code == 401


def test_error_pages_do_not_confirm_ids_or_leak_internals(app, world, sign_in):
    client = _signed_in(app, sign_in, world.emails["cbo_admin"])
    body = client.get(f"/curation/services/{world.service_b}").get_data(as_text=True)
    assert "Pantry B" not in body and "Traceback" not in body
