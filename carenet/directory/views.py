"""HTML pages of the directory."""

from __future__ import annotations

from flask import Blueprint, render_template

from carenet.accounts.access import public
from carenet.directory import service as directory

blueprint = Blueprint("directory", __name__)


@blueprint.get("/services/<service_id>")
@public
def service_page(service_id: str) -> str:
    return render_template("directory/service.html", service=directory.get_service(service_id))
