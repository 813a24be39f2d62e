"""The WebSocket client of the tests, on simple-websocket's: it sends the port in `Host` (as a
browser does: the server's Origin check compares the page's host with it) unless given a
`host`, keeps the handshake reply's headers, and reads frames that arrived together with that
reply."""
from __future__ import annotations

import simple_websocket
from wsproto.events import AcceptConnection, RejectConnection, Request


class WsClient(simple_websocket.Client):
    """simple-websocket's client, minus one race: when the server's first frames (say, a
    close right after accepting) arrive in the same read as its handshake reply, the
    library keeps them buffered and never looks at them, so the socket seems to drop
    without a close frame (1005). A browser reads them; so does this client."""

    response_headers: dict[str, str]

    @classmethod
    def connect(cls, url, headers=None, *, host: str | None = None, **options):
        """simple-websocket's `connect`; `host`: the `Host` header, if not the URL's host:port."""
        return cls(url, headers=headers, host=host, **options)

    def __init__(self, url, *args, host: str | None = None, **kwargs):
        self.host_header = host  # read by `handshake`, which the base class's __init__ runs
        super().__init__(url, *args, **kwargs)

    def handshake(self):
        host = self.host_header or (self.host if self.port in (80, 443) else f"{self.host}:{self.port}")
        self.sock.send(self.ws.send(Request(host=host, target=self.path, subprotocols=self.subprotocols,
                                            extra_headers=self.extra_headeers)))
        event = None
        while event is None:
            data = self.sock.recv(self.receive_bytes)
            if not data:
                raise simple_websocket.ConnectionError(None)
            self.ws.receive_data(data)
            event = next(self.ws.events(), None)
        if isinstance(event, RejectConnection):
            raise simple_websocket.ConnectionError(event.status_code)
        if not isinstance(event, AcceptConnection):
            raise simple_websocket.ConnectionError(400)
        self.response_headers = {k.decode().lower(): v.decode() for k, v in event.extra_headers}
        self.subprotocol = event.subprotocol
        self.connected = True

    def _thread(self):
        if self.connected:
            self.connected = self._handle_events()
        if not self.connected:
            self.event.set()
            self.sock.close()
            return
        super()._thread()
