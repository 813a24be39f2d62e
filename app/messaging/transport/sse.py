"""Server-sent events (the `text/event-stream` format) and `StreamWriter`, what a stream's
loop and the bus's listener share when both may write to one client.

The stream itself is a Flask streaming response (app/blueprints/streaming.py): its loop
yields encoded events and the WSGI server writes them. On the fast path (the package's
docstring) the listener writes a caught-up stream's events to the client's socket itself,
framed as the server frames the response (HTTP/1.1 chunks).
"""
from __future__ import annotations

import threading
from dataclasses import dataclass

from app.messaging.transport.sockets import os_socket, send_now

HEARTBEAT_SECONDS = 25
MAX_EVENT_ID = 2**63 - 1
RETRY = "retry: 3000\n\n"  # the browser reconnects 3 s after a dropped stream
HEARTBEAT = ": heartbeat\n\n"  # a comment: proxies see traffic, the browser ignores it
# Sent before a stream the server ends for good (session revoked, too many streams): the
# pages' `sse-close="stream-closed"` makes htmx close the EventSource instead of reconnecting.
CLOSED_EVENT = "event: stream-closed\ndata: closed\n\n"


@dataclass(frozen=True)
class SSEEvent:
    name: str  # the htmx `sse-swap` name
    html: str
    id: int | None = None  # ordered ids are resumable; events without one (receipts) are not

    def encode(self) -> str:
        """The event as the stream sends it: one `data:` line per line of the HTML (SSE ends
        lines at CR, LF or CRLF; one trailing line end is dropped, the client adds none)."""
        data = self.html
        if "\r" in data:
            data = data.replace("\r\n", "\n").replace("\r", "\n")
        if data.endswith("\n"):
            data = data[:-1]
        head = f"event: {self.name}\n" if self.id is None else f"event: {self.name}\nid: {self.id}\n"
        # One replace, not a split and a join: this runs once per event and open stream.
        return head + "data: " + data.replace("\n", "\ndata: ") + "\n\n"


def http_chunk(data: bytes) -> bytes:
    """`data` as one HTTP/1.1 chunk (gunicorn and werkzeug chunk a streamed response alike)."""
    return b"%x\r\n%s\r\n" % (len(data), data)


class StreamWriter:
    """What a stream's loop and the listener's fast path share: the last id sent, and a
    lock held while either writes to the client (the loop holds it across each `yield`,
    so a write the server is doing for it is never interleaved with the listener's).

    `client`: the connection's socket (sockets.client_socket), or None; `raw` is set (by
    `write_from_listener`) only on the fast path."""

    def __init__(self, after: int | None, sub, client=None):
        self.last = after
        self.sub = sub
        self.client = client
        self.lock = threading.Lock()
        self.closed = False
        self.ended = False
        self.raw = None
        self.chunked = True

    def write_from_listener(self, render, is_over, *, chunked: bool) -> None:
        """Let the bus's listener write this stream's events itself while it is caught up."""
        self.raw = os_socket(self.client)
        self.chunked = chunked
        self.sub.fast = lambda event: self.fast(event, render, is_over)

    def is_new(self, item: SSEEvent) -> bool:
        if item.id is None:
            return True
        if self.last is not None and item.id <= self.last:
            return False
        self.last = item.id
        return True

    def fast(self, event: dict, render, is_over) -> bool:
        """Called by the bus only while the stream is idle and caught up (Subscription.put)."""
        kind = str(event.get("type", ""))
        if self.closed or self.raw is None or is_over(event) or kind.startswith(("bus.", "local.")):
            return False
        if not self.lock.acquire(blocking=False):
            return False
        try:
            data = "".join(item.encode() for item in render(event) if self.is_new(item)).encode()
            if not data:
                return True
            if self.chunked:
                data = http_chunk(data)
            sent = send_now(self.raw, data)
            if sent is None:
                return False  # the loop meets the closed socket on its next write
            if sent < len(data):  # the rest goes first from the loop, everything else after it
                self.sub.put_next({"type": "local.raw", "data": data[sent:]})
            return True
        finally:
            self.lock.release()

    def finish(self, rest: bytes) -> None:
        """From the stream's loop, holding `lock`: the rest of what the listener began."""
        self.client.sendall(rest)
