"""A room socket opened with an API token (issue 16): `Authorization: Bearer <token>` on the
WebSocket handshake, holding the `learn` scope, speaks for the token's user instead of the
session cookie. Browsers cannot set that header on a WebSocket, so this is for other clients
(scripts, apps); the membership rules are the same as for the page's socket.

The token is checked before the handshake, so a bad one is refused with an HTTP status, as
the JSON API would answer: 401 for a malformed, unknown, expired or revoked token, 403 for a
suspended user or a token without the scope. The socket then belongs to the token: it closes
when the token is revoked or expires (messaging/connections.py), whatever happens to the
user's browser sessions.
"""
from __future__ import annotations

from flask import Response, g, request

from app.accounts.bearer import token_from_header
from app.accounts.errors import AccountSuspended
from app.accounts.scopes import Grant
from app.blueprints.bearer import grant_for
from app.blueprints.chat import bp

SCOPE = "learn"
REALM = 'Bearer realm="lyceum"'


def _refuse(status: int, text: str, challenge: str) -> Response:
    return Response(text + "\n", status, mimetype="text/plain", headers={"WWW-Authenticate": challenge})


@bp.before_request
def authenticate_socket_token():
    """Resolve the handshake's bearer token, or refuse the handshake (before it is accepted)."""
    if request.endpoint != "chat.room_socket":
        return None
    g.socket_grant = None
    header = request.headers.get("Authorization")
    if header is None:
        return None  # the session cookie, as for the page
    token = token_from_header(header)
    try:
        grant = grant_for(token) if token is not None else None
    except AccountSuspended as exc:
        return _refuse(403, exc.message, REALM)
    if grant is None:
        return _refuse(401, "This token is unknown, expired or revoked; send `Authorization: Bearer <token>`.",
                       f'{REALM}, error="invalid_token"')
    if not grant.allows(SCOPE):
        return _refuse(403, f"This token does not have the `{SCOPE}` scope.",
                       f'{REALM}, error="insufficient_scope", scope="{SCOPE}"')
    g.socket_grant = grant
    return None


def socket_grant() -> Grant | None:
    """The handshake's API grant, or None: the socket is the session's."""
    return g.get("socket_grant")
