from flask import Blueprint

bp = Blueprint("learn", __name__)

from app.blueprints.learn import views  # noqa: E402,F401
