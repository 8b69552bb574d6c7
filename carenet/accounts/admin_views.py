"""Admin pages about people: the list of users and their memberships (read only)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from carenet.accounts import service
from carenet.accounts.access import permission
from carenet.accounts.forms import ConfirmForm
from carenet.db.paging import page_request

blueprint = Blueprint("accounts_admin", __name__, url_prefix="/admin")


@blueprint.get("/users")
@permission("list", "user")
def users() -> Any:
    found = service.users_page(page_request(request.args))
    return render_template("admin/users.html", users=found, confirm=ConfirmForm())


@blueprint.post("/users/<user_id>/deactivate")
@permission("deactivate", "user")
def deactivate(user_id: str) -> Any:
    user = service.set_active(current_user, user_id, False)
    flash(f"{user.email} is deactivated and signed out everywhere.", "info")
    return redirect(url_for("accounts_admin.users"))


@blueprint.post("/users/<user_id>/activate")
@permission("activate", "user")
def activate(user_id: str) -> Any:
    user = service.set_active(current_user, user_id, True)
    flash(f"{user.email} is active again.", "info")
    return redirect(url_for("accounts_admin.users"))
