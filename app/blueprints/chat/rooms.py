"""Course chat room pages and the room socket.

Without JavaScript the room is a page with the history and forms that post and redirect.
With it, htmx's `ws` extension connects to `/ws/chat/<id>`: the socket relays the room's
events as out-of-band fragments and takes the send form's frames (`{"body": …}`).
"""
from __future__ import annotations

import _socket
import json
import logging
import socket
import threading
import time
import uuid
from collections import OrderedDict

from flask import copy_current_request_context, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from simple_websocket import ConnectionClosed

from app.accounts.models import User
from app.blueprints.chat import bp
from app.blueprints.htmx import redirect_url, render_page, wants_fragment
from app.blueprints.streaming import SLOT_HEARTBEATS, open_live_connection, release_db, resume_id
from app.dbtypes import writing
from app.errors import DomainError, Invalid, NotAllowed, NotFound
from app.extensions import db, sock
from app.messaging import chat, connections, presence
from app.messaging.bus import bus, publish_now
from app.messaging.channels import course_chat, user_notify
from app.messaging.permissions import can_ban_from_room, can_edit_chat_message, can_moderate_room
from app.moderation.reports import report_chat_message
from app.observability.metrics import CHAT_SOCKET, connection_closed, connection_opened

log = logging.getLogger(__name__)

POLICY_VIOLATION = 1008  # RFC 6455: the socket closes because the user may not be here
INTERNAL_ERROR = 1011
SERVICE_RESTART = 1012  # the server is going away; htmx's ws extension reconnects


# --- rendering: one fragment per (message version, variant), shared by every recipient -----

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


def ws_text_frame(text: str) -> bytes:
    """One unmasked, uncompressed WebSocket text frame (RFC 6455 §5.2): built once per
    message and variant and written as is to every socket that gets that variant.
    (Uncompressed frames are valid with permessage-deflate too: RSV1 stays 0.)"""
    payload = text.encode()
    n = len(payload)
    if n < 126:
        head = bytes((0x81, n))
    elif n < 65536:
        head = bytes((0x81, 126)) + n.to_bytes(2, "big")
    else:
        head = bytes((0x81, 127)) + n.to_bytes(8, "big")
    return head + payload


frames = FragmentCache()


def _frame_key(event: dict, variant: str) -> tuple:
    return (event["course_id"], event["id"], event.get("version", ""), variant, event["type"])


def live_frame(event: dict, variant: str) -> bytes:
    return frames.get(_frame_key(event, variant), lambda: ws_text_frame(live_message(event, variant)))


def live_online(course_id: int, event: dict) -> str:
    """The "online" list of one announcement, rendered once per process (keyed by its seq)."""
    members = event.get("online", [])
    key = ("online", course_id, event.get("seq") or repr(members))
    return fragments.get(key, lambda: render_live("chat/_room_online.html", online=members,
                                                  online_count=event.get("count", len(members)),
                                                  oob=True))


def live_notice(text: str, *, sent_id: int | None = None) -> str:
    return render_live("chat/_room_error.html", error=text, sent_id=sent_id, oob=True)


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
           "sanctions": chat.active_sanctions(actor, course) if moderator else [],
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
        chat.sanction_user(current_user, course, user, kind=kind, minutes=request.form.get("minutes") or None,
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
    chat.lift_sanction(current_user, sanction.id)
    db.session.commit()
    flash("The restriction is lifted.", "success")
    return _back_to_room(course)


@bp.post("/chat/courses/<int:course_id>/slow-mode")
@login_required
def room_slow_mode(course_id: int):
    course = chat.access_room(current_user, course_id)
    try:
        room = chat.set_slow_mode(current_user, course, request.form.get("seconds", ""))
        db.session.commit()
    except Invalid as exc:
        db.session.rollback()
        return room_page(course, 422, errors={"seconds": exc.message})
    flash(f"Slow mode: {room.slow_mode_seconds} s." if room.slow_mode_seconds else "Slow mode is off.", "success")
    return _back_to_room(course)


# --- the socket -------------------------------------------------------------------------------

class RoomSocket:
    """One open room socket: the request thread reads frames; one sender thread (a greenlet
    under gevent) relays the bus subscription, so a slow client holds up nobody else.

    Fast path: a chat message for a socket that is caught up is written by the bus's
    listener itself — the frame is built once per message and variant, and written with one
    non-blocking send — instead of waking this socket's sender (2,000 sockets in a room,
    one message: 2,000 sends, not 2,000 thread wake-ups and frame encodings). Anything that
    cannot go at once (a full socket buffer, a backlog being sent) takes the sender's path,
    in order."""

    def __init__(self, ws, course, actor):
        self.ws = ws
        self.raw = getattr(ws.sock, "_sock", ws.sock)  # gevent's socket wraps the OS one
        self.write_lock = threading.Lock()
        self.course_id = course.id
        self.user_id = actor.id
        self.moderator = moderator_variant(actor, course)
        self.socket_id = uuid.uuid4().hex[:12]
        self.last_id = resume_id()
        self.sub = None
        self.conn = None  # its slot among the user's live connections (connections.py)
        self.closing: tuple[int, str] | None = None

    # the sender ------------------------------------------------------------------------
    def relay(self) -> None:
        next_beat = time.monotonic() + presence.REFRESH_SECONDS
        try:
            self._send_backlog()
            release_db()  # hold no connection (on SQLite, no lock) while waiting for events
            self.sub.done()  # caught up: live messages may now go out from the listener
            while not self.sub.closed:
                event = self.sub.get(timeout=max(next_beat - time.monotonic(), 0.01))
                if time.monotonic() >= next_beat:  # a busy room still refreshes presence
                    next_beat = time.monotonic() + presence.REFRESH_SECONDS
                    self._heartbeat()
                if event is None:
                    if self.sub.closed:
                        return
                    continue
                keep_going = self._handle(event)
                release_db()  # rendering may have loaded the user: hold no connection while idle
                if not keep_going:
                    return
                self.sub.done()  # handled: the listener may write to this client itself again
        except ConnectionClosed:
            pass
        except Exception:  # a bug must not leave the socket open with nobody relaying to it
            log.exception("room socket relay failed")
            self._close(INTERNAL_ERROR, "Something went wrong; reconnecting.")
        finally:
            release_db()
            # Wake the receive loop, which blocks until a frame arrives: simple-websocket only
            # sets this event when the peer sends or hangs up, not when we close ourselves.
            self.ws.event.set()

    def fast(self, event: dict) -> bool:
        """Deliver a chat message from the listener without blocking; False: not possible."""
        kind = event.get("type", "")
        if not kind.startswith("chat.message.") or self.closing:
            return False
        if not self.write_lock.acquire(blocking=False):
            return False
        try:
            if kind == "chat.message.created":
                if self.last_id is not None and event["id"] <= self.last_id:
                    return True  # already sent
            variant = variant_for(self.user_id, event, moderator=self.moderator)
            frame = frames.peek(_frame_key(event, variant))
            if frame is None:  # the first socket of this variant renders, in its request's context
                frame = self.render_frame(event, variant)
            try:
                sent = _socket.socket.send(self.raw, frame, socket.MSG_DONTWAIT)
            except BlockingIOError:
                sent = 0
            except OSError:
                return False  # the sender meets the error and closes
            if kind == "chat.message.created":
                self.last_id = event["id"]
            if sent < len(frame):  # the client is behind: the sender writes the rest, then the others
                self.sub.put_next({"type": "local.raw", "data": frame[sent:]})
            return True
        finally:
            self.write_lock.release()

    def _send(self, text: str) -> None:
        with self.write_lock:
            self.ws.send(text)

    def _send_backlog(self) -> None:
        if self.last_id is None:
            return
        actor, course = self._reload()
        events = [chat.message_event(m, "created", course) for m in chat.messages_after(actor, course, self.last_id)]
        release_db()
        for event in events:
            self._send_message(event)

    def _handle(self, event: dict) -> bool:
        kind = event.get("type", "")
        me = event.get("user_id") == self.user_id
        if kind.startswith("chat.message."):
            self._send_message(event)
        elif kind == "local.raw":  # the rest of a frame the fast path could not finish
            with self.write_lock:
                self.ws.sock.sendall(event["data"])
        elif kind == "presence.changed":
            self._send(live_online(self.course_id, event))
        elif kind == "chat.room.updated":
            self._send(render_live("chat/_room_slow.html", seconds=event.get("slow_mode_seconds", 0),
                                         oob=True))
        elif kind == "member.removed" and me:
            return self._close(POLICY_VIOLATION, "You are no longer enrolled in this course.")
        elif kind == "chat.user.sanctioned" and me and event.get("kind") == "ban":
            return self._close(POLICY_VIOLATION, "You are banned from this room.")
        elif kind == "chat.user.sanctioned" and me:
            self._send(live_notice("You are muted in this room: you can read but not post."))
        elif kind in connections.CONTROL:
            if self.conn.ended_by(event):
                return self._close(POLICY_VIOLATION, "Your session ended." if kind == connections.SESSION_END
                                   else "Too many pages are open: this one was closed.")
        elif kind == "local.send":  # from this socket's receive loop
            self._send(event["html"])
        elif kind == "local.close":
            return self._close(event["code"], event["reason"])
        elif kind == "bus.resync":
            self._send_backlog()
        elif kind == "bus.closed":
            if not self.sub.closed:  # the server shuts down: the page shows "reconnecting"
                return self._close(SERVICE_RESTART, "The server is restarting.")
            return False
        return True

    def _send_message(self, event: dict) -> None:
        with self.write_lock:
            if event["type"] == "chat.message.created":
                if self.last_id is not None and event["id"] <= self.last_id:
                    return  # already sent (backlog and live overlap)
                self.last_id = event["id"]
            variant = variant_for(self.user_id, event, moderator=self.moderator)
            self.ws.sock.sendall(live_frame(event, variant))

    def _close(self, code: int, reason: str) -> bool:
        self.closing = (code, reason)
        try:
            with self.write_lock:
                self.ws.close(reason=code, message=close_reason(reason))
        except ConnectionClosed:
            pass
        return False

    def _heartbeat(self) -> None:
        if presence.touch(self.course_id, self.user_id, self.socket_id):
            announce_presence(self.course_id)
        connections.renew(self.conn, ttl=SLOT_HEARTBEATS * presence.REFRESH_SECONDS, now=time.time())
        release_db()

    # the receive loop --------------------------------------------------------------------
    def _reload(self):
        actor = db.session.get(User, self.user_id)
        course = chat.get_room_course(self.course_id)
        return actor, course

    def handle_frame(self, data) -> None:
        try:
            frame = json.loads(data)
            body = frame.get("body") if isinstance(frame, dict) else None
            if not isinstance(body, str):
                raise ValueError
        except ValueError:
            self.sub.put({"type": "local.send", "html": live_notice("We could not read that message.")})
            return
        try:
            with writing():  # on SQLite, take the write lock first: this reads, then stores
                actor, course = self._reload()
                message = chat.post_message(actor, course, body)
                db.session.commit()
            self.sub.put({"type": "local.send", "html": live_notice("", sent_id=message.id)})
        except NotAllowed as exc:
            db.session.rollback()
            actor, course = self._reload()
            if actor is None or not chat.may_join(actor, course):
                self.sub.put({"type": "local.close", "code": POLICY_VIOLATION, "reason": exc.message})
            else:
                self.sub.put({"type": "local.send", "html": live_notice(exc.message)})
        except DomainError as exc:  # empty, too long, flooding, slow mode
            db.session.rollback()
            self.sub.put({"type": "local.send", "html": live_notice(exc.message)})
        finally:
            release_db()


def close_reason(text: str) -> str:
    """A close frame's reason holds at most 123 bytes of UTF-8."""
    return text.encode()[:123].decode(errors="ignore")


def announce_presence(course_id: int) -> None:
    """Tell the room who is online, coalesced (presence.announce) so a crowd joining sends a
    few lists rather than one per arrival."""
    def publish(room_id: int, members: list, count: int) -> None:
        publish_now(course_chat(room_id), {"type": "presence.changed", "count": count, "seq": time.time_ns(),
                                           "online": [list(member) for member in members]})

    presence.announce(course_id, publish)


@sock.route("/ws/chat/<int:course_id>", bp=bp)
def room_socket(ws, course_id: int):
    actor = current_user._get_current_object() if current_user.is_authenticated else None
    try:
        if actor is None:
            raise NotAllowed("join this room: log in first")
        course = chat.access_room(actor, course_id)
    except (NotAllowed, NotFound) as exc:
        # Nothing else: the request's teardown ends the session. Rolling back and removing
        # it here left `current_user` expired and detached, and the response's own hooks
        # (which read it) then failed after the close frame, under load before it went out.
        ws.close(reason=POLICY_VIOLATION, message=close_reason(exc.message))
        return
    socket = RoomSocket(ws, course, actor)
    session_id = getattr(actor, "session_id", None)  # the contract with accounts
    release_db()
    socket.sub = bus().subscribe([course_chat(course_id), user_notify(socket.user_id)])
    socket.conn = open_live_connection(socket.user_id, session_id, heartbeat=presence.REFRESH_SECONDS)
    # The listener renders a message's frame (once per variant) in this request's context.
    socket.render_frame = copy_current_request_context(live_frame)
    socket.sub.fast = socket.fast
    sender = threading.Thread(target=copy_current_request_context(socket.relay), daemon=True,
                              name=f"room-socket-{socket.socket_id}")
    sender.start()
    connection_opened(CHAT_SOCKET)
    try:
        if presence.touch(course_id, socket.user_id, socket.socket_id):
            announce_presence(course_id)
        release_db()
        while sender.is_alive():
            data = ws.receive()  # blocks, costing nothing, until a frame or the close
            if data is not None:
                socket.handle_frame(data)
    except ConnectionClosed:
        pass
    finally:
        connection_closed(CHAT_SOCKET)
        socket.sub.close()
        connections.close_connection(socket.conn)
        sender.join(timeout=5)
        if presence.leave(course_id, socket.user_id, socket.socket_id):
            announce_presence(course_id)
        release_db()

