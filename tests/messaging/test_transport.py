"""Live delivery with the fast path on and off (LIVE_FAST_PATH, app/messaging/transport/),
against a real server (the `live` fixture) with real clients: a room socket gets a chat
message (and, falling behind, every message whole and in order), the notification stream a
notification, the DM stream a direct message. On, the bus's listener writes to the client's
socket itself; off, every write goes through simple-websocket and the Flask response."""
from __future__ import annotations

import re
import socket
import time

import pytest

from app.blueprints.chat.fragments import ready_frame
from app.extensions import db as _db
from app.learning.enrollment import enroll
from app.messaging import chat, direct
from app.messaging.models import ChatMessage
from app.messaging.notifications import notify
from tests import factories
from tests.support.eventstreams import EventStream
from tests.support.live import frames, server_side_write

MODES = [pytest.param(True, id="fast-path"), pytest.param(False, id="public-apis-only")]


@pytest.fixture(autouse=True)
def db():
    """No per-test rollback: the server's threads must see committed rows."""
    yield None


@pytest.fixture(autouse=True)
def _clean_limits_and_files():
    yield


@pytest.fixture(params=MODES)
def fast_path(request, live, monkeypatch) -> bool:
    """The live server's LIVE_FAST_PATH for this test (read when a socket or stream opens)."""
    monkeypatch.setitem(live.app.config, "LIVE_FAST_PATH", request.param)
    return request.param


@pytest.fixture
def room(live, ctx):
    creator = factories.make_user(display_name="Carl Creator")
    learner = factories.make_user(display_name="Lena Learner")
    course = factories.make_course(creator, status="published")
    enroll(learner, course)
    _db.session.commit()
    return course, creator, learner


def say(actor, course, body: str) -> int:
    with server_side_write():
        message = chat.post_message(_db.session.merge(actor), _db.session.merge(course), body)
    return message.id


def message_ids(data: list[str]) -> list[int]:
    return [int(n) for chunk in data for n in re.findall(r'<li id="m-(\d+)"', chunk)]


def test_a_chat_message_reaches_a_room_socket(live, room, fast_path):
    course, creator, learner = room
    ws = live.connect(learner, course.id)
    try:
        frames(ws, until=r'id="online"')
        message_id = say(creator, course, "Hello <i>room</i>")
        got = frames(ws, until=rf'id="m-{message_id}"')
    finally:
        ws.close()
    assert 'hx-swap-oob="beforeend:#chat-log"' in got[-1] and "Hello &lt;i&gt;room&lt;/i&gt;" in got[-1]
    # Only the fast path builds a WebSocket frame of its own (once, for every learner's socket).
    event = chat.message_event(_db.session.get(ChatMessage, message_id), "created")
    assert (ready_frame(event, "member") is not None) == fast_path


def test_a_room_socket_that_falls_behind_gets_every_message_whole_and_in_order(live, room, fast_path):
    course, creator, learner = room
    ws = live.connect(learner, course.id)
    try:
        frames(ws, until=r'id="online"')
        ws.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # fall behind sooner
        sent = [say(creator, course, f"{n:03d} " + "x" * 1900) for n in range(60)]  # ~115 KB unread
        time.sleep(0.5)
        got: list[str] = []
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and (not got or f'id="m-{sent[-1]}"' not in got[-1]):
            data = ws.receive(timeout=2)
            if data is None:
                break
            got.append(data)
    finally:
        ws.close()
    assert message_ids(got) == sent
    assert all(chunk.count("<li") == chunk.count("</li>") for chunk in got)  # every frame whole


def test_a_notification_reaches_the_event_stream(live, ctx, fast_path):
    user = factories.make_user()
    _db.session.commit()
    stream = EventStream("127.0.0.1", live.port, "/notifications/stream", cookie=live.cookie_for(user))
    try:
        assert stream.status == 200
        with server_side_write():
            first = notify(_db.session.merge(user), "welcome", name="first").id
        stream.wait_for(lambda event: event.id == str(first), timeout=10)
        with server_side_write():  # the stream is caught up and idle: this one goes out live
            second = notify(_db.session.merge(user), "welcome", name="second").id
        event = stream.wait_for(lambda event: event.id == str(second), timeout=10)
    finally:
        stream.close()
    assert event.name == "notification" and f'id="toast-{second}"' in event.data


def test_a_direct_message_reaches_the_dm_stream(live, ctx, fast_path):
    me, sender = factories.make_user(), factories.make_user(display_name="Bob Sender")
    _db.session.commit()
    stream = EventStream("127.0.0.1", live.port, "/chat/messages/stream", cookie=live.cookie_for(me))
    try:
        assert stream.status == 200
        with server_side_write():
            conversation = direct.conversation_with(_db.session.merge(sender), _db.session.merge(me))
            message = direct.send_direct_message(_db.session.merge(sender), conversation, "Hi <b>there</b>")
        event = stream.wait_for(lambda event: event.id == str(message.id), timeout=10)
    finally:
        stream.close()
    assert event.name == f"dm-{conversation.id}" and "Hi &lt;b&gt;there&lt;/b&gt;" in event.data
