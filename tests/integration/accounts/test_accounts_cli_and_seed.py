"""``carenet users create`` and the demo users."""

from __future__ import annotations

from carenet.accounts import passwords
from carenet.accounts import service as accounts
from carenet.accounts.seed import DEMO_PASSWORD, DEMO_USERS, seed_demo_users
from carenet.extensions import db


def _create(runner, *args, password="a good long passphrase"):  # noqa: S107
    return runner.invoke(args=["users", "create", *args, "--password-stdin"], input=password + "\n")


def test_users_create_by_organization_name(app, runner, world):
    result = _create(runner, "--email", "New@Example.org", "--role", "cbo_staff", "--org", "cbo b")
    assert result.exit_code == 0, result.output
    assert "Created new@example.org: cbo_staff at CBO B" in result.output
    with app.app_context():
        user = accounts.find_user("new@example.org")
        assert user.organization_ids() == {world.cbo_b}
        assert user.password_hash.startswith("$argon2id$")


def test_users_create_names_each_problem(runner, world):
    cases = [
        (("--role", "admin", "--org", "Nowhere"), "No organization with id or name 'Nowhere'"),
        (("--role", "boss", "--org", "CBO A"), "Unknown role 'boss'"),
        (("--role", "coordinator", "--org", "CBO A"), "Role coordinator belongs to a care"),
    ]
    for args, message in cases:
        result = _create(runner, "--email", "x@example.org", *args)
        assert result.exit_code != 0 and message in result.output, result.output
    short = _create(
        runner, "--email", "x@example.org", "--role", "admin", "--org", "CBO A", password="short"
    )
    assert short.exit_code != 0 and "at least 12 characters" in short.output
    common = _create(
        runner,
        "--email",
        "x@example.org",
        "--role",
        "admin",
        "--org",
        "CBO A",
        password="Password123456!",
    )
    assert common.exit_code != 0 and "common, breached" in common.output
    taken = _create(runner, "--email", "admin@example.org", "--role", "admin", "--org", "CBO A")
    assert taken.exit_code != 0 and "exists already" in taken.output


def test_demo_users_one_per_role_idempotent(app_ctx):
    created = seed_demo_users()
    assert len(created) == 5
    assert seed_demo_users() == []
    for email, _name, role, kind in DEMO_USERS:
        user = accounts.find_user(email)
        assert user.roles == {role}
        assert user.memberships[0].organization.kind == kind
        assert passwords.verify_password(user.password_hash, DEMO_PASSWORD)
    # the seed sets it as a hash; nobody may choose the public demo password (issue 13.10)
    assert passwords.password_problems(DEMO_PASSWORD) != []
    db.session.rollback()


def test_demo_cbo_users_join_the_community_organization_with_most_social_care(app_ctx, world):
    from carenet.directory.models import Service
    from carenet.directory.service import ensure_taxonomy

    terms = ensure_taxonomy()
    pantry = db.session.get(Service, world.service_b)
    pantry.categories.append(terms["food-pantry"])
    db.session.commit()
    seed_demo_users()
    staff = accounts.find_user("cbo.staff@demo.carenet.test")
    assert staff.memberships[0].organization.name == "CBO B"


def test_demo_cbo_falls_back_to_a_demo_organization(app_ctx):
    seed_demo_users()
    staff = accounts.find_user("cbo.staff@demo.carenet.test")
    assert staff.memberships[0].organization.name == "Demo Community Pantry"
