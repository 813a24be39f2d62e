"""WebSocket writing for the course chat sockets (RFC 6455): close codes, text frames built
once for many sockets, and `WebSocketWriter`, every write to one flask-sock socket.

A flask-sock socket is simple-websocket's `Server`: `ws.send`/`ws.close` encode through
wsproto and write to `ws.sock`, the connection's socket. With the fast path on (the
package's docstring), a chat message's frame is built here once per message and variant and
written to `ws.sock` as is; with it off, every write is `ws.send`/`ws.close`.
"""
from __future__ import annotations

import threading

from simple_websocket import ConnectionClosed

from app.messaging.transport.sockets import os_socket, send_now

POLICY_VIOLATION = 1008  # the socket closes because the user may not be here
INTERNAL_ERROR = 1011
SERVICE_RESTART = 1012  # the server is going away; htmx's ws extension reconnects


def close_reason(text: str) -> str:
    """A close frame's reason holds at most 123 bytes of UTF-8."""
    return text.encode()[:123].decode(errors="ignore")


def text_frame(text: str) -> bytes:
    """One unmasked, uncompressed WebSocket text frame (RFC 6455 §5.2): built once per
    message and variant and written as is to every socket that gets that variant.
    (Uncompressed frames are valid with permessage-deflate too: RSV1 stays 0.)"""
    payload = text.encode()
    n = len(payload)
    if n < 126:
        head = bytes((0x81, n))
    elif n < 65536:
        head = bytes((0x81, 126)) + n.to_bytes(2, "big")
    else:
        head = bytes((0x81, 127)) + n.to_bytes(8, "big")
    return head + payload


class WebSocketWriter:
    """The writes to one socket. They may come from two threads (the socket's sender and,
    on the fast path, the bus's listener), so the caller holds `lock` around each write and
    whatever bookkeeping must go with it (the last message id sent); no method takes it.

    `fast`: frames may be written to the socket directly (`send_frame`, `write_now`,
    `finish`); without it only `send_text` and `close` write, through simple-websocket."""

    def __init__(self, ws, *, fast: bool):
        self.ws = ws
        self.fast = fast
        self.lock = threading.Lock()
        self._raw = os_socket(ws.sock) if fast else None

    def send_text(self, text: str) -> None:
        self.ws.send(text)

    def send_frame(self, frame: bytes) -> None:
        """A frame from `text_frame`, whole (blocking until it is written)."""
        self.ws.sock.sendall(frame)

    def write_now(self, frame: bytes) -> bytes | None:
        """Write what fits without blocking: the rest that did not (b"" if none; to go out
        with `finish` before anything else), or None if the connection failed."""
        sent = send_now(self._raw, frame)
        return None if sent is None else frame[sent:]

    def finish(self, rest: bytes) -> None:
        """The rest of a frame `write_now` began."""
        self.ws.sock.sendall(rest)

    def close(self, code: int, reason: str) -> None:
        """Send the close frame (nothing if the socket is closed already)."""
        try:
            self.ws.close(reason=code, message=close_reason(reason))
        except ConnectionClosed:
            pass

    def wake_receiver(self) -> None:
        """Wake the request's receive loop (`ws.receive()` blocks until a frame arrives):
        simple-websocket sets this event when the peer sends or hangs up, not when we
        close the socket ourselves."""
        self.ws.event.set()
