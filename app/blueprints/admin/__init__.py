from flask import Blueprint

bp = Blueprint("admin", __name__)

from app.blueprints.admin import views  # noqa: E402,F401
from app.blueprints.admin import review  # noqa: E402,F401
from app.blueprints.admin import categories  # noqa: E402,F401
from app.blueprints.admin import finance  # noqa: E402,F401
