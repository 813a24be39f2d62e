from flask import Blueprint

bp = Blueprint("certificates", __name__)

from app.blueprints.certificates import views  # noqa: E402,F401
