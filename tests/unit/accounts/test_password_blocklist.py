"""The product's name and the public demo password are refused as passwords (issue 13.10)."""

from __future__ import annotations

import pytest

from carenet.accounts import passwords
from carenet.accounts.seed import DEMO_PASSWORD

MESSAGE = "Do not use the name of this service or the demo password."


@pytest.mark.parametrize(
    "password",
    [
        DEMO_PASSWORD,
        "carenet-demo-2026",
        "CareNet-Demo-2026!",
        "carenet demo 2026",
        "carenet-demo-2027",
        "carenetcarenet",
        "CARENETCARENET",
        "Carenet2026!!",
        "carenet123456",
        "C4r3n3tC4r3n3t",
        "carenet password1",
        "carenet-admin-2024",
        "!!carenet!!carenet!!",
    ],
)
def test_the_product_name_and_the_demo_password_are_refused(password):
    assert passwords.password_problems(password, "someone@example.org") == [MESSAGE]


@pytest.mark.parametrize(
    "password",
    ["carenet is where I coordinate rides", "a long test passphrase", "tangerine-otter-fjord"],
)
def test_a_passphrase_that_merely_mentions_the_name_is_fine(password):
    assert passwords.password_problems(password, "someone@example.org") == []


def test_the_common_list_still_applies():
    assert passwords.password_problems("Password123456!") == [
        "This password is on the lists of common, breached passwords."
    ]
