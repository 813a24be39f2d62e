"""Room sockets and event streams as a whole, against a real server (the `live` fixture):
who may open a socket (Origin), revoked sessions close them on every process, at most
LIVE_CONNECTIONS_PER_USER per user (the oldest goes), and a dropped stream frees its slot;
and both opened with an API token instead (issue 16), which closes them when it is revoked,
expires or its user is suspended."""
from __future__ import annotations

import json
import socket
import time
from datetime import timedelta

import pytest
from simple_websocket import ConnectionClosed
from simple_websocket import ConnectionError as HandshakeRefused

from app.accounts import api_tokens, sessions
from app.accounts.events import SessionsRevoked
from app.accounts.models import ApiToken
from app.blueprints.chat.origin import origin_allowed
from app.dbtypes import utcnow
from app.events import emit
from app.extensions import db as _db
from app.learning.enrollment import enroll
from app.messaging import chat, connections
from app.messaging.bus import bus
from app.messaging.channels import user_notify
from app.messaging.notifications import notify
from app.moderation.suspensions import suspend_user
from tests import factories
from tests.support.api import token_for
from tests.support.eventstreams import EventStream
from tests.support.live import server_side_write

# No per-test rollback: the server's threads must see committed rows.
pytestmark = pytest.mark.committed


@pytest.fixture
def room(live, ctx):
    """A published course, its creator and two enrolled learners."""
    creator = factories.make_user(display_name="Carl Creator")
    learners = [factories.make_user(display_name=f"Learner {n}") for n in range(2)]
    course = factories.make_course(creator, status="published")
    for learner in learners:
        enroll(learner, course)
    _db.session.commit()
    return course, creator, *learners


def joined(ws) -> None:
    """Wait for the room's "online" list: the socket is open and subscribed."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        data = ws.receive(timeout=max(deadline - time.monotonic(), 0.01))
        if data is not None and 'id="online"' in data:
            return
    raise AssertionError("the socket did not join")


def closed_with(ws, timeout: float = 5.0) -> ConnectionClosed:
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ws.receive(timeout=0.2)
    except ConnectionClosed as exc:
        return exc
    raise AssertionError(f"the socket stayed open for {timeout} s")


def settled(ws) -> None:
    """The socket is in its receive loop, so subscribed: it stores a frame and says so."""
    ws.send(json.dumps({"body": "ready?"}))
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        data = ws.receive(timeout=max(deadline - time.monotonic(), 0.01))
        if data is not None and 'data-sent="' in data:
            return
    raise AssertionError("the socket did not store a frame")


def still_receives(ws, live, creator, course) -> None:
    """A message posted now reaches `ws`: it is open (and everything published before it,
    on any channel of this process's bus, was handled first)."""
    with server_side_write():
        message = chat.post_message(_db.session.merge(creator), _db.session.merge(course), "still here?")
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        data = ws.receive(timeout=max(deadline - time.monotonic(), 0.01))
        if data is not None and f'id="m-{message.id}"' in data:
            return
    raise AssertionError("the socket got nothing")


def stream(live, user, path: str = "/notifications/stream", *, cookie: str | None = None) -> socket.socket:
    """An open, subscribed event stream (its first line, `retry:`, has arrived)."""
    sock = live.open_stream(path, cookie or live.cookie_for(_db.session.merge(user)))
    read_until(sock, b"retry: 3000")
    return sock


def read_until(sock: socket.socket, pattern: bytes | None, timeout: float = 5.0) -> bytes:
    """Read until `pattern` arrives, or (pattern None) until the server closes the stream."""
    data = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        sock.settimeout(max(deadline - time.monotonic(), 0.01))
        try:
            chunk = sock.recv(1 << 16)
        except TimeoutError:
            break
        if not chunk:
            if pattern is None:
                return data
            break
        data += chunk
        if pattern is not None and pattern in data:
            return data
    raise AssertionError(f"{'the end' if pattern is None else pattern!r} did not arrive in {timeout} s: {data[-200:]!r}")


def ended(sock: socket.socket) -> bytes:
    """The stream ends, telling htmx not to reconnect (`sse-close="stream-closed"`)."""
    data = read_until(sock, None)
    assert b"event: stream-closed" in data
    return data


def still_streams(sock: socket.socket, user) -> None:
    with server_side_write():
        note = notify(_db.session.merge(user), "welcome", name="still here")
    read_until(sock, f"id: {note.id}".encode())


def revoke(user, session_ids=None) -> None:
    """What the accounts service does when sessions end (SESSIONS_INTERFACE.md)."""
    with server_side_write():  # delivered after the commit
        emit(SessionsRevoked(user_id=user.id, session_ids=session_ids))


# --- Origin (issue #13, item 4) -------------------------------------------------------------

def test_a_handshake_from_another_site_is_refused(live, room):
    course, _, learner, _ = room
    with pytest.raises(HandshakeRefused) as refused:
        live.connect(learner, course.id, headers={"Origin": "https://evil.example"})
    assert refused.value.status_code == 403
    with pytest.raises(HandshakeRefused):
        live.connect(learner, course.id, headers={"Origin": "null"})  # a sandboxed frame or a file


def test_the_sites_own_origin_and_configured_ones_are_let_in(live, room, monkeypatch):
    course, _, learner, _ = room
    # The client sends `Host: 127.0.0.1` (no port): the page's origin as the server sees it.
    own = live.connect(learner, course.id, headers={"Origin": "http://127.0.0.1"})
    joined(own)
    own.close()
    monkeypatch.setitem(live.app.config, "WS_ALLOWED_ORIGINS", ("https://app.example",))
    listed = live.connect(learner, course.id, headers={"Origin": "https://APP.example/"})
    joined(listed)
    listed.close()


def test_a_client_without_origin_is_not_a_browser_and_is_let_in(live, room):
    course, _, learner, _ = room
    ws = live.connect(learner, course.id)  # no Origin header: a script holding the cookie
    joined(ws)
    ws.close()


def test_origins_compare_scheme_host_and_port():
    own = "https://lyceum.example"
    assert origin_allowed("https://lyceum.example", own=own, allowed=())
    assert not origin_allowed("http://lyceum.example", own=own, allowed=())
    assert not origin_allowed("https://lyceum.example:8443", own=own, allowed=())
    assert not origin_allowed("https://lyceum.example.evil.example", own=own, allowed=())
    assert origin_allowed("https://admin.lyceum.example", own=own, allowed=("https://admin.lyceum.example",))


# --- revoked sessions (issue #13, item 3) -----------------------------------------------------

def test_revoking_every_session_closes_the_users_sockets_and_streams(live, room):
    course, creator, learner, other = room
    ws, theirs = live.connect(learner, course.id), live.connect(other, course.id)
    joined(ws)
    joined(theirs)
    notes, dms = stream(live, learner), stream(live, learner, "/chat/messages/stream")
    other_notes = stream(live, other)
    try:
        started = time.monotonic()
        with server_side_write():  # a password reset, a suspension
            sessions.end_all_sessions(_db.session.merge(learner))
        exc = closed_with(ws)
        ended(notes)
        ended(dms)
        assert time.monotonic() - started < 5
        assert exc.reason == 1008 and "session ended" in exc.message
        still_receives(theirs, live, creator, course)  # another user's connections stay
        still_streams(other_notes, other)
    finally:
        theirs.close()
        for sock in (notes, dms, other_notes):
            sock.close()


def test_ending_one_session_closes_only_what_it_opened(live, room):
    course, creator, learner, _ = room
    (ended_cookie, ended_id), (kept_cookie, kept_id) = live.sign_in(learner), live.sign_in(learner)
    ended_ws = live.connect(learner, course.id, cookie=ended_cookie)
    kept_ws = live.connect(learner, course.id, cookie=kept_cookie)
    for ws in (ended_ws, kept_ws):  # (only a user's first socket gets "online")
        settled(ws)
        still_receives(ws, live, creator, course)
    ended_stream = stream(live, learner, "/chat/messages/stream", cookie=ended_cookie)
    kept_stream = stream(live, learner, cookie=kept_cookie)
    try:
        with server_side_write():  # a log-out there
            assert sessions.end_session(_db.session.merge(learner), ended_id)
        assert closed_with(ended_ws).reason == 1008
        ended(ended_stream)
        still_receives(kept_ws, live, creator, course)
        still_streams(kept_stream, learner)
        with server_side_write():
            sessions.end_session(_db.session.merge(learner), kept_id)
        assert closed_with(kept_ws).reason == 1008
        ended(kept_stream)
    finally:
        ended_stream.close()
        kept_stream.close()


@pytest.mark.real_services
def test_a_revocation_here_closes_a_socket_and_a_stream_held_by_another_process(live, room, second_process):
    course, _, learner, _ = room
    cookie = live.cookie_for(_db.session.merge(learner))
    ws = live.open_ws(f"/ws/chat/{course.id}", {"Cookie": cookie}, port=second_process)
    joined(ws)
    sock = socket.create_connection(("127.0.0.1", second_process), timeout=10)
    sock.sendall((f"GET /notifications/stream HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                  f"Accept: text/event-stream\r\nCookie: {cookie}\r\n\r\n").encode())
    try:
        read_until(sock, b"retry: 3000")
        with server_side_write():  # emitted and published here
            sessions.end_all_sessions(_db.session.merge(learner))
        assert closed_with(ws).reason == 1008
        ended(sock)
    finally:
        sock.close()


# --- at most LIVE_CONNECTIONS_PER_USER each (issue #13, item 8) ------------------------------

def open_slots(live, user) -> int:
    with live.app.app_context():
        return connections.open_count(user.id, now=time.time())


def test_the_eleventh_connection_closes_the_first(live, room, wait_for):
    course, _, learner, other = room
    assert live.app.config["LIVE_CONNECTIONS_PER_USER"] == 10
    first = live.connect(learner, course.id)
    joined(first)
    theirs = stream(live, other)
    streams = []
    try:
        streams = [stream(live, learner) for _ in range(9)]
        assert open_slots(live, learner) == 10
        streams.append(stream(live, learner))  # the 11th
        exc = closed_with(first)
        assert exc.reason == 1008 and "Too many pages" in exc.message
        wait_for(lambda: open_slots(live, learner) == 10, what="the first slot freed")
        streams.append(stream(live, learner))  # the 12th: now the oldest stream goes
        ended(streams[0])
        for sock in streams[1:]:
            still_streams(sock, learner)
        still_streams(theirs, other)  # another user's count is their own
    finally:
        theirs.close()
        for sock in streams:
            sock.close()


def test_a_dropped_stream_frees_its_slot_before_the_next_heartbeat(live, room, wait_for):
    _, _, learner, _ = room
    assert live.app.config["SSE_HEARTBEAT_SECONDS"] >= 25
    sock = stream(live, learner)
    assert open_slots(live, learner) == 1
    started = time.monotonic()
    sock.close()  # the browser tab went away
    wait_for(lambda: open_slots(live, learner) == 0, what="the slot freed")
    assert time.monotonic() - started < 5


def test_a_closed_socket_frees_its_slot(live, room, wait_for):
    course, _, learner, _ = room
    ws = live.connect(learner, course.id)
    joined(ws)
    assert open_slots(live, learner) == 1
    ws.close()
    wait_for(lambda: open_slots(live, learner) == 0, what="the slot freed")


def test_slots_whose_heartbeat_stopped_lapse(live, ctx):
    """A process that died without saying goodbye: its slots stop counting."""
    user = factories.make_user()
    now = 1_000_000.0
    connections.open_connection(user.id, None, limit=0, ttl=75, now=now)  # never renewed
    fresh = connections.open_connection(user.id, None, limit=0, ttl=75, now=now + 60)
    connections.renew(fresh, ttl=75, now=now + 70)
    assert connections.open_count(user.id, now=now + 70) == 2
    connections.open_connection(user.id, None, limit=0, ttl=75, now=now + 100)
    assert connections.open_count(user.id, now=now + 100) == 2  # the first lapsed at now + 75


def test_the_revocation_event_becomes_one_message_on_the_users_channel(live, ctx):
    """The payload every process acts on (the event is the contract with accounts)."""
    user = factories.make_user()
    with bus(live.app).subscribe([user_notify(user.id)]) as sub:
        sub.done()
        revoke(user, [3, 4])
        assert sub.get(timeout=5) == {"type": "session.end", "session_ids": [3, 4]}
        revoke(user, None)
        assert sub.get(timeout=5) == {"type": "session.end", "session_ids": None}


def test_which_control_events_end_a_connection():
    opened_by_7 = connections.LiveConnection(user_id=1, session_id=7)
    before_sessions = connections.LiveConnection(user_id=1, session_id=None)
    end = {"type": "session.end", "session_ids": [7, 8]}
    assert opened_by_7.ended_by(end) and not before_sessions.ended_by(end)
    assert opened_by_7.ended_by({"type": "session.end", "session_ids": None})
    assert before_sessions.ended_by({"type": "session.end"})  # a suspension: every connection
    assert not opened_by_7.ended_by({"type": "session.end", "session_ids": [8]})
    assert opened_by_7.ended_by({"type": "connection.evicted", "connection_ids": [opened_by_7.id]})
    assert not opened_by_7.ended_by({"type": "connection.evicted", "connection_ids": [before_sessions.id]})
    assert not opened_by_7.ended_by({"type": "notification", "id": 1})


# --- API tokens instead of a session (issue 16): the stream and the room socket -------------

API_STREAM = "/api/v1/notifications/stream"


def bearer(user, *scopes: str) -> dict:
    """`Authorization` for a new API token of `user` (default scopes: every plain one)."""
    with server_side_write():
        secret = token_for(_db.session.merge(user), *scopes)
    return {"Authorization": f"Bearer {secret}"}


def token_row(headers: dict) -> ApiToken:
    secret = headers["Authorization"].removeprefix("Bearer ")
    return _db.session.query(ApiToken).filter_by(token_hash=api_tokens.hash_secret(secret)).one()


def api_stream(live, headers: dict, path: str = API_STREAM) -> EventStream:
    opened = EventStream("127.0.0.1", live.port, path, headers=headers, timeout=10)
    assert opened.status == 200, opened.response.read()
    assert opened.headers["content-type"].startswith("text/event-stream")
    return opened


def stream_closed(opened: EventStream) -> None:
    """The server ends it for good, saying so (`stream-closed`), and then closes it."""
    assert opened.next(timeout=5).name == "stream-closed"
    assert opened.next(timeout=5) is None


def test_a_token_opens_the_notification_stream_and_gets_json_events(live, room):
    _, _, learner, _ = room
    opened = api_stream(live, bearer(learner, "read"))
    try:
        with server_side_write():
            note = notify(_db.session.merge(learner), "welcome", name="Lena")
        event = opened.wait_for(lambda e: e.name == "notification", timeout=5)
        assert event.id == str(note.id)
        body = json.loads(event.data)
        assert body["notification"]["id"] == note.id and body["notification"]["kind"] == "welcome"
        assert body["unread_count"] == 1
    finally:
        opened.close()


def test_a_token_opens_the_room_socket_with_the_same_membership_rules(live, room):
    course, creator, learner, _ = room
    ws = live.open_ws(f"/ws/chat/{course.id}", bearer(learner, "learn"))
    try:
        joined(ws)
        settled(ws)  # it posts as the token's user
        still_receives(ws, live, creator, course)
    finally:
        ws.close()
    with server_side_write():
        outsider = factories.make_user()
    refused = live.open_ws(f"/ws/chat/{course.id}", bearer(outsider, "learn"))
    exc = closed_with(refused)
    assert exc.reason == 1008 and "learners" in exc.message


def test_a_handshake_with_a_bad_token_or_without_learn_is_refused(live, room):
    course, _, learner, _ = room
    path = f"/ws/chat/{course.id}"
    for headers, status in (({"Authorization": "Bearer lyc_pat_" + "x" * 43}, 401),
                            ({"Authorization": "Basic dXNlcjpwYXNz"}, 401),
                            (bearer(learner, "read"), 403)):
        with pytest.raises(HandshakeRefused) as refused:
            live.open_ws(path, {**headers, "Cookie": live.cookie_for(_db.session.merge(learner))})
        assert refused.value.status_code == status  # a cookie beside it does not help


def test_revoking_a_token_closes_what_it_opened_and_nothing_else(live, room):
    course, creator, learner, _ = room
    headers = bearer(learner)
    ws, stream_ = live.open_ws(f"/ws/chat/{course.id}", headers), api_stream(live, headers)
    other_token = bearer(learner)
    kept_ws, kept_stream = live.open_ws(f"/ws/chat/{course.id}", other_token), api_stream(live, other_token)
    session_ws = live.connect(learner, course.id)
    try:
        for socket_ in (ws, kept_ws, session_ws):
            settled(socket_)
        with server_side_write():
            api_tokens.revoke_token(_db.session.merge(learner), token_row(headers).id)
        exc = closed_with(ws)
        assert exc.reason == 1008 and "token was revoked" in exc.message
        stream_closed(stream_)
        for socket_ in (kept_ws, session_ws):
            still_receives(socket_, live, creator, course)
        with server_side_write():
            note = notify(_db.session.merge(learner), "welcome", name="still here")
        assert kept_stream.wait_for(lambda e: e.id == str(note.id), timeout=5)
    finally:
        for item in (kept_ws, session_ws):
            item.close()
        for item in (stream_, kept_stream):
            item.close()


@pytest.mark.real_services
def test_revoking_a_token_here_closes_its_socket_and_stream_on_another_process(live, room, second_process):
    course, _, learner, _ = room
    headers = bearer(learner)
    ws = live.open_ws(f"/ws/chat/{course.id}", headers, port=second_process)
    opened = EventStream("127.0.0.1", second_process, API_STREAM, headers=headers, timeout=10)
    try:
        assert opened.status == 200
        joined(ws)
        with server_side_write():  # emitted and published here
            api_tokens.revoke_token(_db.session.merge(learner), token_row(headers).id)
        assert closed_with(ws).reason == 1008
        stream_closed(opened)
    finally:
        opened.close()


def test_ending_every_session_leaves_token_connections_open(live, room):
    """A password change or "log out everywhere" ends sessions, not tokens (api_tokens.py)."""
    course, creator, learner, _ = room
    headers = bearer(learner)
    ws, stream_ = live.open_ws(f"/ws/chat/{course.id}", headers), api_stream(live, headers)
    session_ws = live.connect(learner, course.id)
    try:
        settled(ws)
        settled(session_ws)
        with server_side_write():
            sessions.end_all_sessions(_db.session.merge(learner))
        assert closed_with(session_ws).reason == 1008
        still_receives(ws, live, creator, course)
        with server_side_write():
            note = notify(_db.session.merge(learner), "welcome", name="still here")
        assert stream_.wait_for(lambda e: e.id == str(note.id), timeout=5)
    finally:
        ws.close()
        stream_.close()


def test_suspending_the_user_closes_their_token_connections(live, room):
    course, _, learner, _ = room
    headers = bearer(learner)
    ws, stream_ = live.open_ws(f"/ws/chat/{course.id}", headers), api_stream(live, headers)
    with server_side_write():
        admin = factories.make_user(permissions=("manage_users",))
    try:
        settled(ws)
        with server_side_write():
            suspend_user(_db.session.merge(admin), _db.session.merge(learner), reason="spam")
        assert closed_with(ws).reason == 1008
        stream_closed(stream_)
        with pytest.raises(HandshakeRefused) as refused:  # and cannot come back
            live.open_ws(f"/ws/chat/{course.id}", headers)
        assert refused.value.status_code == 403
    finally:
        stream_.close()


def test_a_token_expiring_closes_what_it_opened(live, room):
    course, _, learner, _ = room
    headers = bearer(learner)
    with server_side_write():
        token_row(headers).expires_at = utcnow() + timedelta(seconds=2)
    ws, stream_ = live.open_ws(f"/ws/chat/{course.id}", headers), api_stream(live, headers)
    try:
        joined(ws)
        exc = closed_with(ws, timeout=6)
        assert exc.reason == 1008 and "expired" in exc.message
        stream_closed(stream_)
    finally:
        stream_.close()


def test_a_token_connection_has_a_slot_like_any_other(live, room, wait_for):
    _, _, learner, _ = room
    opened = api_stream(live, bearer(learner, "read"))
    assert open_slots(live, learner) == 1
    opened.close()
    wait_for(lambda: open_slots(live, learner) == 0, what="the slot freed")


def test_which_control_events_end_a_token_connection():
    by_token = connections.LiveConnection(user_id=1, session_id=None, token_id=5, expires_at=1000.0)
    assert by_token.ended_by({"type": "tokens.end", "token_ids": [5]})
    assert by_token.ended_by({"type": "tokens.end", "token_ids": None})  # a suspension
    assert not by_token.ended_by({"type": "tokens.end", "token_ids": [6]})
    assert not by_token.ended_by({"type": "session.end", "session_ids": None})  # sessions are not tokens
    assert not by_token.ended_by({"type": "session.end"})
    assert by_token.ended_by({"type": "connection.evicted", "connection_ids": [by_token.id]})
    by_session = connections.LiveConnection(user_id=1, session_id=7)
    assert not by_session.ended_by({"type": "tokens.end", "token_ids": None})
    assert not by_token.expired(999.0) and by_token.expired(1000.0) and not by_session.expired(10**12)
    assert by_token.wait_at_most(25, now=990.0) == 10 and by_session.wait_at_most(25, now=990.0) == 25
    assert by_token.wait_at_most(25, now=2000.0) == 0.01
