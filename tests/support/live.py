"""A real server (werkzeug, threaded) for the socket and stream tests, how to sign in and connect
to it (with the one WebSocket client of tests/support/websockets.py), and writes made beside it."""
from __future__ import annotations

import logging
import re
import socket
import threading
import time
from contextlib import contextmanager

from flask import has_app_context
from werkzeug.serving import make_server

from app.dbtypes import writing
from app.extensions import db as _db
from app.messaging import chat
from tests.support.apps import build_app, sign_in_client
from tests.support.websockets import WsClient


class Live:
    def __init__(self, app, port: int):
        self.app, self.port = app, port

    def ws_url(self, path: str) -> str:
        return f"ws://127.0.0.1:{self.port}{path}"

    def sign_in(self, user) -> tuple[str, int]:
        """A real server-side session for `user` (what a log-in starts): its session cookie,
        and its id, which connections opened with the cookie keep (`current_user.session_id`)."""
        if has_app_context():
            # Signing in commits a session row from another connection: end this thread's
            # read snapshot first, or its next write is refused (SQLite WAL: "locked").
            _db.session.commit()
        with self.app.app_context():
            # No SELECT first: the INSERT opens the transaction, so SQLite waits for a server
            # thread's write (a socket being set up) instead of refusing to upgrade a read.
            user = _db.session.merge(user, load=False)
            client = self.app.test_client()
            sign_in_client(client, user)
            return f"session={client.get_cookie('session').value}", user.session_id

    def cookie_for(self, user) -> str:
        return self.sign_in(user)[0]

    def open_ws(self, path: str, headers: dict | None = None, *, port: int | None = None) -> WsClient:
        """A socket to `path` on this server (or the app on `port`), sending `Host: 127.0.0.1`
        without the port, as these tests always have (their own-origin case is written for it)."""
        return WsClient.connect(f"ws://127.0.0.1:{port or self.port}{path}", headers=headers or {},
                                host="127.0.0.1")

    def connect(self, user, course_id: int, after: int | None = None, *,
                cookie: str | None = None, headers: dict | None = None) -> WsClient:
        query = f"?after={after}" if after is not None else ""
        return self.open_ws(f"/ws/chat/{course_id}{query}",
                            {"Cookie": cookie or self.cookie_for(user), **(headers or {})})

    def open_stream(self, path: str, cookie: str) -> socket.socket:
        """An event stream read as raw HTTP (`path`: /notifications/stream?…)."""
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=10)
        sock.sendall((f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                      f"Accept: text/event-stream\r\nCookie: {cookie}\r\n\r\n").encode())
        return sock


def serve(app):
    """Serve `app` on a free port in a thread; returns (port, stop)."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()

    def stop():
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()

    return server.server_port, stop


@contextmanager
def live_server_on_own_database():
    """A `Live` server on an app and database of its own (committed data), quiet in the log;
    stopped and dropped at the end (the module-scoped `live` fixtures)."""
    app, teardown = build_app()
    level = logging.getLogger("werkzeug").level
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    port, stop = serve(app)
    try:
        yield Live(app, port)
    finally:
        stop()
        logging.getLogger("werkzeug").setLevel(level)
        teardown()


@contextmanager
def server_side_write():
    """A write by the test beside the live server, committed at the end. It starts a new
    transaction that declares it writes (`dbtypes.writing`): on SQLite one that had read
    first could not wait for a server thread's write lock when it came to write, and failed
    with "database is locked" on a busy machine."""
    _db.session.commit()
    with writing():
        yield
        _db.session.commit()


def say(actor, course, body: str) -> int:
    """Post a chat message as the server would (its own write transaction); its id."""
    with server_side_write():
        message = chat.post_message(_db.session.merge(actor), _db.session.merge(course), body)
    return message.id


def message_ids(data: list[str]) -> list[int]:
    """The chat message ids in received room-socket frames, in order."""
    return [int(n) for chunk in data for n in re.findall(r'<li id="m-(\d+)"', chunk)]


def frames(ws, *, until, timeout: float = 5.0) -> list[str]:
    """Frames received until one matches `until` (a regex), or fail after `timeout`."""
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        data = ws.receive(timeout=max(deadline - time.monotonic(), 0.01))
        if data is None:
            break
        seen.append(data)
        if re.search(until, data):
            return seen
    raise AssertionError(f"no frame matching {until!r} in {seen!r}")

