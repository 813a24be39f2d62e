from flask import Blueprint

bp = Blueprint("creators", __name__)

from app.blueprints.creators import views  # noqa: E402,F401
