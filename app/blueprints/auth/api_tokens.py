"""The settings page of personal access tokens (/auth/settings/tokens): make one and see
its secret once, list them, revoke one. The rules are app/accounts/api_tokens.py.

The secret is only ever in the body of the POST that made it (201, `Cache-Control:
no-store`): never in a redirect's URL, nor in a flash message, which lives in the signed
(readable) session cookie."""
from __future__ import annotations

from flask import flash, redirect, url_for
from flask_login import current_user, login_required
from wtforms.fields.choices import SelectChoice

from app.accounts import api_tokens
from app.accounts.scopes import ALL_SCOPES, grantable_scopes
from app.blueprints.auth import bp
from app.blueprints.auth.forms import ApiTokenForm, EmptyForm
from app.blueprints.forms import attach_error
from app.blueprints.htmx import client_ip, render_page, wants_fragment
from app.errors import DomainError
from app.extensions import db


def _token_form(**kwargs) -> ApiTokenForm:
    form = ApiTokenForm(**kwargs)
    form.scopes.choices = [SelectChoice(scope) for scope in grantable_scopes(current_user)]
    return form


def _tokens_page(status: int = 200, *, form: ApiTokenForm | None = None, **ctx):
    return render_page("auth/api_tokens.html", "tokens", status=status,
                       form=form or _token_form(formdata=None), revoke_form=EmptyForm(formdata=None),
                       tokens=api_tokens.list_tokens(current_user), scope_descriptions=ALL_SCOPES, **ctx)


@bp.get("/settings/tokens")
@login_required
def api_token_list():
    return _tokens_page()


@bp.post("/settings/tokens")
@login_required
def api_token_create():
    """Make a token and show its secret in this response, once."""
    form = _token_form()
    if form.validate_on_submit():
        try:
            token, secret = api_tokens.create_token(
                current_user, name=form.name.data, scopes=form.scopes.data,
                expires_in_days=form.expires_in_days.data, ip=client_ip())
            db.session.commit()
        except DomainError as exc:
            db.session.rollback()
            attach_error(form, exc)
        else:
            resp = _tokens_page(201, new_token_name=token.name, secret=secret)
            resp.headers["Cache-Control"] = "no-store"
            return resp
    return _tokens_page(422, form=form)


@bp.post("/settings/tokens/<int:token_id>/revoke")
@login_required
def api_token_revoke(token_id: int):
    """Revoke one of your tokens (another user's is not found)."""
    if not EmptyForm().validate_on_submit():
        return _tokens_page(400)
    token = api_tokens.revoke_token(current_user, token_id, ip=client_ip())
    db.session.commit()
    message = f"The token “{token.name}” is revoked: it no longer works."
    if wants_fragment():
        return _tokens_page(message=message)
    flash(message, "success")
    return redirect(url_for("auth.api_token_list") + "#token-list-h")
