"""A server-sent event stream read the way EventSource reads it: a GET kept open, its events
parsed as they arrive (by a thread, into a queue), `Last-Event-ID` sent on a reconnect."""
from __future__ import annotations

import http.client
import queue
import threading
import time
from dataclasses import dataclass


@dataclass
class Event:
    name: str
    data: str
    id: str | None


class EventStream:
    """`EventStream(host, port, path, cookie=…, last_event_id=…)`: the response's `status` and
    `headers`; `next(timeout)` is the next event (None once the server has ended the stream)."""

    def __init__(self, host: str, port: int, path: str, *, cookie: str = "",
                 last_event_id: str | None = None, headers: dict | None = None, timeout: float = 60):
        self.connection = http.client.HTTPConnection(host, port, timeout=timeout)
        request_headers = {"Accept": "text/event-stream", "Cache-Control": "no-cache", **(headers or {})}
        if cookie:
            request_headers["Cookie"] = cookie
        if last_event_id is not None:
            request_headers["Last-Event-ID"] = last_event_id
        self.connection.request("GET", path, headers=request_headers)
        # Kept: the connection lets go of its socket when the server says `Connection: close`
        # (werkzeug does), though the response still reads from it.
        self._sock = self.connection.sock
        self.response = self.connection.getresponse()
        self.status = self.response.status
        self.headers = {k.lower(): v for k, v in self.response.getheaders()}
        self.last_id: str | None = last_event_id
        self.ended = False
        self._events: queue.Queue[Event | None] = queue.Queue()
        if self.status == 200:
            # The socket's timeout would end a quiet stream: the reader waits as long as it takes.
            self._sock.settimeout(None)
            threading.Thread(target=self._read, daemon=True, name=f"sse {path}").start()

    def _read(self) -> None:
        name, data, event_id = "message", [], None
        try:
            while True:
                line = self.response.readline()
                if not line:
                    break
                text = line.decode().rstrip("\r\n")
                if not text:
                    if data:
                        self._events.put(Event(name, "\n".join(data), event_id))
                    name, data, event_id = "message", [], None
                    continue
                field, _, value = text.partition(":")
                value = value[1:] if value.startswith(" ") else value
                if field == "event":
                    name = value
                elif field == "data":
                    data.append(value)
                elif field == "id":
                    event_id = value
        except (OSError, ValueError, AttributeError, http.client.HTTPException):  # AttributeError: closed meanwhile
            pass
        self._events.put(None)

    def next(self, timeout: float = 60) -> Event | None:
        """The next event, or None when the stream has ended; AssertionError if none came."""
        try:
            event = self._events.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"no event on the stream within {timeout} s") from None
        if event is None:
            self.ended = True
        elif event.id is not None:
            self.last_id = event.id
        return event

    def wait_for(self, predicate, timeout: float = 60) -> Event:
        """The first event (skipping others) for which `predicate(event)` is true."""
        deadline = time.monotonic() + timeout
        while True:
            event = self.next(max(deadline - time.monotonic(), 0.01))
            if event is None:
                raise AssertionError("the stream ended before the awaited event")
            if predicate(event):
                return event

    def close(self) -> None:
        try:
            self._sock.shutdown(2)
        except OSError:
            pass
        self.connection.close()
