from __future__ import annotations

from flask_login import current_user, login_required

from app.blueprints.htmx import page_arg, redirect_to, render_page, wants_fragment
from app.blueprints.notifications import bp
from app.extensions import db
from app.messaging import notifications


def _list_page(block: str = "notification_list"):
    page = notifications.list_notifications(current_user, page=page_arg())
    return render_page("notifications/list.html", block, page=page, describe=notifications.describe)


@bp.get("/")
@login_required
def notification_list():
    return _list_page()


@bp.post("/<int:notification_id>/read")
@login_required
def notification_read(notification_id: int):
    notifications.mark_read(current_user, notification_id)
    db.session.commit()
    if wants_fragment():
        return _list_page()
    return redirect_to("notifications.notification_list")


@bp.post("/read-all")
@login_required
def notification_read_all():
    notifications.mark_all_read(current_user)
    db.session.commit()
    if wants_fragment():
        return _list_page()
    return redirect_to("notifications.notification_list")
