from __future__ import annotations

from flask import render_template
from flask_login import current_user, login_required

from app.blueprints.dashboard import bp
from app.discovery.recommendations import for_user
from app.learning.dashboard import my_learning, my_teaching
from app.messaging import notifications


@bp.get("/")
@login_required
def home():
    recent = notifications.list_notifications(current_user, per_page=5)
    return render_template("dashboard/home.html", learning=my_learning(current_user),
                           teaching=my_teaching(current_user), recent=recent,
                           picks=for_user(current_user, limit=3),
                           describe=notifications.describe)
