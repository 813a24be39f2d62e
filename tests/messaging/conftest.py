"""A real server (werkzeug, threaded) for the socket and stream tests, and a WebSocket
client that reads what the server sent together with its handshake reply.

The server has its own app and database (as the browser tests do): its requests commit for
real, so modules using it turn the suite's per-test rollback off and make their own users."""
from __future__ import annotations

import logging
import socket
import threading
import time
from contextlib import contextmanager

import pytest
import simple_websocket
from flask import got_request_exception, has_app_context, request, request_tearing_down
from werkzeug.serving import make_server

from app.dbtypes import writing
from app.extensions import db as _db
from tests.support.apps import app_in_another_process, build_app, sign_in_client


class WsClient(simple_websocket.Client):
    """simple-websocket's client, minus one race: when the server's first frames (say, a
    close right after accepting) arrive in the same read as its handshake reply, the
    library keeps them buffered and never looks at them, so the socket seems to drop
    without a close frame (1005). A browser reads them; so does this client."""

    def _thread(self):
        if self.connected:
            self.connected = self._handle_events()
        if not self.connected:
            self.event.set()
            self.sock.close()
            return
        super()._thread()


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
        return WsClient.connect(f"ws://127.0.0.1:{port or self.port}{path}", headers=headers or {})

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


@pytest.fixture(scope="module")
def live():
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


@pytest.fixture
def ctx(live):
    with live.app.app_context():
        yield
        _db.session.remove()


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


@pytest.fixture
def wait_for():
    """`wait_for(condition, timeout=5, what=...)`: poll until `condition()` is true, or fail."""

    def wait(condition, timeout: float = 5.0, what: str = "the condition"):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = condition()
            if value:
                return value
            time.sleep(0.02)
        raise AssertionError(f"{what} did not happen within {timeout} s")

    return wait


class ServerRequests:
    """The live server's requests that ended, and the exceptions they raised."""

    def __init__(self):
        self.ended: list[str] = []
        self.errors: list[BaseException] = []

    def on_error(self, sender, exception, **extra):
        self.errors.append(exception)

    def on_end(self, sender, **extra):
        self.ended.append(request.path)


@pytest.fixture
def server_requests(live):
    """Records the live app's finished requests and their exceptions (Flask's signals)."""
    seen = ServerRequests()
    got_request_exception.connect(seen.on_error, live.app)
    request_tearing_down.connect(seen.on_end, live.app)
    try:
        yield seen
    finally:
        got_request_exception.disconnect(seen.on_error, live.app)
        request_tearing_down.disconnect(seen.on_end, live.app)


@pytest.fixture
def second_process(live):
    """The port of another app process on the live app's database and Redis (real services:
    two processes share pub/sub only through a real Redis)."""
    with app_in_another_process(live.app.config) as other:
        yield other.port
