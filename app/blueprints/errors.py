"""The one place errors become responses: domain errors, HTTP errors, CSRF failures.

Every status keeps the site layout; an HTMX request gets the `_error.html` fragment,
retargeted into the page's alert region; `/api/` gets RFC 9457 problem details
(`application/problem+json`), `/webhooks/` plain JSON.
"""
from __future__ import annotations

import json
import logging

from flask import Flask, current_app, jsonify, make_response, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from app.blueprints.htmx import wants_fragment
from app.blueprints.limits import too_large_message
from app.errors import DomainError
from app.extensions import db

log = logging.getLogger(__name__)

TITLES = {400: "Bad request", 401: "Please log in", 403: "Not allowed", 404: "Page not found",
          405: "Method not allowed", 409: "Conflict", 413: "Too large", 422: "Invalid input",
          429: "Too many requests", 500: "Something went wrong", 503: "Unavailable"}


def error_response(status: int, message: str, headers: dict | None = None, *,
                   field_errors: list[dict] | None = None):
    title = TITLES.get(status, "Error")
    if request.path.startswith("/api/"):
        # RFC 9457 problem details; `errors` names each invalid field of a 422.
        body = {"type": "about:blank", "title": title, "status": status, "detail": message}
        if field_errors:
            body["errors"] = field_errors
        resp = current_app.response_class(json.dumps(body), status, mimetype="application/problem+json")
    elif request.path.startswith(("/webhooks/", "/oauth/token", "/oauth/revoke")):
        resp = jsonify(error={"status": status, "title": title, "message": message})
        resp.status_code = status
    elif wants_fragment():
        resp = make_response(render_template("_error.html", status=status, title=title,
                                             message=message), status)
        resp.headers["HX-Retarget"] = "#alerts"
        resp.headers["HX-Reswap"] = "innerHTML"
    else:
        resp = make_response(render_template("errors/error.html", status=status, title=title,
                                             message=message), status)
    for key, value in (headers or {}).items():
        resp.headers[key] = value
    return resp


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def domain_error(exc: DomainError):
        db.session.rollback()  # nothing is saved half-way
        headers = dict(getattr(exc, "headers", None) or {})
        retry_after = getattr(exc, "retry_after", None)
        if retry_after:
            headers["Retry-After"] = str(retry_after)
        return error_response(exc.status, exc.message, headers,
                              field_errors=getattr(exc, "errors", None))

    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError):
        return error_response(400, "Your form expired or came from another site. "
                                   "Reload the page and try again.")

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        if exc.code is None or exc.code < 400:
            return exc
        messages = {
            404: "We could not find that page.",
            405: "That address does not accept this kind of request.",
            429: "You are doing that too often. Wait a little and try again.",
        }
        if exc.code == 413:
            messages[413] = too_large_message()
        message = messages.get(exc.code) or exc.description or TITLES.get(exc.code, "Error")
        headers = {}
        if exc.code == 405 and exc.valid_methods:
            headers["Allow"] = ", ".join(exc.valid_methods)
        if exc.code == 429 and getattr(exc, "retry_after", None):
            headers["Retry-After"] = str(exc.retry_after)
        return error_response(exc.code, message, headers)

    @app.errorhandler(InternalServerError)
    def server_error(exc):
        db.session.rollback()
        log.error("unhandled error on %s %s", request.method, request.path,
                  exc_info=getattr(exc, "original_exception", None))
        return error_response(500, "We hit a problem on our side and have logged it. "
                                   "Please try again.")
