"""Live delivery with the fast path on and off (LIVE_FAST_PATH, app/messaging/transport/),
against a real server (the `live` fixture) with real clients: a room socket gets a chat
message, the notification stream a notification, the DM stream a direct message. On, the
bus's listener writes to the client's socket itself; off, every write goes through
simple-websocket and the Flask response (the `fast_path` fixture of tests/messaging/conftest.py
runs each test both ways; test_chat_socket.py's client that falls behind uses it too)."""
from __future__ import annotations

import pytest

from app.blueprints.chat.fragments import ready_frame
from app.extensions import db as _db
from app.messaging import chat, direct
from app.messaging.models import ChatMessage
from app.messaging.notifications import notify
from tests import factories
from tests.support.eventstreams import EventStream
from tests.support.live import frames, say, server_side_write

# No per-test rollback: the server's threads must see committed rows.
pytestmark = pytest.mark.committed


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
