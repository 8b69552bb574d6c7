"""HTML forms of the accounts pages (Flask-WTF: every one carries a CSRF token)."""

from __future__ import annotations

from wtforms import EmailField, HiddenField, IntegerField, PasswordField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from carenet.html_forms import HtmlForm


class LoginForm(HtmlForm):
    email = EmailField("E-mail", validators=[DataRequired(), Length(max=255)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=256)])
    next = HiddenField()


class ConfirmForm(HtmlForm):
    """A button that changes something (sign out, revoke): only the CSRF token."""


class TokenForm(HtmlForm):
    name = StringField("Token name", validators=[Length(max=128)])
    # empty: TOKEN_DEFAULT_DAYS; the maximum (TOKEN_MAX_DAYS) is checked by the service
    days = IntegerField("Expires in (days)", validators=[Optional(), NumberRange(min=1)])


class PasswordForm(HtmlForm):
    current_password = PasswordField("Current password", validators=[DataRequired()])
    new_password = PasswordField("New password", validators=[DataRequired(), Length(max=256)])
