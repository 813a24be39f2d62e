from __future__ import annotations

from flask import render_template
from flask_login import current_user, login_required

from app.blueprints.dashboard import bp
from app.messaging import notifications


@bp.get("/")
@login_required
def home():
    recent = notifications.list_notifications(current_user, per_page=5)
    return render_template("dashboard/home.html", recent=recent, describe=notifications.describe)
