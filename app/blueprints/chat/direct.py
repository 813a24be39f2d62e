"""Direct messages: inbox, conversations, blocks, and the live stream."""
from __future__ import annotations

from flask import current_app, flash, get_template_attribute, redirect, request, url_for
from flask_login import current_user, login_required
from jinja2_fragments.flask import render_block

from app.accounts.models import User
from app.accounts.queries import get_user
from app.blueprints.chat import bp
from app.blueprints.htmx import redirect_to, render_page, wants_fragment
from app.blueprints.streaming import event_stream, resume_id
from app.dbtypes import writes_on_get
from app.errors import Invalid, NotAllowed, NotFound, TooFast
from app.extensions import db
from app.messaging import channels, direct
from app.messaging.direct import DMView
from app.messaging.permissions import can_message_user
from app.messaging.text import message_html
from app.messaging.transport.sse import SSEEvent
from app.moderation.reports import report_direct_message

bp.add_app_template_global(direct.unread_total, "dm_unread_total")
bp.add_app_template_global(message_html, "dm_body_html")


def _row_id(value: str) -> int:
    """A database id from a form or query string (ValueError for anything else)."""
    number = int(value)
    if not 0 < number < 2 ** 31:
        raise ValueError(value)
    return number


# --- pages ---------------------------------------------------------------------------------

@bp.get("/chat/messages")
@login_required
def inbox():
    return render_page("chat/inbox.html", "inbox_list", rows=direct.inbox(current_user),
                       after=direct.last_message_id(current_user))


def conversation_page(conversation, *, status: int = 200, block: str = "conversation",
                      before: int | None = None, errors: dict | None = None, typed: str = "",
                      sent: DMView | None = None):
    other = conversation.other(current_user.id)
    blocked = direct.is_blocked_between(current_user, other)
    ctx = {"conversation": conversation, "other": other, "me_id": current_user.id,
           "errors": errors or {}, "typed": typed, "sent": sent, "before": before,
           "live": before is None,
           "i_blocked": direct.has_blocked(current_user, other), "blocked": blocked,
           "can_send": can_message_user(current_user, other, blocked=blocked)}
    if block != "compose":
        ctx.update(page=direct.history(current_user, conversation, before_id=before),
                   seen_id=direct.seen_id(current_user, conversation),
                   after=direct.last_message_id(current_user))
    return render_page("chat/conversation.html", block, status=status, **ctx)


@bp.get("/chat/messages/<int:conversation_id>")
@login_required
@writes_on_get  # marks the conversation read
def conversation_detail(conversation_id: int):
    conversation = direct.access_conversation(current_user, conversation_id)
    before = request.args.get("before", type=_row_id)
    if before is None and direct.mark_read(current_user, conversation):
        db.session.commit()
    block = "dm_log" if before is not None else "conversation"
    return conversation_page(conversation, before=before, block=block)


@bp.post("/chat/messages/<int:conversation_id>")
@login_required
def conversation_send(conversation_id: int):
    conversation = direct.access_conversation(current_user, conversation_id)
    body = request.form.get("body", "")
    try:
        msg = direct.send_direct_message(current_user, conversation, body)
        db.session.commit()
    except (Invalid, TooFast) as exc:
        db.session.rollback()
        block = "compose" if wants_fragment() else "conversation"
        resp = conversation_page(conversation, status=exc.status, block=block,
                                 errors={"body": exc.message}, typed=body)
        if isinstance(exc, TooFast):
            resp.headers["Retry-After"] = str(exc.retry_after)
        return resp
    if wants_fragment():
        return conversation_page(conversation, block="compose",
                                 sent=DMView.from_row(msg, current_user.display_name))
    return redirect(url_for("chat.conversation_detail", conversation_id=conversation.id)
                    + f"#dm-{msg.id}")


@bp.post("/chat/messages/<int:conversation_id>/read")
@login_required
def conversation_read(conversation_id: int):
    conversation = direct.access_conversation(current_user, conversation_id)
    direct.mark_read(current_user, conversation)
    db.session.commit()
    if wants_fragment():
        return "", 204
    return redirect(url_for("chat.conversation_detail", conversation_id=conversation.id))


@bp.post("/chat/messages/new")
@login_required
def conversation_start():
    try:
        user_id = _row_id(request.form.get("to", ""))
    except ValueError:
        raise Invalid("Choose who to write to.", field="to") from None
    other = get_user(user_id)
    if other is None:
        raise NotFound("No such user.")
    conversation = direct.conversation_with(current_user, other)
    db.session.commit()
    return redirect_to("chat.conversation_detail", conversation_id=conversation.id)


@bp.post("/chat/dm/<int:message_id>/report")
@login_required
def dm_report(message_id: int):
    msg = direct.access_message(current_user, message_id)
    try:
        report_direct_message(current_user, message_id, reason=request.form.get("reason", ""))
        db.session.commit()
    except Invalid as exc:
        db.session.rollback()
        conversation = direct.access_conversation(current_user, msg.conversation_id)
        return conversation_page(conversation, status=422,
                                 errors={f"report-{message_id}": exc.message})
    flash("Thanks: the moderators will look at it.", "success")
    return redirect_to("chat.conversation_detail", conversation_id=msg.conversation_id)


def _target(user_id: int) -> User:
    target = get_user(user_id)
    if target is None:
        raise NotFound("No such user.")
    return target


def _back():
    """Back to the conversation the form came from (if it is the user's), else the inbox."""
    try:
        conversation_id = _row_id(request.form.get("conversation_id", ""))
        conversation = direct.access_conversation(current_user, conversation_id)
    except (ValueError, NotFound, NotAllowed):
        return redirect_to("chat.inbox")
    return redirect_to("chat.conversation_detail", conversation_id=conversation.id)


@bp.post("/chat/users/<int:user_id>/block")
@login_required
def user_block(user_id: int):
    target = _target(user_id)
    direct.block(current_user, target)
    db.session.commit()
    flash(f"You blocked {target.display_name}: neither of you can message the other.", "success")
    return _back()


@bp.post("/chat/users/<int:user_id>/unblock")
@login_required
def user_unblock(user_id: int):
    target = _target(user_id)
    direct.unblock(current_user, target)
    db.session.commit()
    flash(f"You unblocked {target.display_name}.", "success")
    return _back()


# --- the live stream -------------------------------------------------------------------------

def _message_event(view: DMView, me_id: int) -> SSEEvent:
    """A new message, appended to its conversation's log (if that page is open)."""
    html = get_template_attribute("chat/_dm_message.html", "dm_message")(view, me_id, live=True)
    return SSEEvent(f"dm-{view.conversation_id}", str(html), id=view.id)


def _count_events(me_id: int, with_inbox: bool) -> list[SSEEvent]:
    me = db.session.get(User, me_id)
    if me is None:
        return []
    badge = current_app.jinja_env.get_template("chat/_dm_badge.html").render(
        dm_unread=direct.unread_total(me))
    events = [SSEEvent("dm-badge", badge)]
    if with_inbox:
        events.append(SSEEvent("dm-inbox", render_block("chat/inbox.html", "inbox_list",
                                                         rows=direct.inbox(me))))
    return events


@bp.get("/chat/messages/stream")
@login_required
def dm_stream():
    """New messages, receipts, removals and unread counts for the signed-in user's pages.
    Event ids are message ids: a reconnect gets exactly the messages it missed."""
    me_id = current_user.id
    session_id = getattr(current_user, "session_id", None)  # the contract with accounts
    with_inbox = request.args.get("inbox") == "1"

    def backlog(after_id: int | None) -> list[SSEEvent]:
        if after_id is None:
            return []
        me = db.session.get(User, me_id)
        missed = [_message_event(view, me_id) for view in direct.messages_after(me, after_id)]
        return [*_count_events(me_id, with_inbox), *missed] if missed else []

    def render(event: dict) -> list[SSEEvent]:
        kind = event.get("type")
        if kind == direct.SENT:
            return [*_count_events(me_id, with_inbox), _message_event(DMView.from_event(event), me_id)]
        if kind == direct.DELETED:
            view = DMView.from_event(event)
            html = get_template_attribute("chat/_dm_message.html", "dm_message")(view, me_id)
            return [*_count_events(me_id, with_inbox), SSEEvent(f"dm-removed-{view.id}", str(html))]
        if kind == direct.READ:
            up_to = int(event["up_to_id"])
            html = get_template_attribute("chat/_dm_message.html", "dm_status")(up_to, True)
            return [SSEEvent(f"dm-seen-{up_to}", str(html))]
        if kind == direct.READ_BY_ME:
            return _count_events(me_id, with_inbox)
        return []

    return event_stream([channels.user_dm(me_id), channels.user_notify(me_id)],
                        backlog=backlog, render=render, after=resume_id(),
                        user_id=me_id, session_id=session_id)
