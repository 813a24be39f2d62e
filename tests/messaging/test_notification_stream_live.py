"""The notification stream against a real server (werkzeug, threaded), read as raw HTTP:
there the bus's listener writes caught-up streams' events straight to the socket, framed
as HTTP/1.1 chunks, and a client that falls behind gets the rest from the stream's loop.
Every event must arrive whole, once, in order."""
from __future__ import annotations

import re
import socket
import threading
import time

import pytest

from app.extensions import db as _db
from app.learning.enrollment import enroll
from app.messaging.bus import Subscription
from app.messaging.notifications import notify
from app.messaging.transport.sse import SSEEvent, StreamWriter
from tests import factories
from tests.support.live import frames, server_side_write

# No per-test rollback: the server's threads must see committed rows.
pytestmark = pytest.mark.committed


def open_stream(live, user, after: int = 0, *, cookie: str | None = None) -> socket.socket:
    cookie = cookie or live.cookie_for(_db.session.merge(user))
    sock = socket.create_connection(("127.0.0.1", live.port), timeout=10)
    sock.sendall((f"GET /notifications/stream?after={after} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                  f"Accept: text/event-stream\r\nCookie: {cookie}\r\n\r\n").encode())
    return sock


def read_events(sock: socket.socket, *, until_id: int, timeout: float = 10) -> tuple[bytes, list[int]]:
    """Decode the chunked body until the event `until_id` arrived; returns the body and the
    event ids in order of arrival."""
    chunks: list[bytes] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        chunks.append(sock.recv(1 << 20))
        raw = b"".join(chunks)
        head, _, body = raw.partition(b"\r\n\r\n")
        text = dechunk(body)
        ids = [int(n) for n in re.findall(rb"^id: (\d+)$", text, re.M)]
        if until_id in ids:
            assert b"Transfer-Encoding: chunked" in head
            return text, ids
    raise AssertionError(f"event {until_id} did not arrive: {raw[-300:]!r}")


def dechunk(body: bytes) -> bytes:
    out, at = [], 0
    while at < len(body):
        end = body.find(b"\r\n", at)
        if end < 0:
            break
        size = int(body[at:end], 16)
        if len(body) < end + 2 + size + 2:
            break
        assert body[end + 2 + size:end + 4 + size] == b"\r\n", "a chunk was cut or interleaved"
        out.append(body[end + 2:end + 2 + size])
        at = end + 4 + size
    return b"".join(out)


def test_live_notifications_arrive_whole_once_and_in_order(live, ctx):
    user = factories.make_user()
    _db.session.commit()
    sock = open_stream(live, user)
    try:
        time.sleep(0.3)  # the stream is open and caught up
        ids = []
        for n in range(5):
            with server_side_write():
                ids.append(notify(_db.session.merge(user), "welcome", name=f"n{n}").id)
        text, got = read_events(sock, until_id=ids[-1])
    finally:
        sock.close()
    assert got == ids
    assert text.count(b"event: notification") == 5 and b'id="toast-' in text


def test_a_stream_that_falls_behind_gets_every_event_whole_and_in_order(live, ctx):
    user = factories.make_user()
    _db.session.commit()
    sock = open_stream(live, user)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    try:
        time.sleep(0.3)
        ids = []
        with server_side_write():
            for n in range(150):  # ~300 KB of toasts that nobody reads for a while
                ids.append(notify(_db.session.merge(user), "welcome", name=f"{n:03d} " + "y" * 1800).id)
        time.sleep(0.5)
        _, got = read_events(sock, until_id=ids[-1], timeout=20)
    finally:
        sock.close()
    assert got == ids


def test_a_write_cut_short_is_finished_before_anything_else():
    """The listener's non-blocking write can be cut short by a full socket buffer: the rest
    is queued first and the stream's loop sends it before any later event."""

    class NoBus:
        def unsubscribe(self, sub):
            pass

    server, client = socket.socketpair()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    client.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sub = Subscription(NoBus(), ("x",))
    state = StreamWriter(0, sub)
    state.raw = server
    sub.done()
    sub.fast = lambda event: state.fast(event, lambda e: [SSEEvent("notification", e["html"], id=e["id"])],
                                        lambda e: False)
    big = "z" * 200_000
    sub.put({"type": "notification", "id": 1, "html": big})  # cannot all fit: the rest is queued
    sub.put({"type": "notification", "id": 2, "html": "second"})  # queued behind it
    rest = sub.get(timeout=1)
    assert rest["type"] == "local.raw"
    received = []

    def drain():
        while True:
            data = client.recv(1 << 16)
            if not data:
                return
            received.append(data)

    reader = threading.Thread(target=drain)
    reader.start()
    server.sendall(rest["data"])  # what the stream's loop does with it
    sub.done()
    second = sub.get(timeout=1)
    assert second["id"] == 2
    server.sendall(SSEEvent("notification", second["html"], id=2).encode().encode())  # via the server: unchunked
    server.shutdown(socket.SHUT_WR)
    reader.join(timeout=5)
    body = b"".join(received)
    text = dechunk(body[:body.rindex(b"event: notification")])
    assert text.count(b"z") == 200_000 and text.startswith(b"event: notification\nid: 1\n")
    assert body.endswith(b"id: 2\ndata: second\n\n")
    server.close()
    client.close()


def test_idle_sockets_and_streams_hold_no_database_connection(live, ctx, wait_for):
    """Thousands of idle chat sockets and event streams must not pin the connection pool."""
    import json

    course_owner, learner = factories.make_user(), factories.make_user()
    course = factories.make_course(course_owner, status="published")
    enroll(learner, course)
    _db.session.commit()
    course_id = course.id
    cookie = live.cookie_for(learner)
    _db.session.remove()  # this test's own session holds nothing either
    engine = _db.engine
    assert engine.pool.checkedout() == 0
    streams = [open_stream(live, None, cookie=cookie) for _ in range(3)]
    sockets = []
    try:
        for sock in streams:  # each stream has started (and then loads its backlog)
            received = b""
            while b"retry: 3000" not in received:
                received += sock.recv(4096)
        wait_for(lambda: engine.pool.checkedout() == 0, what="idle event streams giving their connections back")
        sockets = [live.open_ws(f"/ws/chat/{course_id}", {"Cookie": cookie}) for _ in range(3)]
        for n, ws in enumerate(sockets):  # each socket is open and has stored a message
            ws.send(json.dumps({"body": f"hello {n}"}))
            frames(ws, until=r'data-sent="\d+"')
        wait_for(lambda: engine.pool.checkedout() == 0, what="idle room sockets giving their connections back")
    finally:
        for ws in sockets:
            ws.close()
        for sock in streams:
            sock.close()
