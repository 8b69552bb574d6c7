"""Admin pages about people: the list of users and their memberships (read only)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template

from carenet.accounts import service
from carenet.accounts.access import permission

blueprint = Blueprint("accounts_admin", __name__, url_prefix="/admin")


@blueprint.get("/users")
@permission("list", "user")
def users() -> Any:
    return render_template("admin/users.html", users=service.list_users())
