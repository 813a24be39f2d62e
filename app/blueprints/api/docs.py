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
    """The document as a page (Swagger UI, served from our own origin under the site's CSP)."""
    return render_template("api/docs.html", document_url=url_for("api.openapi_json"))
