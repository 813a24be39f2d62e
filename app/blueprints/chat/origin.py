"""Only our own pages (and configured ones) may open a room socket (issue #13, item 4)."""
from __future__ import annotations

from flask import Response, current_app, request

from app.blueprints.chat import bp


def origin_allowed(origin: str | None, *, own: str, allowed: tuple[str, ...]) -> bool:
    """Whether a WebSocket handshake's `Origin` may open a room socket: the site's own
    (`own`, the request's scheme and host) or a configured one (WS_ALLOWED_ORIGINS).

    Browsers send `Origin` on every WebSocket handshake, and a socket is authenticated by
    the session cookie alone, so without this any site could chat as its visitor
    (cross-site WebSocket hijacking). A handshake without `Origin` is not from a browser:
    it carries no cookie it did not already hold, so it is let through (and, like any
    client, must then be a member of the room)."""
    if origin is None:
        return True
    origin = origin.strip().rstrip("/").lower()
    return origin == own.lower() or origin in allowed


@bp.before_request
def refuse_foreign_origin():
    """Refuse the handshake itself (403) before the socket is accepted."""
    if request.endpoint != "chat.room_socket":
        return None
    own = f"{request.scheme}://{request.host}"
    if origin_allowed(request.headers.get("Origin"), own=own, allowed=current_app.config["WS_ALLOWED_ORIGINS"]):
        return None
    return Response("This page may not open a chat connection.\n", 403, mimetype="text/plain")
