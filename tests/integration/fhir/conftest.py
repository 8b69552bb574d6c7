"""The referral network of the referral tests, with a bearer token per user, for /fhir."""

from __future__ import annotations

from typing import Any

import pytest
from fhir.resources.R4B import get_fhir_model_class
from flask import Flask
from integration.referrals.conftest import USERS, Net, build_net

from carenet.accounts.models import User
from carenet.extensions import db

FHIR = "application/fhir+json"

__all__ = ["USERS", "Net", "parse"]


def parse(body: dict[str, Any]) -> Any:
    """The resource parsed by fhir.resources (R4B): raises on any error."""
    return get_fhir_model_class(body["resourceType"]).model_validate(body)


@pytest.fixture
def fnet(app: Flask) -> Net:
    with app.app_context():
        return build_net()


@pytest.fixture
def auth(app: Flask, fnet: Net) -> dict[str, dict[str, str]]:
    """Headers per user name: a bearer token and the FHIR media types."""
    from carenet.accounts import service as accounts

    headers = {}
    with app.app_context():
        for name, user_id in fnet.users.items():
            user = db.session.get(User, user_id)
            _, token = accounts.create_api_token(user, "fhir tests")
            headers[name] = {
                "Authorization": f"Bearer {token}",
                "Accept": FHIR,
                "Content-Type": FHIR,
            }
        db.session.commit()
    return headers
