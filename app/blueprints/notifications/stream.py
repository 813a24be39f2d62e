"""The live notification stream (`/notifications/stream`, htmx's `sse` extension).

Each stored notification arrives as a toast plus the unread badge (swapped out of band),
with the notification id as the SSE event id, so a reconnecting browser resumes after
`Last-Event-ID` and a page resumes after the newest notification it showed (`?after=`).

"Your figures changed" (app/analytics/live.py) arrives as an `analytics` event without an
id (resuming notifications is unaffected): an open analytics page re-reads its figures.
A finance admin's stream also hears the platform's analytics channel (decided when it opens).
"""
from __future__ import annotations

from types import SimpleNamespace

from flask import Response
from flask_login import current_user

from app.analytics.permissions import can_view_platform_analytics
from app.blueprints.notifications import bp
from app.blueprints.streaming import event_stream, release_db, resume_id
from app.messaging import channels
from app.messaging.notifications import latest_id, notifications_after, unread_count
from app.messaging.subscribers import notification_event, toast_html
from app.messaging.transport.sse import SSEEvent

BACKLOG_LIMIT = 50  # a browser away for longer sees the rest on the notifications page
EVENT = "notification"  # the `sse-swap` name in layouts/base.html
ANALYTICS = SSEEvent("analytics", "changed")  # the `sse:analytics` trigger; data must not be empty


@bp.app_template_global()
def latest_notification_id(user) -> int:
    """The newest notification `user` has (0 if none): where a page's stream starts."""
    return latest_id(user)


def _toast(item: dict) -> SSEEvent:
    html = item.get("html")
    if not isinstance(html, str):  # published by an older process: render it here
        html = toast_html(item)
    return SSEEvent(EVENT, html, id=item["id"])


@bp.get("/stream")
def stream():
    if not current_user.is_authenticated:
        # Not a redirect: EventSource would follow it to an HTML page. A 401 ends it.
        return Response("Log in to receive live notifications.\n", 401, mimetype="text/plain")
    me = SimpleNamespace(id=current_user.id)
    session_id = getattr(current_user, "session_id", None)  # the contract with accounts
    newest = latest_notification_id(me)
    listen = [channels.user_notify(me.id)]
    if can_view_platform_analytics(current_user):
        listen.append(channels.platform_analytics())
    after = resume_id()
    if after is None or after > newest:  # unreadable, or not an id of ours: start fresh
        after = newest
    release_db()  # the stream opens its own short transactions when it needs the database

    def backlog(after_id: int | None) -> list[SSEEvent]:
        if after_id is None:
            return []
        rows = notifications_after(me, after_id, limit=BACKLOG_LIMIT)
        if not rows:
            return []
        unread = unread_count(me)
        return [_toast(notification_event(note, unread)) for note in rows]

    def render(event: dict) -> list[SSEEvent]:
        kind = event.get("type")
        if kind == "analytics":
            return [ANALYTICS]
        if kind != "notification" or not isinstance(event.get("id"), int):
            return []
        return [_toast(event)]

    return event_stream(listen, backlog=backlog, render=render, after=after,
                        user_id=me.id, session_id=session_id,
                        render_is_pure=True)  # toasts arrive rendered (subscribers.toast_html)
