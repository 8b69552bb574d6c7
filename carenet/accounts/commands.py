"""CLI: ``carenet users create|list``, ``carenet tokens create|list|revoke``."""

from __future__ import annotations

import sys

import click
from flask.cli import with_appcontext

from carenet.errors import DomainError
from carenet.extensions import db


def _fail(message: str) -> None:
    db.session.rollback()
    raise click.ClickException(message)


@click.group("users")
def users_group() -> None:
    """Manage user accounts."""


@users_group.command("create")
@click.option("--email", required=True, help="The user's e-mail (their sign-in name).")
@click.option(
    "--role", required=True, help="coordinator, cbo_staff, cbo_admin, program_lead, admin"
)
@click.option("--org", "org", required=True, help="Organization id or exact name.")
@click.option("--name", "display_name", default=None, help="Display name.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@with_appcontext
def create_user_command(
    email: str, role: str, org: str, display_name: str | None, password_stdin: bool
) -> None:
    """Make a user with a role in an organization (password from a prompt or stdin)."""
    from carenet.accounts import service

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        user = service.create_user(email, password, role, org, display_name=display_name)
        db.session.commit()
    except DomainError as refused:
        _fail(refused.detail)
        return
    membership = user.memberships[0]
    click.echo(f"Created {user.email}: {role} at {membership.organization.name} ({user.id}).")


@users_group.command("demo")
@with_appcontext
def demo_users_command() -> None:
    """Create the demo users (one per role; see docs/security.md). Not for production."""
    from carenet.accounts.seed import DEMO_PASSWORD, seed_demo_users

    seed_demo_users(echo=click.echo)
    click.echo(f"Demo password for all of them: {DEMO_PASSWORD}  (change it before real use)")


@users_group.command("list")
@with_appcontext
def list_users_command() -> None:
    """List users with their roles."""
    from carenet.accounts import service

    for user in service.list_users():
        roles = ", ".join(f"{m.role}@{m.organization.name}" for m in user.memberships)
        click.echo(f"{user.email}\t{'active' if user.active else 'inactive'}\t{roles}")


@click.group("tokens")
def tokens_group() -> None:
    """Manage API tokens."""


@tokens_group.command("create")
@click.option("--email", required=True, help="Owner of the token.")
@click.option("--name", default="API token", help="A name to tell tokens apart.")
@click.option(
    "--days",
    type=int,
    default=None,
    help="Lifetime in days (default CARENET_TOKEN_DEFAULT_DAYS, at most CARENET_TOKEN_MAX_DAYS).",
)
@with_appcontext
def create_token_command(email: str, name: str, days: int | None) -> None:
    """Make an API token and print it once (only its hash is kept)."""
    from carenet.accounts import service, tokens

    user = service.find_user(email)
    if user is None:
        _fail(f"No user with e-mail {email!r}.")
        return
    try:
        row, text = tokens.create_api_token(user, name, actor=user, days=days)
    except DomainError as refused:
        _fail(refused.detail)
        return
    until = f"{row.expires_at:%Y-%m-%d %H:%M} UTC"
    click.echo(f"Token {row.id} for {user.email}, until {until} (shown once):", err=True)
    click.echo(text)


@tokens_group.command("list")
@click.option("--email", required=True)
@with_appcontext
def list_tokens_command(email: str) -> None:
    """List a user's tokens (never the token text)."""
    from carenet.accounts import service, tokens

    user = service.find_user(email)
    if user is None:
        _fail(f"No user with e-mail {email!r}.")
        return
    for token in tokens.tokens_of(user):
        if token.revoked_at is not None:
            state = f"revoked {token.revoked_at:%Y-%m-%d}"
        else:
            state = f"{token.state} (expires {token.expires_at:%Y-%m-%d})"
        used = (
            f"last used {token.last_used_at:%Y-%m-%d %H:%M}" if token.last_used_at else "never used"
        )
        click.echo(f"{token.id}\t{token.prefix}…\t{token.name}\t{state}\t{used}")


@tokens_group.command("revoke")
@click.argument("token_id")
@with_appcontext
def revoke_token_command(token_id: str) -> None:
    """Revoke a token by its id (see ``tokens list``)."""
    from carenet.accounts import tokens
    from carenet.accounts.models import ApiToken

    row = db.session.get(ApiToken, token_id)
    if row is None:
        _fail(f"No token with id {token_id!r}.")
        return
    try:
        tokens.revoke_api_token(row.user, token_id)
    except DomainError as refused:
        _fail(refused.detail)
        return
    click.echo(f"Revoked token {token_id}.")
