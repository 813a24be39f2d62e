"""The room socket `/ws/chat/<id>` (flask-sock): relays the room's events to one member as
out-of-band fragments and posts the frames the send form sends (`{"body": …}`).

Membership is checked when the socket opens and again on every message; a refund, a ban,
a suspension or a revoked session closes it (POLICY_VIOLATION), a server shutdown too
(SERVICE_RESTART: the page reconnects). A client that is not a browser may open it with an
API token instead of the session cookie (`Authorization: Bearer …` on the handshake, with the
`learn` scope: socket_auth.py); revoking or the expiry of that token closes it the same way.
Writing to the socket — and the fast path, which lets the bus's listener write chat messages
itself — is app/messaging/transport/'s.
"""
from __future__ import annotations

import json
import logging
import threading
import time
import uuid

from flask import copy_current_request_context, current_app
from flask_login import current_user
from simple_websocket import ConnectionClosed

from app.accounts.models import User
from app.blueprints.chat import bp
from app.blueprints.chat.fragments import (
    live_frame,
    live_message,
    live_notice,
    live_online,
    moderator_variant,
    ready_frame,
    render_live,
    variant_for,
)
from app.blueprints.chat.socket_auth import socket_grant
from app.blueprints.streaming import SLOT_HEARTBEATS, open_live_connection, release_db, resume_id
from app.dbtypes import writing
from app.errors import DomainError, NotAllowed, NotFound
from app.extensions import db, sock
from app.messaging import chat, connections, presence
from app.messaging.bus import bus, publish_now
from app.messaging.channels import course_chat, user_notify
from app.messaging.transport import fast_path_on
from app.messaging.transport.websocket import (
    INTERNAL_ERROR,
    POLICY_VIOLATION,
    SERVICE_RESTART,
    WebSocketWriter,
    close_reason,
)
from app.observability.metrics import CHAT_SOCKET, connection_closed, connection_opened

log = logging.getLogger(__name__)

CONTROL_REASONS = {connections.SESSION_END: "Your session ended.",
                   connections.TOKENS_END: "Your API token was revoked.",
                   connections.EVICTED: "Too many pages are open: this one was closed."}


class RoomSocket:
    """One open room socket: the request thread reads frames; one sender thread (a greenlet
    under gevent) relays the bus subscription, so a slow client holds up nobody else.

    Fast path (LIVE_FAST_PATH): a chat message for a socket that is caught up is written by
    the bus's listener itself — the frame is built once per message and variant, and written
    with one non-blocking send — instead of waking this socket's sender (2,000 sockets in a
    room, one message: 2,000 sends, not 2,000 thread wake-ups and frame encodings). Anything
    that cannot go at once (a full socket buffer, a backlog being sent) takes the sender's
    path, in order. With the fast path off, the sender writes everything with `ws.send`."""

    def __init__(self, ws, course, actor, *, fast: bool):
        self.writer = WebSocketWriter(ws, fast=fast)
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
                wait = max(next_beat - time.monotonic(), 0.01)
                event = self.sub.get(timeout=self.conn.wait_at_most(wait, time.time()))
                if self.conn.expired(time.time()):
                    self._close(POLICY_VIOLATION, "Your API token expired.")
                    return
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
            self.writer.wake_receiver()  # the receive loop: the socket is done

    def fast(self, event: dict) -> bool:
        """Deliver a chat message from the listener without blocking; False: not possible."""
        kind = event.get("type", "")
        if not kind.startswith("chat.message.") or self.closing:
            return False
        if not self.writer.lock.acquire(blocking=False):
            return False
        try:
            if kind == "chat.message.created":
                if self.last_id is not None and event["id"] <= self.last_id:
                    return True  # already sent
            variant = variant_for(self.user_id, event, moderator=self.moderator)
            frame = ready_frame(event, variant)
            if frame is None:  # the first socket of this variant renders, in its request's context
                frame = self.render_frame(event, variant)
            rest = self.writer.write_now(frame)
            if rest is None:
                return False  # the sender meets the error and closes
            if kind == "chat.message.created":
                self.last_id = event["id"]
            if rest:  # the client is behind: the sender writes the rest, then the others
                self.sub.put_next({"type": "local.raw", "data": rest})
            return True
        finally:
            self.writer.lock.release()

    def _send(self, text: str) -> None:
        with self.writer.lock:
            self.writer.send_text(text)

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
            with self.writer.lock:
                self.writer.finish(event["data"])
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
                return self._close(POLICY_VIOLATION, CONTROL_REASONS[kind])
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
        with self.writer.lock:
            if event["type"] == "chat.message.created":
                if self.last_id is not None and event["id"] <= self.last_id:
                    return  # already sent (backlog and live overlap)
                self.last_id = event["id"]
            variant = variant_for(self.user_id, event, moderator=self.moderator)
            if self.writer.fast:  # the frame built once for every socket of this variant
                self.writer.send_frame(live_frame(event, variant))
            else:
                self.writer.send_text(live_message(event, variant))

    def _close(self, code: int, reason: str) -> bool:
        self.closing = (code, reason)
        with self.writer.lock:
            self.writer.close(code, reason)
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


def announce_presence(course_id: int) -> None:
    """Tell the room who is online, coalesced (presence.announce) so a crowd joining sends a
    few lists rather than one per arrival."""
    def publish(room_id: int, members: list, count: int) -> None:
        publish_now(course_chat(room_id), {"type": "presence.changed", "count": count, "seq": time.time_ns(),
                                           "online": [list(member) for member in members]})

    presence.announce(course_id, publish)


@sock.route("/ws/chat/<int:course_id>", bp=bp)
def room_socket(ws, course_id: int):
    grant = socket_grant()  # an API client's token, checked before the handshake; else the session
    if grant is not None:
        actor = grant.user
    else:
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
    socket = RoomSocket(ws, course, actor, fast=fast_path_on(current_app.config))
    session_id = getattr(actor, "session_id", None) if grant is None else None  # the contract with accounts
    release_db()
    socket.sub = bus().subscribe([course_chat(course_id), user_notify(socket.user_id)])
    socket.conn = open_live_connection(socket.user_id, session_id, heartbeat=presence.REFRESH_SECONDS,
                                       grant=grant)
    if socket.writer.fast:
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
