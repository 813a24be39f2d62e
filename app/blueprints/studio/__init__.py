from flask import Blueprint

bp = Blueprint("studio", __name__)

from app.blueprints.studio import views  # noqa: E402,F401
from app.blueprints.studio import earnings  # noqa: E402,F401
