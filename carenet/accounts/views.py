"""Sign in, sign out, and the signed-in user's own account page (tokens, password)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user

from carenet.accounts import passwords, service, tokens
from carenet.accounts.access import authenticated, permission, public
from carenet.accounts.forms import ConfirmForm, LoginForm, PasswordForm, TokenForm
from carenet.accounts.landing import landing_for
from carenet.errors import DomainError
from carenet.security import SESSION_KEY, safe_local_path

blueprint = Blueprint("accounts", __name__)


@blueprint.route("/login", methods=["GET", "POST"])
@public
def login() -> Any:
    if current_user.is_authenticated:
        return redirect(url_for("accounts.account"))
    form = LoginForm(next=request.args.get("next", ""))
    if not form.validate_on_submit():
        return render_template("accounts/login.html", form=form), 400 if form.errors else 200
    try:
        user = service.authenticate(form.email.data, form.password.data, _remote_addr())
    except (service.TooManyAttempts, service.SignInRefused) as refused:
        page = render_template("accounts/login.html", form=form, error=refused.detail)
        retry = getattr(refused, "retry_after_seconds", None)
        return page, refused.status, ({"Retry-After": str(retry)} if retry else {})
    session.clear()  # a fresh session: nothing from before sign-in carries over
    key = service.start_session(user, _remote_addr())
    session[SESSION_KEY] = key
    session.permanent = True
    login_user(user)
    return redirect(safe_local_path(form.next.data) or url_for(landing_for(user)))


@blueprint.post("/logout")
@authenticated
def logout() -> Any:
    service.end_session(current_user, session.get(SESSION_KEY))
    logout_user()
    session.clear()
    flash("You are signed out.", "info")
    return redirect(url_for("public.index"))


@blueprint.get("/account")
@authenticated
def account() -> Any:
    return _account_page()


@blueprint.post("/account/tokens")
@permission("create", "api_token")
def create_token() -> Any:
    form = TokenForm()
    if not form.validate():
        return _account_page(token_form=form), 400
    try:
        row, text = tokens.create_api_token(current_user, form.name.data or "", days=form.days.data)
    except DomainError as refused:
        errors = refused.errors or {}
        form.days.errors = list(errors.get("expires_in_days", []))
        form.name.errors = list(errors.get("name", [])) or ([] if errors else [refused.detail])
        return _account_page(token_form=form), 400
    return _account_page(new_token=text, new_token_row=row)


@blueprint.post("/account/tokens/<token_id>/revoke")
@permission("revoke", "api_token")
def revoke_token(token_id: str) -> Any:
    ConfirmForm()  # the CSRF check already ran for this POST
    tokens.revoke_api_token(current_user, token_id)
    flash("The token is revoked.", "info")
    return redirect(url_for("accounts.account"))


@blueprint.post("/account/password")
@authenticated
def change_password() -> Any:
    form = PasswordForm()
    if not form.validate():
        return _account_page(password_form=form), 400
    try:  # throttled and audited like a sign-in (docs/security.md "Throttling")
        service.reauthenticate(current_user, form.current_password.data, _remote_addr())
    except service.TooManyAttempts as refused:
        form.current_password.errors = [refused.detail]
        retry = {"Retry-After": str(refused.retry_after_seconds)}
        return _account_page(password_form=form), refused.status, retry
    except service.SignInRefused as refused:
        form.current_password.errors = [refused.detail]
        return _account_page(password_form=form), 400
    try:
        service.change_password(current_user, form.new_password.data, session.get(SESSION_KEY))
    except DomainError as refused:
        form.new_password.errors = list((refused.errors or {}).get("password", [refused.detail]))
        return _account_page(password_form=form), 400
    flash("Your password is changed; your other sessions are signed out.", "info")
    return redirect(url_for("accounts.account"))


def _account_page(**forms: Any) -> str:
    return render_template(
        "accounts/account.html",
        user=current_user,
        tokens=tokens.tokens_of(current_user),
        token_form=forms.pop("token_form", None) or TokenForm(formdata=None),
        password_form=forms.pop("password_form", None) or PasswordForm(formdata=None),
        confirm_form=ConfirmForm(formdata=None),
        min_length=passwords.MIN_LENGTH,
        token_days=tokens.lifetime_limits(),
        **forms,
    )


def _remote_addr() -> str:
    return request.remote_addr or "unknown"
