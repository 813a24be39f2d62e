"""A request's API bearer token to its grant: for the JSON API (api/conventions.py) and the
room socket's handshake (chat/socket_auth.py), the HTTP side of app/accounts/bearer.py."""
from __future__ import annotations

from app.accounts.bearer import resolve_bearer
from app.accounts.scopes import Grant
from app.dbtypes import bookkeeping


def grant_for(token: str) -> Grant | None:
    """The grant of a live token (None otherwise; AccountSuspended for a suspended user).

    Resolving writes the token's last_used_at now and then; that write is committed at once
    when nothing else of the request is in the transaction yet (the token is resolved
    first), as the session loader does for a browser's session (dbtypes.bookkeeping), so
    the row is locked for no time and the touch is kept even by a GET or a socket that
    rolls back."""
    return bookkeeping(lambda: resolve_bearer(token))
