"""The JSON API, `/api/v1`: the second caller of every service.

Each resource module declares its routes with `operation(...)` (openapi.py): pydantic models
validate the query, body and response, and the same models make the OpenAPI 3.1 document
served at `/api/v1/openapi.json`. A request speaks for the user of its bearer token
(a personal access token or an OAuth 2.0 access token), never for a browser session, so
the API needs no CSRF token and a cookie alone gets nothing. The conventions every route
shares (errors as problem+json, rate limits per token, ETags, idempotency keys, cursors)
live in conventions.py.
"""
from flask import Blueprint

bp = Blueprint("api", __name__)

from app.blueprints.api import (  # noqa: E402
    admin,  # noqa: F401
    admin_money,  # noqa: F401
    catalog,  # noqa: F401
    certificates,  # noqa: F401
    conventions,  # noqa: F401
    discussions,  # noqa: F401
    docs,  # noqa: F401
    earnings,  # noqa: F401
    learning,  # noqa: F401
    me,  # noqa: F401
    messaging,  # noqa: F401
    money,  # noqa: F401
    quizzes,  # noqa: F401
    reviews,  # noqa: F401
    studio,  # noqa: F401
    studio_curriculum,  # noqa: F401
)
