"""Settings: the apps with access to your account, and removing one (its tokens stop at once)."""
from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_login import current_user, login_required

from app.accounts import oauth_server
from app.accounts.scopes import ALL_SCOPES
from app.blueprints.oauth import bp
from app.extensions import db


@bp.get("/oauth/apps")
@login_required
def app_list():
    return render_template("oauth/apps.html", apps=oauth_server.authorized_apps(current_user),
                           scope_text=ALL_SCOPES)


@bp.post("/oauth/apps/<client_id>/revoke")
@login_required
def app_revoke(client_id: str):
    """Remove an app: every token it holds for you stops working (404 if it holds none)."""
    client = oauth_server.client_by_client_id(client_id)
    oauth_server.revoke_authorization(current_user, client_id)
    db.session.commit()
    flash(f"{client.name} no longer has access to your account.", "success")
    return redirect(url_for("oauth.app_list"))
