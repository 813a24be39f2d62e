"""Writing to live clients (ARCHITECTURE §5): WebSocket frames to course chat sockets
(`websocket`) and server-sent events to notification and direct-message streams (`sse`),
shared by the chat and notification blueprints, which keep only the HTTP and socket
adaptation (routes, the Flask response, who may listen).

The fast path: while a socket or stream is idle and caught up, the bus's listener writes a
ready event straight to the client's OS socket with one non-blocking send (`sockets`),
instead of waking the connection's own thread — 5,000 streams take 5,000 sends, not 5,000
thread wake-ups through the WSGI layers — and a chat message's WebSocket frame is built once
per message and variant and written as is to every socket that gets it. That means reaching
below the libraries: the socket gunicorn or werkzeug puts in the WSGI environ, the one under
simple-websocket's `ws.sock`, the one under gevent's wrapper. Everything that does is in this
package.

`LIVE_FAST_PATH=false` turns it off: a room socket is then written only through
simple-websocket's `ws.send`/`ws.close` (flask-sock) and a stream only by what its Flask
streaming response yields. Two things below the libraries stay in both modes, because they
write nothing: waking a room socket's receive loop when the server closes it
(`WebSocketWriter.wake_receiver`), and watching a stream's socket for the client hanging up
(`sockets.watch_for_hangup`), which frees its connection slot at once.
"""
from __future__ import annotations

from collections.abc import Mapping


def fast_path_on(config: Mapping) -> bool:
    """Whether the listener may write to clients' sockets itself (LIVE_FAST_PATH)."""
    return bool(config.get("LIVE_FAST_PATH", True))
