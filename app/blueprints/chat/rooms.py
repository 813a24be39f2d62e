"""Course chat room pages: the history, the send form and the moderators' controls.

Without JavaScript the room is a page with the history and forms that post and redirect.
With it, htmx's `ws` extension connects to `/ws/chat/<id>` (room_socket.py): the socket
relays the room's events as out-of-band fragments (fragments.py) and takes the send form's
frames (`{"body": …}`).
"""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from app.accounts.models import User
from app.blueprints.chat import bp
from app.blueprints.chat.fragments import moderator_variant, render_message, variant_for
from app.blueprints.htmx import redirect_url, render_page, wants_fragment
from app.errors import DomainError, Invalid, NotAllowed, NotFound
from app.extensions import db
from app.messaging import chat, chat_moderation, presence
from app.messaging.permissions import can_ban_from_room, can_edit_chat_message
from app.moderation.reports import report_chat_message

# --- the page ---------------------------------------------------------------------------------

def _int_arg(name: str) -> int | None:
    value = request.args.get(name, type=int)
    return value if value is not None and 0 < value < 2**31 else None


def room_context(course, **extra) -> dict:
    actor = current_user._get_current_object()
    page = chat.history(actor, course, before_id=_int_arg("before"))
    moderator = moderator_variant(actor, course)
    ctx = {"course": course, "page": page,
           "messages": [chat.message_event(message, "created", course) for message in page.messages],
           "moderator": moderator, "viewer_id": actor.id, "variant_for": variant_for,
           "online": presence.online_members(course.id),
           "online_count": presence.online_count(course.id),
           "room": chat.room_settings(course.id),
           "sanctions": chat_moderation.active_sanctions(actor, course) if moderator else [],
           "can_ban": can_ban_from_room(actor),
           "muted": chat.membership(actor, course).muted if not moderator else None,
           "editing": _int_arg("edit"), "errors": {}, "typed": {}, "live": False}
    ctx.update(extra)
    return ctx


def room_page(course, status: int = 200, block: str = "room", **extra):
    return render_page("chat/room.html", block, status=status, **room_context(course, **extra))


def _back_to_room(course, anchor: str = ""):
    return redirect_url(url_for("chat.room", course_id=course.id) + anchor)


@bp.get("/chat/courses/<int:course_id>")
@login_required
def room(course_id: int):
    try:
        course = chat.access_room(current_user, course_id)
    except NotAllowed as exc:  # say why, and link to the course page
        if wants_fragment():
            raise
        db.session.rollback()
        course = chat.get_room_course(course_id)
        return render_template("chat/room_denied.html", course=course, message=exc.message), 403
    block = "earlier" if request.args.get("before") and wants_fragment() else "room"
    return room_page(course, block=block)


@bp.post("/chat/courses/<int:course_id>/messages")
@login_required
def room_message_create(course_id: int):
    course = chat.access_room(current_user, course_id)
    body = request.form.get("body", "")
    try:
        message = chat.post_message(current_user, course, body)
        db.session.commit()
    except DomainError as exc:  # empty, too long, flooding, slow mode, muted: the text is kept
        db.session.rollback()
        response = room_page(course, exc.status, errors={"body": exc.message}, typed={"body": body})
        if getattr(exc, "retry_after", None):
            response.headers["Retry-After"] = str(exc.retry_after)
        return response
    return _back_to_room(course, f"#m-{message.id}")


def _message_in_room(course_id: int, message_id: int):
    course = chat.access_room(current_user, course_id)
    return course, chat.access_message(current_user, course, message_id)


def _message_fragment(course, message, status: int = 200, **extra):
    actor = current_user._get_current_object()
    event = chat.message_event(message, "created", course)
    html = render_message(event, variant_for(actor.id, event, moderator=moderator_variant(actor, course)),
                          live=False, course=course, **extra)
    return html, status


@bp.get("/chat/courses/<int:course_id>/messages/<int:message_id>")
@login_required
def room_message(course_id: int, message_id: int):
    """One message (htmx: "Cancel" on an inline edit); without htmx, the room at it."""
    course, message = _message_in_room(course_id, message_id)
    if not wants_fragment():
        return redirect(url_for("chat.room", course_id=course.id) + f"#m-{message.id}")
    return _message_fragment(course, message)


@bp.get("/chat/courses/<int:course_id>/messages/<int:message_id>/edit")
@login_required
def room_message_edit_form(course_id: int, message_id: int):
    course, message = _message_in_room(course_id, message_id)
    if not wants_fragment():
        return redirect(url_for("chat.room", course_id=course.id, edit=message.id) + f"#m-{message.id}")
    if not can_edit_chat_message(current_user, message):
        raise NotAllowed("edit this message")
    return _message_fragment(course, message, editing=message.id)


@bp.post("/chat/courses/<int:course_id>/messages/<int:message_id>/edit")
@login_required
def room_message_edit(course_id: int, message_id: int):
    course, message = _message_in_room(course_id, message_id)
    body = request.form.get("body", "")
    try:
        chat.edit_message(current_user, message.id, body)
        db.session.commit()
    except Invalid as exc:
        db.session.rollback()
        if wants_fragment():
            return _message_fragment(course, message, 422, editing=message.id,
                                     errors={"edit": exc.message}, typed={"edit": body})
        return room_page(course, 422, editing=message.id, errors={"edit": exc.message}, typed={"edit": body})
    if wants_fragment():
        return _message_fragment(course, message)
    return _back_to_room(course, f"#m-{message.id}")


@bp.post("/chat/courses/<int:course_id>/messages/<int:message_id>/delete")
@login_required
def room_message_delete(course_id: int, message_id: int):
    course, message = _message_in_room(course_id, message_id)
    chat.delete_message(current_user, message.id, reason=request.form.get("reason", ""))
    db.session.commit()
    if wants_fragment():
        return _message_fragment(course, message)
    flash("The message was deleted.", "success")
    return _back_to_room(course, f"#m-{message.id}")


@bp.post("/chat/courses/<int:course_id>/messages/<int:message_id>/report")
@login_required
def room_message_report(course_id: int, message_id: int):
    course, message = _message_in_room(course_id, message_id)
    try:
        report_chat_message(current_user, course, message.id, reason=request.form.get("reason", ""))
        db.session.commit()
    except Invalid as exc:
        db.session.rollback()
        return room_page(course, 422, errors={f"report-{message.id}": exc.message})
    flash("Thanks: the moderators will look at it.", "success")
    return _back_to_room(course, f"#m-{message.id}")


@bp.post("/chat/courses/<int:course_id>/sanctions")
@login_required
def room_sanction_create(course_id: int):
    course = chat.access_room(current_user, course_id)
    user_id = request.form.get("user_id", type=int)
    user = db.session.get(User, user_id) if user_id and 0 < user_id < 2**31 else None
    if user is None:
        raise NotFound("No such user.")
    kind = request.form.get("kind", "mute")
    try:
        chat_moderation.sanction_user(current_user, course, user, kind=kind,
                                      minutes=request.form.get("minutes") or None,
                                      reason=request.form.get("reason", ""))
        db.session.commit()
    except Invalid as exc:
        db.session.rollback()
        return room_page(course, 422, errors={"sanction": exc.message})
    flash(f"{user.display_name} is {'muted' if kind == 'mute' else 'banned'} in this room.", "success")
    return _back_to_room(course)


@bp.post("/chat/courses/<int:course_id>/sanctions/<int:sanction_id>/lift")
@login_required
def room_sanction_lift(course_id: int, sanction_id: int):
    course = chat.access_room(current_user, course_id)
    sanction = db.session.get(chat.ChatSanction, sanction_id)
    if sanction is None or sanction.course_id != course.id:
        raise NotFound("No such restriction in this room.")
    chat_moderation.lift_sanction(current_user, sanction.id)
    db.session.commit()
    flash("The restriction is lifted.", "success")
    return _back_to_room(course)


@bp.post("/chat/courses/<int:course_id>/slow-mode")
@login_required
def room_slow_mode(course_id: int):
    course = chat.access_room(current_user, course_id)
    try:
        room = chat_moderation.set_slow_mode(current_user, course, request.form.get("seconds", ""))
        db.session.commit()
    except Invalid as exc:
        db.session.rollback()
        return room_page(course, 422, errors={"seconds": exc.message})
    flash(f"Slow mode: {room.slow_mode_seconds} s." if room.slow_mode_seconds else "Slow mode is off.", "success")
    return _back_to_room(course)
