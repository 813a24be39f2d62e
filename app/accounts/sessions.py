"""Server-side sessions (issue 13, item 2; contract: notes/SESSIONS_INTERFACE.md).

A session is a `UserSession` row. Flask-Login's session and remember cookies carry its
random token (`User.get_id()`); the row keeps only the token's sha256. Ending a session
deletes its row, so both cookies stop working on every process at once, and emits
`SessionsRevoked(user_id, session_ids)` (accounts/events.py) after commit (`session_ids=None`: every
session of that user) so open sockets and streams close too.

A session ends on log-out, when revoked from the settings, after an idle timeout or its
absolute lifetime (shorter for anyone holding an admin permission; config SESSION_*), and
all of a user's end on a password change or reset, an e-mail change and a suspension.
"""
from __future__ import annotations

import hashlib
import secrets
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import joinedload

from app.accounts.devices import describe_device
from app.accounts.events import SessionsRevoked
from app.accounts.models import AdminPermission, User, UserSession
from app.accounts.permissions import can_revoke_session
from app.errors import NotFound
from app.events import emit
from app.extensions import db

TOKEN_BYTES = 32  # token_urlsafe(32): 43 characters, 256 bits
TOKEN_MAX_CHARS = 128  # anything longer in a cookie is not one of ours
USER_AGENT_MAX = 255
IP_MAX = 45  # the longest textual IPv6 address (with an embedded IPv4 one)
TOUCH_EVERY = timedelta(minutes=1)  # last_seen_at is written at most this often
PRUNE_BATCH = 5000


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# --- limits --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Limits:
    idle: timedelta
    lifetime: timedelta


def session_limits(*, admin: bool, remembered: bool) -> Limits:
    """How long a session may idle and live. Admin limits win over "remember me"."""
    config = current_app.config
    if admin:
        idle, lifetime = config["ADMIN_SESSION_IDLE_SECONDS"], config["ADMIN_SESSION_MAX_SECONDS"]
    else:
        idle = config["REMEMBER_SESSION_IDLE_SECONDS" if remembered else "SESSION_IDLE_SECONDS"]
        lifetime = config["SESSION_MAX_SECONDS"]
    return Limits(timedelta(seconds=idle), timedelta(seconds=lifetime))


def is_expired(row: UserSession, *, admin: bool, now: datetime) -> bool:
    limits = session_limits(admin=admin, remembered=row.remembered)
    return now - row.last_seen_at >= limits.idle or now - row.created_at >= limits.lifetime


# --- starting and resuming -----------------------------------------------------------------

def start_session(user: User, *, ip: str | None, user_agent: str | None, remembered: bool = False,
                  now: datetime) -> UserSession:
    """A new session for `user`, whose `get_id()` then returns its token (call it before
    `login_user`, which puts that token in the cookies)."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    row = UserSession(user_id=user.id, token_hash=hash_token(token), created_at=now,
                      last_seen_at=now, ip=(ip or None) and ip[:IP_MAX],
                      user_agent=(user_agent or "")[:USER_AGENT_MAX], remembered=bool(remembered))
    db.session.add(row)
    db.session.flush()
    user.session_id, user.session_token = row.id, token
    return row


def renew_token(user: User, session_id: int) -> UserSession | None:
    """Give one of `user`'s sessions a new token (the session and its id stay): after a
    password change, a copy of this browser's old cookies stops working too."""
    row = db.session.get(UserSession, session_id)
    if row is None or row.user_id != user.id:
        return None
    token = secrets.token_urlsafe(TOKEN_BYTES)
    row.token_hash = hash_token(token)
    db.session.flush()
    user.session_id, user.session_token = row.id, token
    return row


def is_remembered(session_id: int | None) -> bool:
    return bool(session_id and db.session.scalar(
        sa.select(UserSession.remembered).where(UserSession.id == session_id)))


@dataclass(frozen=True)
class Resumed:
    user: User | None
    wrote: bool  # last_seen_at was touched or an expired session ended: the caller commits


def resume_session(token: object, *, now: datetime, ip: str | None = None) -> Resumed:
    """The user a cookie's token signs in, loaded with the session row and the user's admin
    permissions in one statement; None if the session ended, expired or the user is
    suspended. Touches `last_seen_at` (and the address) at most once a minute."""
    if not isinstance(token, str) or not token or len(token) > TOKEN_MAX_CHARS:
        return Resumed(None, False)
    row = db.session.execute(
        sa.select(UserSession).where(UserSession.token_hash == hash_token(token))
        .options(joinedload(UserSession.user).joinedload(User.permission_grants))
    ).unique().scalar_one_or_none()
    if row is None:
        return Resumed(None, False)
    user = row.user
    if user.is_suspended(now):  # suspension ended the sessions; this is belt and braces
        return Resumed(None, False)
    if is_expired(row, admin=user.is_admin, now=now):
        _end(user.id, [row.id])
        return Resumed(None, True)
    wrote = now - row.last_seen_at >= TOUCH_EVERY
    if wrote:
        row.last_seen_at = now
        if ip:
            row.ip = ip[:IP_MAX]
        db.session.flush()
    user.session_id, user.session_token = row.id, token
    return Resumed(user, wrote)


# --- ending --------------------------------------------------------------------------------

def _end(user_id: int, session_ids: list[int]) -> list[int]:
    if session_ids:
        db.session.execute(sa.delete(UserSession).where(
            UserSession.user_id == user_id, UserSession.id.in_(session_ids)),
            execution_options={"synchronize_session": False})
        emit(SessionsRevoked(user_id=user_id, session_ids=sorted(session_ids)))
    return session_ids


def end_session(user: User, session_id: int | None) -> bool:
    """Log-out: end this one session of `user` (False if it had already ended)."""
    if session_id is None:
        return False
    result = db.session.execute(sa.delete(UserSession).where(
        UserSession.id == session_id, UserSession.user_id == user.id),
        execution_options={"synchronize_session": False})
    if not result.rowcount:
        return False
    emit(SessionsRevoked(user_id=user.id, session_ids=[session_id]))
    return True


def end_all_sessions(user: User, *, keep: int | None = None) -> list[int]:
    """End every session of `user` (password reset, e-mail change, suspension), or every one
    but `keep` (log out everywhere else, password change in the settings). Returns the ids."""
    stmt = sa.select(UserSession.id).where(UserSession.user_id == user.id)
    if keep is not None:
        stmt = stmt.where(UserSession.id != keep)
    ids = list(db.session.scalars(stmt))
    if keep is not None:
        return _end(user.id, ids)
    db.session.execute(sa.delete(UserSession).where(UserSession.user_id == user.id),
                       execution_options={"synchronize_session": False})
    # None, not the list: the contract's "every connection of this user", whatever session
    # it was opened with.
    emit(SessionsRevoked(user_id=user.id, session_ids=None))
    return ids


def revoke_session(actor: User, session_id: int) -> None:
    """End one of the actor's own sessions from the settings; anyone else's is not found."""
    row = db.session.get(UserSession, session_id)
    if not can_revoke_session(actor, row):
        raise NotFound("That session has already ended.")
    _end(actor.id, [row.id])


def end_expired_sessions(*, now: datetime) -> int:
    """End sessions past their idle timeout or lifetime that nobody came back to (periodic;
    the loader ends the others when their cookie next shows up). Returns how many."""
    shortest_idle = min(session_limits(admin=a, remembered=r).idle
                        for a in (True, False) for r in (True, False))
    shortest_life = min(session_limits(admin=a, remembered=False).lifetime for a in (True, False))
    admin = sa.exists().where(AdminPermission.user_id == UserSession.user_id)
    rows = db.session.execute(
        sa.select(UserSession, admin.label("admin"))
        .where(sa.or_(UserSession.last_seen_at <= now - shortest_idle,
                      UserSession.created_at <= now - shortest_life))
        .order_by(UserSession.id).limit(PRUNE_BATCH)).all()
    ended: dict[int, list[int]] = defaultdict(list)
    for row, is_admin in rows:
        if is_expired(row, admin=bool(is_admin), now=now):
            ended[row.user_id].append(row.id)
    for user_id, ids in ended.items():
        _end(user_id, ids)
    return sum(len(ids) for ids in ended.values())


# --- the settings list ---------------------------------------------------------------------

@dataclass(frozen=True)
class SessionInfo:
    id: int
    device: str
    ip: str | None
    created_at: datetime
    last_seen_at: datetime
    current: bool


def list_sessions(user: User, *, now: datetime, current_id: int | None = None) -> list[SessionInfo]:
    """The user's live sessions, this one first, then the most recently seen."""
    rows = db.session.scalars(sa.select(UserSession).where(UserSession.user_id == user.id)
                              .order_by(UserSession.last_seen_at.desc(), UserSession.id.desc()))
    sessions = [SessionInfo(r.id, describe_device(r.user_agent), r.ip, r.created_at,
                            r.last_seen_at, r.id == current_id)
                for r in rows if not is_expired(r, admin=user.is_admin, now=now)]
    return sorted(sessions, key=lambda s: not s.current)
