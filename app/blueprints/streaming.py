"""Server-sent event streams over the bus: the one way a page gets live HTML fragments.

`event_stream` subscribes to the channels FIRST, then loads what the client missed
(`backlog(after_id)`), then relays live events — so nothing published in between is lost —
and skips any event it already sent (an id not above the last one). While waiting it holds
no database connection and sends a comment every `heartbeat` seconds so proxies keep the
connection open. The browser's EventSource reconnects by itself with `Last-Event-ID`.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator

from flask import Response, current_app, request, stream_with_context

from app.accounts.scopes import Grant
from app.extensions import db
from app.messaging import connections
from app.messaging.bus import bus
from app.messaging.connections import LiveConnection
from app.messaging.transport import fast_path_on
from app.messaging.transport.sockets import client_socket, watch_for_hangup
from app.messaging.transport.sse import (
    CLOSED_EVENT,
    HEARTBEAT,
    HEARTBEAT_SECONDS,
    MAX_EVENT_ID,
    RETRY,
    SSEEvent,
    StreamWriter,
)
from app.observability.metrics import EVENT_STREAM, connection_closed, connection_opened

SLOT_HEARTBEATS = 3  # a connection's slot lapses after this many heartbeats without renewal


def resume_id() -> int | None:
    """Where the client left off: `Last-Event-ID` (a reconnect) or `?after=` (the page's
    newest item when it was rendered). Anything unreadable starts the stream fresh."""
    raw = request.headers.get("Last-Event-ID") or request.args.get("after") or ""
    try:
        value = int(raw.strip())
    except ValueError:
        return None
    return value if 0 <= value <= MAX_EVENT_ID else None


def open_live_connection(user_id: int, session_id: int | None, *, heartbeat: float,
                         grant: Grant | None = None) -> LiveConnection:
    """Count a new socket or stream of the user against LIVE_CONNECTIONS_PER_USER (the
    oldest beyond it close, on whichever process holds them). `grant`: opened with an API
    token (rather than a session), so it ends when the token is revoked or expires."""
    return connections.open_connection(
        user_id, session_id, limit=current_app.config.get("LIVE_CONNECTIONS_PER_USER", 10),
        ttl=SLOT_HEARTBEATS * heartbeat, now=time.time(),
        token_id=grant.token_id if grant is not None else None,
        expires_at=grant.expires_at.timestamp() if grant is not None and grant.expires_at else None)


def release_db() -> None:
    """Give the connection back to the pool before a long wait (ARCHITECTURE §5)."""
    db.session.remove()


def event_stream(channels: Iterable[str], *,
                 backlog: Callable[[int | None], list[SSEEvent]],
                 render: Callable[[dict], list[SSEEvent]],
                 after: int | None = None,
                 heartbeat: float | None = None,
                 is_over: Callable[[dict], bool] | None = None,
                 render_is_pure: bool = False,
                 user_id: int | None = None,
                 session_id: int | None = None,
                 grant: Grant | None = None) -> Response:
    """A `text/event-stream` response relaying `channels`.

    `backlog(after_id)` returns the stored events after an id (in id order); `render(event)`
    turns one bus event into zero or more SSE events; `is_over(event)` ends the stream
    (e.g. the user was suspended).

    `user_id`/`session_id`: whose stream it is and the session it was opened by. The stream
    then counts against the user's cap (the oldest beyond it is closed), ends when that
    session is revoked (connections.py), and is let go as soon as the client hangs up: a
    watcher waits for the client's socket to turn readable (an idle SSE client sends
    nothing, so readable means closed), rather than for the next heartbeat's failed write.
    `grant`: the stream is an API client's, opened with a bearer token instead of a session:
    it ends when that token is revoked (or its user suspended) and when it expires.

    `render_is_pure`: `render` needs neither the database nor the request (it relays HTML
    rendered where the event was published). Then, while the stream is caught up and the
    fast path is on (LIVE_FAST_PATH; app/messaging/transport/), the bus's listener writes
    each event straight to the client's socket with one non-blocking send, framed as the
    server frames the response (HTTP/1.1 chunks) — 5,000 streams take 5,000 sends rather
    than 5,000 thread wake-ups through the WSGI layers. Whatever cannot go at once (a full
    buffer, a backlog being sent, a heartbeat in flight) waits in the queue and the stream's
    own loop sends it, in order."""
    heartbeat = heartbeat or current_app.config.get("SSE_HEARTBEAT_SECONDS", HEARTBEAT_SECONDS)
    sub = bus().subscribe(channels)
    conn = None
    if user_id is not None:
        conn = open_live_connection(user_id, session_id, heartbeat=heartbeat, grant=grant)
        is_over = conn.ended_by if is_over is None else _either(conn.ended_by, is_over)
    is_over = is_over or _never
    client = client_socket(request.environ)
    state = StreamWriter(after, sub, client)
    app = current_app._get_current_object()
    if render_is_pure and client is not None and fast_path_on(app.config):
        state.write_from_listener(render, is_over, chunked=request.environ.get("SERVER_PROTOCOL") == "HTTP/1.1")

    def end() -> None:
        """Once, however the stream ends (also if the server never started it)."""
        if state.ended:
            return
        state.ended = state.closed = True
        connection_closed(EVENT_STREAM)
        sub.close()
        if conn is not None:
            with app.app_context():
                connections.close_connection(conn)

    @stream_with_context
    def generate() -> Iterator[str]:
        try:
            yield RETRY
            if conn is not None and client is not None:
                threading.Thread(target=watch_for_hangup, args=(client,), daemon=True, name="sse-client-watch",
                                 kwargs={"period": heartbeat, "stopped": lambda: state.closed,
                                         "hung_up": sub.close}).start()
            renew_at = time.monotonic() + heartbeat
            pending = backlog(state.last)
            release_db()
            while True:
                for item in pending:
                    if state.is_new(item):
                        with state.lock:  # held while the server writes it
                            yield item.encode()
                sub.done()  # from here the listener may write to the client itself
                event = sub.get(timeout=conn.wait_at_most(heartbeat, time.time()) if conn else heartbeat)
                if conn is not None and conn.expired(time.time()):  # its API token
                    with state.lock:
                        yield CLOSED_EVENT
                    return
                if conn is not None and time.monotonic() >= renew_at:  # also while busy
                    renew_at = time.monotonic() + heartbeat
                    connections.renew(conn, ttl=SLOT_HEARTBEATS * heartbeat, now=time.time())
                if event is None:
                    if sub.closed:
                        return
                    with state.lock:
                        yield HEARTBEAT
                    pending = []
                    continue
                kind = event.get("type")
                if kind == "bus.closed":
                    return
                if is_over(event):
                    with state.lock:
                        yield CLOSED_EVENT
                    return
                if kind == "local.raw":  # the rest of what the listener began to write
                    with state.lock:
                        state.finish(event["data"])
                    pending = []
                    continue
                pending = backlog(state.last) if kind == "bus.resync" else render(event)
                release_db()
        finally:
            end()
            release_db()

    connection_opened(EVENT_STREAM)  # closed once, by end(), however the stream ends
    response = Response(generate(), mimetype="text/event-stream")
    response.call_on_close(end)
    response.headers["Cache-Control"] = "no-cache, no-transform"
    response.headers["X-Accel-Buffering"] = "no"  # nginx: pass each event on at once
    return response


def _never(event: dict) -> bool:
    return False


def _either(first: Callable[[dict], bool], second: Callable[[dict], bool]) -> Callable[[dict], bool]:
    return lambda event: first(event) or second(event)
