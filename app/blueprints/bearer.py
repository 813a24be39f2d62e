"""A request's API bearer token to its grant: for the JSON API (api/conventions.py) and the
room socket's handshake (chat/socket_auth.py), the HTTP side of app/accounts/bearer.py."""
from __future__ import annotations

from sqlalchemy.exc import OperationalError

from app.accounts.bearer import resolve_bearer
from app.accounts.scopes import Grant
from app.dbtypes import is_sqlite_lock_upgrade, writing
from app.extensions import db


def grant_for(token: str) -> Grant | None:
    """The grant of a live token (None otherwise; AccountSuspended for a suspended user).

    Resolving writes the token's last_used_at now and then; that write is committed at once
    when nothing else of the request is in the transaction yet (the token is resolved
    first), as the session loader does for a browser's session (auth/session_loader.py),
    so the row is locked for no time and the touch is kept even by a GET or a socket that
    rolls back. On SQLite a read transaction may not wait for another request's write lock:
    then it is tried again in one that takes the lock first."""
    session = db.session()
    untouched = not session.in_transaction()
    try:
        grant = resolve_bearer(token)
    except OperationalError as exc:
        if not (untouched and is_sqlite_lock_upgrade(exc)):
            raise
        session.rollback()
        with writing():
            grant = resolve_bearer(token)
    if untouched:
        keep = session.expire_on_commit
        session.expire_on_commit = False  # the grant's user stays loaded
        try:
            session.commit()
        finally:
            session.expire_on_commit = keep
    return grant
