"""The OpenAPI document, and the page that lets a person read it."""
from __future__ import annotations

from flask import jsonify, render_template, url_for

from app.blueprints.api import bp
from app.blueprints.api.openapi import openapi_document


@bp.get("/openapi.json")
def openapi_json():
    """The OpenAPI 3.1 document of every route here: public, like the catalog."""
    return jsonify(openapi_document())


@bp.get("/docs")
def docs():
    """The document as a page: Swagger UI (swagger-ui-dist, vendored like htmx) started by
    static/js/api-docs.js. It keeps the site's CSP (script-src 'self'; style-src 'self'):
    the bundle evaluates no strings and adds no <style> element, and the styles React sets on
    elements go through the CSSOM, which style-src does not govern (checked in Chromium by
    tests/e2e/test_api_docs.py, which fails on any CSP report)."""
    return render_template("api/docs.html", document_url=url_for("api.openapi_json"))
