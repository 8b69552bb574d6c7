"""The base of carenet's HTML forms: Flask-WTF forms that read only a posted form.

Flask-WTF falls back to a JSON body when a request has no form fields, building a
``MultiDict`` from it: a JSON array or a nested value then raised in the view (a 500,
found by fuzzing ``POST /account/tokens`` with ``[[]]``). The pages' forms are HTML forms —
the JSON API is ``/api/v1`` — so a JSON body is simply no form data here: the form fails
validation (CSRF token missing, required fields empty) and the page answers 400.
"""

from __future__ import annotations

from typing import Any

from flask import request
from flask_wtf import FlaskForm

SUBMIT_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})  # Flask-WTF's default


class HtmlForm(FlaskForm):
    class Meta(FlaskForm.Meta):
        def wrap_formdata(self, form: Any, formdata: Any) -> Any:
            if request.is_json and request.method in SUBMIT_METHODS:
                return request.form  # empty: a JSON body is not form data
            return super().wrap_formdata(form, formdata)
