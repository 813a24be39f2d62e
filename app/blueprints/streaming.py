"""Server-sent event streams over the bus: the one way a page gets live HTML fragments.

`event_stream` subscribes to the channels FIRST, then loads what the client missed
(`backlog(after_id)`), then relays live events — so nothing published in between is lost —
and skips any event it already sent (an id not above the last one). While waiting it holds
no database connection and sends a comment every `heartbeat` seconds so proxies keep the
connection open. The browser's EventSource reconnects by itself with `Last-Event-ID`.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from flask import Response, current_app, request, stream_with_context

from app.extensions import db
from app.messaging.bus import bus

HEARTBEAT_SECONDS = 25
MAX_EVENT_ID = 2**63 - 1


@dataclass(frozen=True)
class SSEEvent:
    name: str  # the htmx `sse-swap` name
    html: str
    id: int | None = None  # ordered ids are resumable; events without one (receipts) are not

    def encode(self) -> str:
        lines = [f"event: {self.name}"]
        if self.id is not None:
            lines.append(f"id: {self.id}")
        lines.extend(f"data: {line}" for line in self.html.splitlines() or [""])
        return "\n".join(lines) + "\n\n"


def resume_id() -> int | None:
    """Where the client left off: `Last-Event-ID` (a reconnect) or `?after=` (the page's
    newest item when it was rendered). Anything unreadable starts the stream fresh."""
    raw = request.headers.get("Last-Event-ID") or request.args.get("after") or ""
    try:
        value = int(raw.strip())
    except ValueError:
        return None
    return value if 0 <= value <= MAX_EVENT_ID else None


def release_db() -> None:
    """Give the connection back to the pool before a long wait (ARCHITECTURE §5)."""
    db.session.remove()


def event_stream(channels: Iterable[str], *,
                 backlog: Callable[[int | None], list[SSEEvent]],
                 render: Callable[[dict], list[SSEEvent]],
                 after: int | None = None,
                 heartbeat: float | None = None,
                 is_over: Callable[[dict], bool] = lambda event: False) -> Response:
    """A `text/event-stream` response relaying `channels`.

    `backlog(after_id)` returns the stored events after an id (in id order); `render(event)`
    turns one bus event into zero or more SSE events; `is_over(event)` ends the stream
    (e.g. the user was suspended)."""
    heartbeat = heartbeat or current_app.config.get("SSE_HEARTBEAT_SECONDS", HEARTBEAT_SECONDS)
    sub = bus().subscribe(channels)

    @stream_with_context
    def generate() -> Iterator[str]:
        last = after
        try:
            yield "retry: 3000\n\n"
            pending = backlog(after)
            release_db()
            while True:
                for item in pending:
                    if item.id is not None:
                        if last is not None and item.id <= last:
                            continue
                        last = item.id
                    yield item.encode()
                event = sub.get(timeout=heartbeat)
                if event is None:
                    if sub.closed:
                        return
                    yield ": heartbeat\n\n"
                    pending = []
                    continue
                kind = event.get("type")
                if kind == "bus.closed" or is_over(event):
                    return
                pending = backlog(last) if kind == "bus.resync" else render(event)
                release_db()
        finally:
            sub.close()
            release_db()

    response = Response(generate(), mimetype="text/event-stream")
    response.headers["Cache-Control"] = "no-cache, no-transform"
    response.headers["X-Accel-Buffering"] = "no"  # nginx: pass each event on at once
    return response
