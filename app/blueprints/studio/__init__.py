from flask import Blueprint

bp = Blueprint("studio", __name__)

from app.blueprints.studio import (
    earnings,  # noqa: E402,F401
    views,  # noqa: E402,F401
)
