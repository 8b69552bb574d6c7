"""Public pages: the start page and a health check."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, render_template

from carenet.accounts.access import public
from carenet.directory import service as directory

blueprint = Blueprint("public", __name__)


@blueprint.get("/")
@public
def index() -> str:
    return render_template(
        "index.html", counts=directory.directory_counts(), categories=directory.category_counts()
    )


@blueprint.get("/healthz")
@public
def healthz() -> Response:
    return jsonify(status="ok", database=directory.database_ok())
