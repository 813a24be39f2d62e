"""Security headers and the template context every page needs."""
from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from flask import Flask, abort, flash, redirect, request
from flask_login import current_user, login_url

from app.accounts.oauth import enabled_providers
from app.blueprints.errors import error_response
from app.blueprints.htmx import wants_fragment
from app.extensions import login_manager
from app.messaging.notifications import unread_count

CSP = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "media-src 'self'",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'self'",
    "frame-src 'self'",
    "frame-ancestors 'none'",
    "base-uri 'self'",
    "form-action 'self'",
])


def is_same_site_path(target: str) -> bool:
    r"""True for a path on this site ("/x?y"), false for anything a browser could read as
    another site: "//evil", "/\evil", a scheme, or control characters (browsers drop tabs
    and newlines, so "/<TAB>/evil" is "//evil")."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return False
    if any(ch < " " or ch in "\x7f\\" for ch in target):
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc


def unauthorized():
    """Flask-Login's answer when a page needs an account: a redirect to the log-in page that
    comes back here afterwards. An htmx request gets a 401 with `HX-Redirect` instead (a 302
    would be followed inside the XHR and the log-in page swapped into the fragment's target);
    it comes back to the page the browser shows (`HX-Current-URL`), not to the fragment."""
    if wants_fragment():
        shown = urlsplit(request.headers.get("HX-Current-URL", ""))
        target = urlunsplit(("", "", shown.path, shown.query, ""))
        if shown.netloc not in ("", request.host):
            target = ""
    else:
        target = request.full_path.rstrip("?") if request.method == "GET" else ""
    location = login_url(login_manager.login_view,
                         next_url=target if is_same_site_path(target) else None)
    flash(login_manager.login_message, login_manager.login_message_category)
    if wants_fragment():
        return error_response(401, login_manager.login_message, {"HX-Redirect": location})
    return redirect(location)


def _holds_nul(value) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_holds_nul(key) or _holds_nul(item) for key, item in value.items())
    if isinstance(value, list):
        return any(_holds_nul(item) for item in value)
    return False


def register_security(app: Flask) -> None:
    @app.before_request
    def refuse_null_characters():
        """No text we keep may hold U+0000 (PostgreSQL refuses it, file paths too): a request
        that carries one in its path, query, form fields or JSON body is malformed, so it gets a 400."""
        # The query string is looked at raw (only "%00" decodes to U+0000), so a GET does not
        # pay for parsing it twice; a form is parsed anyway by the view that reads it.
        query = request.query_string
        bad = "\x00" in request.path or b"%00" in query or b"\x00" in query
        if not bad and request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
            bad = any("\x00" in key or any("\x00" in item for item in items)
                      for key, items in request.form.lists())
        if not bad and request.is_json:  # a JSON body (the API) writes "\u0000" as an escape
            bad = _holds_nul(request.get_json(silent=True))
        if bad:
            abort(400, description="The request contains a character that is not allowed.")

    login_manager.unauthorized_handler(unauthorized)

    @app.after_request
    def security_headers(resp):
        resp.headers.setdefault("Content-Security-Policy", CSP)
        resp.headers.setdefault("X-Content-Type-Options", "nosniff")
        resp.headers.setdefault("X-Frame-Options", "DENY")
        resp.headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        resp.headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        if app.config["SESSION_COOKIE_SECURE"]:
            resp.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        if current_user and getattr(current_user, "is_authenticated", False):
            resp.headers.setdefault("Cache-Control", "private, no-store")
        return resp

    @app.context_processor
    def site_context():
        unread = 0
        if getattr(current_user, "is_authenticated", False):
            unread = unread_count(current_user)
        return {"unread_count": unread, "oauth_providers": enabled_providers(app),
                "current_path": request.path}
