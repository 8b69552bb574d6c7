"""Migration 0024: ``fhir_subscription`` gains ``heartbeat_period`` and ``last_notified_at``
(existing rows: no period, last notified when created); down and up again (both backends)."""

from __future__ import annotations

from datetime import timedelta

from factories import OrganizationFactory, UserFactory
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect

from carenet.db.types import as_utc, utcnow
from carenet.extensions import db
from carenet.fhir.subscriptions import FhirSubscription
from carenet.fhir.topics import TASK_STATUS_TOPIC

NEW = {"heartbeat_period", "last_notified_at"}


def _columns() -> set[str]:
    return {c["name"] for c in inspect(db.engine).get_columns("fhir_subscription")}


def test_heartbeat_columns_down_and_up(app_ctx):
    created = utcnow() - timedelta(days=2)
    owner, organization = UserFactory(), OrganizationFactory()
    row = FhirSubscription(
        owner_id=owner.id,
        organization_id=organization.id,
        topic=TASK_STATUS_TOPIC,
        endpoint="https://ehr.example/hook",
        headers=[],
        content="id-only",
        status="active",
        events_since_start=3,
        created_at=created,
        heartbeat_period=300,
        last_notified_at=utcnow(),
    )
    db.session.add(row)
    db.session.commit()
    row_id = row.id
    assert NEW <= _columns()
    db.session.remove()
    db.engine.dispose()
    try:
        downgrade(revision="0023_import_bulk")
        db.engine.dispose()
        assert not NEW & _columns()
        kept = db.session.execute(
            db.text("SELECT events_since_start FROM fhir_subscription WHERE id = :i"),
            {"i": row_id},
        ).scalar_one()
        assert kept == 3  # the row survives the downgrade
        db.session.remove()
    finally:
        upgrade()
        db.engine.dispose()
    assert NEW <= _columns()
    again = db.session.get(FhirSubscription, row_id)
    assert again is not None and again.heartbeat_period is None  # no heartbeats after the trip
    assert again.last_notified_at is not None
    assert abs(as_utc(again.last_notified_at) - as_utc(created)) < timedelta(seconds=1)
