"""The protocol endpoints: the consent page, the token and revocation endpoints, metadata.

The consent page is a page of the site (log-in required, CSRF on the form); /oauth/token and
/oauth/revoke are called by apps, not browsers, so they take no CSRF token and answer JSON
as RFC 6749 and RFC 7009 say. A request naming an unknown app or a redirect URI the app did
not register gets an error page here and is never redirected.
"""
from __future__ import annotations

from urllib.parse import urlsplit

from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749 import InvalidScopeError
from flask import current_app, jsonify, render_template, request, url_for
from flask_login import current_user, login_required

from app.accounts import oauth_server
from app.accounts.scopes import ADMIN_PREFIX, ALL_SCOPES
from app.blueprints.errors import error_response
from app.blueprints.oauth import bp
from app.blueprints.oauth.server import CLIENT_AUTH_METHODS, ascii_text, authorization
from app.errors import DomainError
from app.extensions import csrf, db, limiter


@bp.errorhandler(OAuth2Error)
def oauth_error(error: OAuth2Error):
    """An OAuth error Authlib raises outside its own handling (e.g. insecure_transport: the
    protocol refuses plain http except on the loopback address): the spec's JSON answer."""
    db.session.rollback()
    return authorization.handle_error_response(None, error)


@bp.route("/oauth/authorize", methods=["GET", "POST"])
@login_required
def authorize():
    """GET: what the app asks for, with Allow and Deny. POST (the form, CSRF-checked):
    back to the app with a code, or with error=access_denied."""
    try:
        grant = authorization.get_consent_grant(end_user=current_user)
    except OAuth2Error as error:
        return _authorization_error(error)
    client = grant.client
    try:
        scopes = oauth_server.check_requested_scopes(client, current_user, grant.request.scope)
    except DomainError as exc:
        error = InvalidScopeError(ascii_text(exc.message), redirect_uri=grant.redirect_uri,
                                  state=grant.request.payload.state)
        return authorization.handle_error_response(grant.request, error)
    if request.method == "POST":
        decision = request.form.get("decision")
        if decision not in ("allow", "deny"):
            return error_response(400, "Choose Allow or Deny.")
        response = authorization.create_authorization_response(
            grant=grant, grant_user=current_user if decision == "allow" else None)
        db.session.commit()
        return response
    return render_template("oauth/authorize.html", client=client, action=request.full_path,
                           return_to=_where(grant.redirect_uri),
                           scopes=[(name, ALL_SCOPES[name], name.startswith(ADMIN_PREFIX))
                                   for name in ALL_SCOPES if name in scopes])


def _where(uri: str) -> str:
    """Where the browser goes back to, as a person can check it: the site, or the app's scheme."""
    parts = urlsplit(uri)
    return f"{parts.scheme}://{parts.netloc}" if parts.netloc else f"{parts.scheme}:"


def _authorization_error(error: OAuth2Error):
    """Back to the app with the error when the app and its redirect URI are known (RFC 6749
    §4.1.2.1); otherwise a page here: never a redirect to a URI the app did not register."""
    if error.redirect_uri:
        return authorization.handle_error_response(None, error)
    detail = error.description or error.error
    return error_response(400, f"This sign-in link from an app is not valid ({detail}). "
                               "Nothing was shared; tell the app's makers.")


@bp.post("/oauth/token")
@csrf.exempt
@limiter.limit(lambda: current_app.config["RATELIMIT_LOGIN"], methods=["POST"])
def token():
    """Exchange a code (with its PKCE verifier) or a refresh token for tokens (RFC 6749 §5)."""
    response = authorization.create_token_response()
    db.session.commit()  # also what a refused request revoked (a code or refresh token used twice)
    return response


@bp.post("/oauth/revoke")
@csrf.exempt
@limiter.limit(lambda: current_app.config["RATELIMIT_LOGIN"], methods=["POST"])
def revoke():
    """RFC 7009: the app gives back an access or refresh token; both stop at once."""
    response = authorization.create_endpoint_response("revocation")
    db.session.commit()
    return response


@bp.get("/.well-known/oauth-authorization-server")
def metadata():
    """RFC 8414: where the endpoints are and what this server supports."""
    resp = jsonify({
        "issuer": url_for("main.home", _external=True).rstrip("/"),
        "authorization_endpoint": url_for("oauth.authorize", _external=True),
        "token_endpoint": url_for("oauth.token", _external=True),
        "revocation_endpoint": url_for("oauth.revoke", _external=True),
        "scopes_supported": list(ALL_SCOPES),
        "response_types_supported": ["code"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "token_endpoint_auth_methods_supported": CLIENT_AUTH_METHODS,
        "revocation_endpoint_auth_methods_supported": CLIENT_AUTH_METHODS,
        "code_challenge_methods_supported": ["S256"],
    })
    resp.headers["Cache-Control"] = "public, max-age=3600"
    return resp
