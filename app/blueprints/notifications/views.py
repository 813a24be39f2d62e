from __future__ import annotations

from flask import flash, request
from flask_login import current_user, login_required

from app.blueprints.htmx import page_arg, redirect_to, render_page, wants_fragment
from app.blueprints.notifications import bp
from app.errors import Invalid
from app.extensions import db
from app.messaging import notifications
from app.messaging import preferences as prefs


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


def _preferences_page(chosen: set[str], *, status: int = 200, error: str | None = None,
                      saved: bool = False):
    return render_page("notifications/preferences.html", "preferences", status=status,
                       kinds=notifications.KINDS, chosen=chosen, error=error, saved=saved)


@bp.route("/preferences", methods=["GET", "POST"])
@login_required
def preferences():
    if request.method == "GET":
        return _preferences_page(prefs.digest_kinds(current_user))
    chosen = request.form.getlist("digest")
    try:
        prefs.set_digest_kinds(current_user, chosen)
    except Invalid as exc:
        db.session.rollback()
        return _preferences_page({kind for kind in chosen if kind in notifications.KINDS},
                                 status=exc.status, error=exc.message)
    db.session.commit()
    if wants_fragment():
        return _preferences_page(prefs.digest_kinds(current_user), saved=True)
    flash("Notification settings saved.", "success")
    return redirect_to("notifications.preferences")


from app.blueprints.notifications import stream  # noqa: E402,F401  (registers the stream route)
