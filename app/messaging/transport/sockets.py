"""A live client's OS socket, below the WSGI server and the WebSocket library.

The WSGI servers hand the connection's socket to the application in the environ (gunicorn as
`gunicorn.socket`, werkzeug as `werkzeug.socket`: the keys simple-websocket reads too); under
gevent that is a cooperative wrapper around the OS socket (`_sock`). The fast path writes to
the OS socket with a non-blocking send (`send_now`); a stream's hang-up watch peeks at it.
"""
from __future__ import annotations

import _socket
import select
import socket
from collections.abc import Callable


def client_socket(environ: dict):
    """The connection's socket as the WSGI server exposes it, or None."""
    return environ.get("gunicorn.socket") or environ.get("werkzeug.socket")


def os_socket(sock):
    """The OS socket itself: gevent's socket wraps it (`_sock`), a plain one is its own."""
    return getattr(sock, "_sock", sock)


def send_now(raw, data: bytes) -> int | None:
    """Write what fits in the socket's buffer without blocking (even under gevent, whose
    socket would wait): how many bytes went (0: the buffer is full), None if the connection
    failed (whoever writes next meets the error and ends it)."""
    try:
        return _socket.socket.send(raw, data, socket.MSG_DONTWAIT)
    except BlockingIOError:
        return 0
    except OSError:
        return None


def watch_for_hangup(client, *, period: float, stopped: Callable[[], bool],
                     hung_up: Callable[[], None]) -> None:
    """Call `hung_up()` as soon as the client closes its end (run in a thread, or a greenlet
    under gevent, asleep on the socket), until `stopped()`. For a client that sends nothing
    after its request (an SSE client): its socket turns readable only when it closes;
    anything else it sends is left alone (the heartbeat's write finds a dead peer)."""
    raw = os_socket(client)
    try:
        poller = select.poll()  # not select(): no limit on descriptor numbers (gevent: cooperative)
        poller.register(client, select.POLLIN)
    except (OSError, ValueError):
        return
    while not stopped():
        try:
            ready = poller.poll(period * 1000)
        except (OSError, ValueError):  # the server closed the socket: the stream is over
            return
        if stopped():
            return
        if not ready:
            continue
        try:
            data = _socket.socket.recv(raw, 1, socket.MSG_PEEK | socket.MSG_DONTWAIT)
        except BlockingIOError:
            continue
        except OSError:
            data = b""
        if data:
            return
        hung_up()
        return
