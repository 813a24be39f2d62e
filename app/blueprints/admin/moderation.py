"""The moderation queue (permission `moderate`): reported content with its context and
one decision form per item. Without JavaScript the form posts and redirects; with htmx the
decided item is swapped for its outcome."""
from __future__ import annotations

from flask import flash, make_response, render_template, request
from flask_login import current_user

from app.blueprints.admin import bp
from app.blueprints.htmx import client_ip, page_arg, redirect_to, render_page, wants_fragment
from app.errors import Invalid
from app.extensions import db
from app.messaging.text import message_html
from app.moderation import decisions, queue
from app.moderation.reports import open_target_count


@bp.context_processor
def _moderation_helpers():
    # A function, so only the pages that show the count run its query.
    return {"open_report_count": open_target_count, "action_labels": decisions.ACTION_LABELS,
            "actions_for": decisions.actions_for, "minutes_max": decisions.MINUTES_MAX,
            "message_html": message_html}


def _fragment(template: str, status: int = 200, **ctx):
    resp = make_response(render_template(template, **ctx), status)
    resp.vary.add("HX-Request")
    return resp


@bp.get("/moderation")
def moderation():
    page = queue.moderation_queue(current_user, page=page_arg())
    return render_page("admin/moderation.html", "queue", page=page, errors={}, typed={})


@bp.post("/moderation/<target_type>/<int:target_id>")
def moderation_resolve(target_type: str, target_id: int):
    typed = {key: request.form.get(key, "")[:5000] for key in ("action", "reason", "minutes")}
    try:
        decision = decisions.resolve(current_user, target_type, target_id, action=typed["action"],
                                     reason=typed["reason"], minutes=typed["minutes"],
                                     ip=client_ip())
        db.session.commit()
    except Invalid as exc:
        db.session.rollback()
        errors = {(target_type, target_id): {exc.field or "form": exc.message}}
        if wants_fragment():
            item = queue.queue_item(current_user, target_type, target_id)
            return _fragment("admin/_report_item.html", 422, item=item, errors=errors,
                             typed=typed, page_num=page_arg())
        page = queue.moderation_queue(current_user, page=page_arg())
        return render_page("admin/moderation.html", "queue", status=422, page=page,
                           errors=errors, typed=typed)
    if wants_fragment():
        return _fragment("admin/_report_done.html", decision=decision)
    flash(f"Decided ({decision.label}): {decision.outcome}. The reporters were told.", "success")
    return redirect_to("admin.moderation", page=page_arg())
