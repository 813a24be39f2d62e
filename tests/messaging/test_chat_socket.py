"""The room socket `/ws/chat/<id>` against a real server (werkzeug, threaded; the `live`
fixture) with a real WebSocket client: membership at open, live delivery, resume after an
id, cut-offs, bad frames.

The server has its own app and database (as the browser tests do): its requests commit for
real, so the suite's per-test rollback is off here and each test makes its own users."""
from __future__ import annotations

import base64
import hashlib
import json
import re
import socket
import threading
import time

import pytest
from simple_websocket import ConnectionClosed
from wsproto.frame_protocol import FrameProtocol

from app.extensions import db as _db
from app.learning.enrollment import revoke
from app.learning.queries import active_enrollment
from app.messaging import chat, chat_moderation
from app.messaging.bus import bus as process_bus
from app.messaging.bus import close_buses
from tests import factories
from tests.support.live import frames, message_ids, say, server_side_write

# No per-test rollback: the server's threads must see committed rows.
pytestmark = pytest.mark.committed


def closed_with(ws, timeout: float = 5.0) -> ConnectionClosed:
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ws.receive(timeout=0.2)
    except ConnectionClosed as exc:
        return exc
    raise AssertionError("the socket stayed open")


def request_done(server_requests, path: str, wait_for) -> None:
    wait_for(lambda: path in server_requests.ended, what=f"the server finishing {path}")


def test_a_stranger_is_closed_with_policy_violation(live, room, server_requests, wait_for):
    course, _, _ = room
    stranger = factories.make_user()
    ws = live.connect(stranger, course.id)
    exc = closed_with(ws)
    assert exc.reason == 1008 and "join this room" in exc.message
    # The refusal used to leave the signed-in user detached from any session, and the
    # response's hooks (which read it) raised: a traceback in the log, and under load a
    # broken connection instead of the close frame (1005, issue #13).
    request_done(server_requests, f"/ws/chat/{course.id}", wait_for)
    assert server_requests.errors == []


def test_an_anonymous_visitor_is_closed_with_policy_violation(live, room, server_requests, wait_for):
    course, _, _ = room
    ws = live.open_ws(f"/ws/chat/{course.id}")
    assert closed_with(ws).reason == 1008
    request_done(server_requests, f"/ws/chat/{course.id}", wait_for)
    assert server_requests.errors == []


def test_a_close_sent_with_the_handshake_reply_is_read(live):
    """The test client's own fix (tests/support/websockets.py, WsClient): frames that arrive in
    the same read as the handshake reply are not lost, so a refusal under load reads as 1008,
    not 1005."""
    listener = socket.create_server(("127.0.0.1", 0))

    def serve_once():
        conn, _ = listener.accept()
        conn.settimeout(6)
        try:
            request = b""
            while b"\r\n\r\n" not in request:
                request += conn.recv(4096)
            key = re.search(rb"Sec-WebSocket-Key: (\S+)", request, re.I).group(1)
            accept = base64.b64encode(hashlib.sha1(key + b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11").digest())
            close = FrameProtocol(client=False, extensions=[]).close(1008, "not a member")
            conn.sendall(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                         b"Sec-WebSocket-Accept: " + accept + b"\r\n\r\n" + close)  # one write, one read
            conn.recv(4096)  # the client's answering close
        except OSError:
            pass
        finally:
            conn.close()

    server = threading.Thread(target=serve_once, daemon=True)
    server.start()
    port = listener.getsockname()[1]
    exc = closed_with(live.open_ws("/", port=port))
    server.join(timeout=5)
    listener.close()
    assert exc.reason == 1008 and exc.message == "not a member"


def test_a_message_posted_elsewhere_arrives_as_an_out_of_band_append(live, room):
    course, creator, learner = room
    ws = live.connect(learner, course.id)
    try:
        frames(ws, until=r'id="online"')  # joined (presence)
        message_id = say(creator, course, "Welcome <b>all</b>")
        got = frames(ws, until=rf'id="m-{message_id}"')
    finally:
        ws.close()
    assert 'hx-swap-oob="beforeend:#chat-log"' in got[-1] and "Welcome &lt;b&gt;all&lt;/b&gt;" in got[-1]
    assert 'name="csrf_token" value=""' in got[-1]  # the report form, without anyone's token
    assert re.search(r'name="csrf_token" value="[^"]+"', got[-1]) is None


def test_a_frame_from_the_form_is_posted_and_reaches_everyone(live, room):
    course, creator, learner = room
    theirs, mine = live.connect(creator, course.id), live.connect(learner, course.id)
    try:
        frames(mine, until=r'id="online"')
        mine.send(json.dumps({"body": "hi from the socket", "HEADERS": {"HX-Request": "true"}}))
        got = frames(theirs, until=r"hi from the socket")
        # The sender gets its message and the "stored" notice that clears the form, in
        # either order (the message may go out from the bus before the notice is queued).
        own = frames(mine, until=r'data-sent="\d+"|hi from the socket')
        own += frames(mine, until=r'data-sent="\d+"' if "hi from the socket" in own[-1] else "hi from the socket")
    finally:
        theirs.close()
        mine.close()
    assert "Mute Lena Learner" in got[-1]  # the creator's variant
    assert any("hi from the socket" in chunk for chunk in own)
    assert any(re.search(r'data-sent="\d+"', chunk) for chunk in own)


def test_reconnecting_after_an_id_gets_exactly_the_missed_messages(live, room):
    course, creator, learner = room
    first = say(creator, course, "one")
    missed = [say(creator, course, f"missed {n}") for n in range(3)]
    ws = live.connect(learner, course.id, after=first)
    try:
        got = frames(ws, until=rf'id="m-{missed[-1]}"')
        live_id = say(creator, course, "after reconnect")
        got += frames(ws, until=rf'id="m-{live_id}"')
    finally:
        ws.close()
    assert message_ids(got) == [*missed, live_id]


def test_a_refund_closes_the_learners_socket_at_once(live, room):
    course, creator, learner = room
    ws = live.connect(learner, course.id)
    frames(ws, until=r'id="online"')
    with server_side_write():
        revoke(active_enrollment(_db.session.merge(learner), _db.session.merge(course)), reason="refund")
    exc = closed_with(ws, timeout=3)
    assert exc.reason == 1008 and "no longer enrolled" in exc.message


def test_a_ban_closes_the_socket(live, room):
    course, _, learner = room
    moderator = factories.make_user(permissions=("moderate",))
    ws = live.connect(learner, course.id)
    frames(ws, until=r'id="online"')
    with server_side_write():
        chat_moderation.sanction_user(_db.session.merge(moderator), _db.session.merge(course), _db.session.merge(learner),
                           kind="ban", minutes=None, reason="abuse")
    assert closed_with(ws, timeout=3).reason == 1008


def test_a_muted_members_send_gets_a_visible_error(live, room):
    course, creator, learner = room
    ws = live.connect(learner, course.id)
    try:
        frames(ws, until=r'id="online"')
        with server_side_write():
            chat_moderation.sanction_user(_db.session.merge(creator), _db.session.merge(course), _db.session.merge(learner),
                               kind="mute", minutes=10, reason="")
        ws.send(json.dumps({"body": "can I talk?"}))
        got = frames(ws, until=r'id="chat-error".*not allowed to post')
    finally:
        ws.close()
    assert 'hx-swap-oob="true"' in got[-1] and "muted" in got[-1]


def test_garbled_and_too_long_frames_get_an_error_and_the_socket_stays(live, room):
    course, _, learner = room
    ws = live.connect(learner, course.id)
    try:
        frames(ws, until=r'id="online"')
        ws.send("not json")
        frames(ws, until=r"could not read that message")
        ws.send(json.dumps({"body": "z" * 2001}))
        frames(ws, until=r"under 2,000 characters")
        ws.send(json.dumps({"body": ["list"]}))
        frames(ws, until=r"could not read that message")
    finally:
        ws.close()


def test_a_one_megabyte_frame_closes_the_socket_cleanly(live, room):
    course, _, learner = room
    ws = live.connect(learner, course.id)
    frames(ws, until=r'id="online"')
    ws.send(json.dumps({"body": "x" * 1_000_000}))
    assert closed_with(ws).reason == 1009


@pytest.mark.real_services
def test_a_message_posted_in_one_process_reaches_a_socket_on_another(live, room, second_process):
    """Two app processes on one PostgreSQL and one Redis: this one posts, the other relays."""
    course, creator, learner = room
    cookie = live.cookie_for(_db.session.merge(learner))
    ws = live.open_ws(f"/ws/chat/{course.id}", {"Cookie": cookie}, port=second_process)
    try:
        frames(ws, until=r'id="online"')
        message_id = say(creator, course, "across processes")
        got = frames(ws, until=rf'id="m-{message_id}"')
    finally:
        ws.close()
    assert "across processes" in got[-1]


def test_who_is_online_is_updated_live(live, room):
    course, creator, learner = room
    first = live.connect(learner, course.id)
    try:
        frames(first, until=r'id="online"')
        second = live.connect(creator, course.id)
        got = frames(first, until=r'<li>Carl Creator</li>')
        assert "Lena Learner" in got[-1] and 'hx-swap-oob="true"' in got[-1]
        second.close()
        frames(first, until=r'(?s)id="online"(?:(?!Carl Creator).)*</ul>')  # gone again
    finally:
        first.close()


def test_edits_and_deletions_replace_the_message_live(live, room):
    course, creator, learner = room
    message_id = say(creator, course, "first draft")
    ws = live.connect(learner, course.id, after=message_id)
    try:
        frames(ws, until=r'id="online"')
        with server_side_write():
            chat.edit_message(_db.session.merge(creator), message_id, "second draft")
        edited = frames(ws, until=rf'<li id="m-{message_id}".*hx-swap-oob="true"')[-1]
        with server_side_write():
            chat.delete_message(_db.session.merge(creator), message_id)
        deleted = frames(ws, until=r"This message was deleted")[-1]
    finally:
        ws.close()
    assert "second draft" in edited and "· edited" in edited
    assert "second draft" not in deleted and f'id="m-{message_id}"' in deleted


def test_a_graceful_stop_closes_sockets_with_service_restart(live, room):
    """gunicorn.conf.py closes the process's bus when a worker stops: every room socket
    closes with 1012, which htmx's ws extension answers by reconnecting."""

    course, _, learner = room
    ws = live.connect(learner, course.id)
    frames(ws, until=r'id="online"')
    assert process_bus(live.app).subscriber_count() >= 1
    started = time.monotonic()
    close_buses()
    exc = closed_with(ws, timeout=3)
    assert exc.reason == 1012 and time.monotonic() - started < 3
    # The next socket gets a fresh bus and works as before.
    again = live.connect(learner, course.id)
    try:
        frames(again, until=r'id="online"')
    finally:
        again.close()


def test_a_client_that_falls_behind_gets_every_message_whole_and_in_order(live, room, fast_path):
    """Messages go out (with the fast path, from the bus's listener with a non-blocking write)
    while a socket is caught up; once a client stops reading and its buffer fills, the rest of a frame and
    everything after it wait in that socket's queue — nothing is lost, split or reordered."""
    course, creator, learner = room
    ws = live.connect(learner, course.id)
    try:
        frames(ws, until=r'id="online"')
        ws.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # fall behind sooner
        sent = [say(creator, course, f"{n:03d} " + "x" * 1900) for n in range(120)]  # ~230 KB unread
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
