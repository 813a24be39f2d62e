"""Flask-Login's user loader, and signing a browser in and out: the HTTP side of
app/accounts/sessions.py."""
from __future__ import annotations

from flask import request
from flask_login import current_user, login_user, logout_user

from app.accounts import sessions
from app.accounts.models import User
from app.blueprints.htmx import client_ip
from app.dbtypes import bookkeeping, utcnow
from app.extensions import db


def load_user(token: str) -> User | None:
    """The user whose session token the session (or remember) cookie carries, or None.

    One SELECT per request. The rare write (last_seen_at once a minute, an expired session
    ended) is committed at once when nothing else of the request is in the transaction yet,
    which is the usual case: the user is loaded first (dbtypes.bookkeeping)."""
    resumed = bookkeeping(lambda: sessions.resume_session(token, now=utcnow(), ip=client_ip()),
                          wrote=lambda resumed: resumed.wrote)
    return resumed.user


def sign_in(user: User, *, remember: bool = False) -> None:
    """Start a server-side session for this browser, commit, and set the cookies."""
    sessions.start_session(user, ip=client_ip(), user_agent=request.user_agent.string,
                           remembered=remember, now=utcnow())
    db.session.commit()
    login_user(user, remember=remember)


def sign_out() -> None:
    """End this browser's session on the server, then clear its cookies."""
    if current_user.is_authenticated:
        sessions.end_session(current_user, current_user.session_id)
        db.session.commit()
    logout_user()
