"""What runs before any studio view does its work: the sign-in requirement and the upload size
cap (set before anything reads the body). Loading what a view edits, and checking that the
signed-in creator may edit it, is the catalog's rule (app/catalog/editing.py).
"""
from __future__ import annotations

from flask_login import login_required

from app.blueprints.limits import raise_upload_cap
from app.blueprints.studio import bp
from app.catalog.media import lesson_upload_limit, max_bytes
from app.catalog.models import Lesson
from app.extensions import db


@bp.url_value_preprocessor
def upload_limit(endpoint: str | None, values: dict | None) -> None:
    """Cap an upload's request size by the kind of file it carries, from its Content-Length.

    This must run before anything reads the body: the app's before-request hooks (the CSRF
    check, the NUL-character guard) parse the form, and a limit set later, in the view,
    would only apply after the whole upload had been received. URL value preprocessors run
    before every before-request hook, so an oversized upload gets its 413 unread."""
    limit = None
    if endpoint == "studio.cover_upload":
        limit = max_bytes("image")
    elif endpoint == "studio.lesson_media" and values:
        limit = lesson_upload_limit(db.session.get(Lesson, values.get("lesson_id")))
    if limit is not None:
        raise_upload_cap(limit)


@bp.before_request
@login_required
def signed_in_only():
    """Every studio page needs an account (any account can teach)."""

