from flask import Blueprint

bp = Blueprint("admin", __name__)

from app.blueprints.admin import (
    analytics,  # noqa: E402,F401
    categories,  # noqa: E402,F401
    finance,  # noqa: E402,F401
    moderation,  # noqa: E402,F401
    review,  # noqa: E402,F401
    views,  # noqa: E402,F401
)
