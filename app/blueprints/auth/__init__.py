from flask import Blueprint

bp = Blueprint("auth", __name__)

from app.blueprints.auth import api_tokens, views  # noqa: E402,F401
