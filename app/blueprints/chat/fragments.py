"""What a room socket sends, rendered once and shared: a message's `<li>` per variant (which
controls a viewer gets), the "online" list, notices, and a message's WebSocket frame.

Live fragments go to many sockets, so they are rendered with the jinja environment alone and
kept in small per-process caches keyed by message version and variant: 2,000 sockets in a
room, one message, a handful of renderings. The room pages render the same templates.
"""
from __future__ import annotations

import threading
from collections import OrderedDict

from flask import current_app, render_template

from app.messaging.permissions import can_ban_from_room, can_moderate_room
from app.messaging.transport.websocket import text_frame


def variant_for(viewer_id: int | None, event: dict, *, moderator: str | None) -> str:
    """Which controls a viewer gets on a message: "deleted", "own", a moderator's ("creator":
    delete and mute; "moderator": also ban) or "member" (report)."""
    if event.get("deleted"):
        return "deleted"
    if viewer_id is not None and event.get("author_id") == viewer_id:
        return "own"
    return moderator or "member"


def moderator_variant(actor, course) -> str | None:
    if can_ban_from_room(actor):
        return "moderator"
    return "creator" if can_moderate_room(actor, course) else None


def _no_token() -> str:
    return ""


def render_live(template: str, **ctx) -> str:
    """A fragment for many sockets: the jinja environment directly, without the page's
    context processors (they query the database for the header's badges, and a relay
    rendering for a thousand sockets must not queue on the connection pool)."""
    return current_app.jinja_env.get_template(template).render(**ctx)


def render_message(event: dict, variant: str, *, live: bool, **extra) -> str:
    """One message's `<li>`. Live fragments go to many users, so they carry no CSRF token
    (htmx sends the page's own token as a header)."""
    ctx = {"m": event, "variant": variant, "live": live, "editing": False, "errors": {}, "typed": {}}
    if live:
        ctx["csrf_token"] = _no_token
    ctx.update(extra)
    if live:
        return render_live("chat/_message.html", **ctx)
    return render_template("chat/_message.html", **ctx)


class FragmentCache:
    """A small per-process LRU of rendered live fragments."""

    def __init__(self, size: int = 512):
        self.size = size
        self._items: OrderedDict[tuple, str] = OrderedDict()
        self._lock = threading.Lock()

    def peek(self, key: tuple):
        return self._items.get(key)

    def get(self, key: tuple, build) -> str:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        html = build()
        with self._lock:
            self._items[key] = html
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return html


fragments = FragmentCache()


def live_message(event: dict, variant: str) -> str:
    """A new message is appended to the log; an edited or deleted one replaces its element."""
    key = (event["course_id"], event["id"], event.get("version", ""), variant, event["type"])

    def build() -> str:
        item = render_message(event, variant, live=True, oob=event["type"] != "chat.message.created")
        if event["type"] == "chat.message.created":
            return f'<ol hx-swap-oob="beforeend:#chat-log">{item}</ol>'
        return item

    return fragments.get(key, build)


frames = FragmentCache()  # a message's WebSocket frame per variant (the fast path's)


def _frame_key(event: dict, variant: str) -> tuple:
    return (event["course_id"], event["id"], event.get("version", ""), variant, event["type"])


def live_frame(event: dict, variant: str) -> bytes:
    """`live_message` as one WebSocket text frame, built once per message and variant."""
    return frames.get(_frame_key(event, variant), lambda: text_frame(live_message(event, variant)))


def ready_frame(event: dict, variant: str) -> bytes | None:
    """The frame if some socket has built it already (the listener builds none itself)."""
    return frames.peek(_frame_key(event, variant))


def live_online(course_id: int, event: dict) -> str:
    """The "online" list of one announcement, rendered once per process (keyed by its seq)."""
    members = event.get("online", [])
    key = ("online", course_id, event.get("seq") or repr(members))
    return fragments.get(key, lambda: render_live("chat/_room_online.html", online=members,
                                                  online_count=event.get("count", len(members)),
                                                  oob=True))


def live_notice(text: str, *, sent_id: int | None = None) -> str:
    return render_live("chat/_room_error.html", error=text, sent_id=sent_id, oob=True)

