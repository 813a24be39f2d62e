from __future__ import annotations

from flask import abort, render_template
from flask_login import current_user

from app.blueprints.main import bp
from app.blueprints.media import send_stored
from app.catalog.queries import categories
from app.discovery.recommendations import for_user
from app.storage import get_storage


@bp.get("/")
def home():
    """Recommendations for a signed-in learner (trending for everyone else) and categories."""
    return render_template("main/home.html", picks=for_user(current_user), categories=categories())


@bp.get("/avatars/<key>")
def avatar(key: str):
    """Public avatars: stored under random names, served with their sniffed type."""
    storage = get_storage()
    if not storage.exists(key):
        abort(404)
    ext = key.rsplit(".", 1)[-1]
    mime = {"png": "image/png", "jpg": "image/jpeg", "gif": "image/gif", "webp": "image/webp"}.get(ext)
    if mime is None:
        abort(404)
    return send_stored(key, mime, filename=f"avatar.{ext}", cache="public, max-age=86400, immutable")
