"""CBO staff switch the capacity of their own services (shown in search, gating referrals)."""

from __future__ import annotations

from sqlalchemy import select

from carenet.accounts import policy
from carenet.accounts.actor import Actor
from carenet.accounts.policy import cbo_orgs
from carenet.audit import service as audit
from carenet.db.retry import run_in_transaction
from carenet.directory.models import CAPACITY_STATUSES, Service
from carenet.errors import InvalidInput, NotFound
from carenet.extensions import db


def set_service_capacity(actor: Actor, service_id: str, capacity_status: str) -> Service:
    """CBO staff switch their own service's capacity (capacity / waitlist / no-capacity ...)."""
    return run_in_transaction(lambda: _set_service_capacity(actor, service_id, capacity_status))


def _set_service_capacity(actor: Actor, service_id: str, capacity_status: str) -> Service:
    from carenet.directory.search.index import refresh_services

    service = db.session.get(Service, service_id)
    if service is None:
        raise NotFound("No such service.")
    policy.require("set_capacity", actor, service)
    if capacity_status not in CAPACITY_STATUSES:
        choices = ", ".join(CAPACITY_STATUSES)
        raise InvalidInput("Unknown capacity.", {"capacity_status": [f"One of {choices}."]})
    before = service.capacity_status
    service.capacity_status = capacity_status
    refresh_services([service.id])  # search shows capacity and filters on it
    audit.record(
        actor,
        "update",
        "service",
        service.id,
        {"capacity_status": [before, capacity_status]},
        organization_id=service.organization_id,
    )
    return service


def services_of_my_organizations(actor: Actor) -> list[Service]:
    """The services whose capacity the actor may switch."""
    orgs = cbo_orgs(actor)
    return list(
        db.session.scalars(
            select(Service).where(Service.organization_id.in_(orgs)).order_by(Service.name)
        )
    )
