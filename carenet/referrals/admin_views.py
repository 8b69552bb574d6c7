"""The e-mail outbox for admins: messages by state, the dead letters, retrying one."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user

from carenet.accounts.access import permission
from carenet.accounts.forms import ConfirmForm
from carenet.referrals import notifications

blueprint = Blueprint("outbox_admin", __name__, url_prefix="/admin")


@blueprint.get("/outbox")
@permission("view", "outbox")
def outbox() -> Any:
    return render_template(
        "admin/outbox.html",
        summary=notifications.outbox_summary(),
        dead=notifications.dead_letters(),
        settings=notifications.outbox_settings(),
        confirm=ConfirmForm(),
    )


@blueprint.post("/outbox/<int:message_pk>/retry")
@permission("retry", "outbox_message")
def retry(message_pk: int) -> Any:
    message = notifications.retry_dead_letter(current_user, message_pk)
    flash(f"The message to {message.recipient} is queued again.", "info")
    return redirect(url_for("outbox_admin.outbox"))
