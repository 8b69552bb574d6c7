"""Anonymous refusals on PHI routes: one audit row per address, route and minute, with a count
(an anonymous flood cannot fill the append-only audit table)."""

from __future__ import annotations

from datetime import UTC, datetime

from factories import PatientFactory
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from carenet.audit.denials import window_of
from carenet.audit.models import AuditEvent, DenialWindow
from carenet.extensions import db


def _patient(app) -> str:
    with app.app_context():
        patient = PatientFactory()
        db.session.commit()
        return patient.id


def _denied(app) -> list[AuditEvent]:
    with app.app_context():
        return list(
            db.session.scalars(
                select(AuditEvent).where(AuditEvent.action == "denied").order_by(AuditEvent.id)
            )
        )


def _windows(app) -> dict[tuple[str, str], int]:
    with app.app_context():
        rows = db.session.execute(
            select(DenialWindow.remote_addr, DenialWindow.route, func.sum(DenialWindow.count))
            .group_by(DenialWindow.remote_addr, DenialWindow.route)
        )  # fmt: skip
        return {(a, r): int(n) for a, r, n in rows}


def test_a_flood_from_one_address_writes_one_row_with_a_count(app):
    patient = _patient(app)
    flood = app.test_client()
    for _ in range(60):
        assert flood.get(f"/api/v1/patients/{patient}").status_code == 401
    rows = _denied(app)
    assert 1 <= len(rows) <= 2  # two when the flood crossed a minute's boundary
    assert {(r.remote_addr, r.object_id) for r in rows} == {("127.0.0.1", patient)}
    assert rows[0].detail["counted_in"] == "audit_denial_window"
    assert rows[0].detail["window"].endswith(":00+00:00")
    with app.app_context():
        windows = db.session.scalars(select(DenialWindow.count)).all()
    assert len(windows) == len(rows) and sum(windows) == 60


def test_each_address_and_route_has_its_own_row(app):
    patient = _patient(app)
    for address in ("192.0.2.1", "192.0.2.2"):
        client = app.test_client()
        client.environ_base["REMOTE_ADDR"] = address
        for _ in range(3):
            assert client.get(f"/api/v1/patients/{patient}").status_code == 401
            assert client.get(f"/patients/{patient}").status_code == 302
    rows = _denied(app)
    # at most one per address and route per minute (a minute boundary may add one each)
    keys = {(r.remote_addr, r.detail["route"]) for r in rows}
    assert len(keys) == 4 and len(rows) <= 8
    assert sum(_windows(app).values()) == 12


def test_signed_in_refusals_are_not_throttled(app):
    """The throttle is for anonymous callers; the existing per-request rows of signed-in
    callers are tested in test_credentials_and_disclosures (each refusal one row)."""
    patient = _patient(app)
    app.test_client().get(f"/api/v1/patients/{patient}")
    assert all(r.actor_id is None for r in _denied(app))


def test_the_window_is_the_minute():
    at = datetime(2026, 12, 2, 1, 7, 59, 999_999, tzinfo=UTC)
    assert window_of(at) == datetime(2026, 12, 2, 1, 7, tzinfo=UTC)


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    address=st.ip_addresses().map(str),
    tail=st.text(alphabet="abcdef0123456789-%./", min_size=1, max_size=40),
)
def test_fuzzed_anonymous_requests_never_fail_and_stay_bounded(app, address, tail):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    for path in (f"/api/v1/patients/{tail}", f"/api/v1/referrals/{tail}", f"/patients/{tail}"):
        assert client.get(path).status_code < 500
    # never more rows than distinct (address, route) per minute
    rows = _denied(app)
    assert len(rows) <= 2 * len({(r.remote_addr, r.detail["route"]) for r in rows})
