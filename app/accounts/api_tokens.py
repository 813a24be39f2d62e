"""Personal access tokens for the JSON API (issue 16, "Authentication").

A user makes a token on the settings page (/auth/settings/tokens) for their own scripts: a
name, the scopes it holds (accounts/scopes.py) and how long it lasts. The secret,
`lyc_pat_` + `secrets.token_urlsafe(32)` (256 random bits), is returned once by
`create_token` and never again: the row keeps only its sha256 (`token_hash`) and its first
characters (`prefix`, "lyc_pat_AbCd", so the list can tell tokens apart). The API resolves
the `Authorization: Bearer …` header with `authenticate_token` to a `Grant`.

How tokens live beside the rest of the account:
- Every token expires (7, 30, 90 or 365 days; 30 unless chosen) and can be revoked from the
  settings; a revoked token keeps its row (`revoked_at`) so the list can show it for a while.
- Tokens and browser sessions are independent: logging out, revoking a session and "log out
  everywhere else" leave tokens working, and revoking a token ends no session. Revoking one
  emits `ApiTokenRevoked` after commit: what was opened with it (an event stream, a room
  socket) closes, as a revoked session's do.
- A password change or reset and an e-mail change keep tokens working (as GitHub does): a
  token was made on purpose and is revoked on purpose, from the list.
- A suspension revokes nothing, but while it lasts `authenticate_token` raises
  AccountSuspended, so the API answers 403 at once; the tokens work again when it ends.
- An admin scope is only granted to someone holding the permission, and `Grant.allows`
  checks the permission again on each call, so losing it stops the token's admin calls.
- Deleting the account deletes its tokens (foreign key cascade).
Creating and revoking a token each write an audit row (moderation/audit.py).
"""
from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.attributes import set_committed_value

from app.accounts.auth import ensure_not_suspended
from app.accounts.events import ApiTokenRevoked
from app.accounts.models import ApiToken, User
from app.accounts.permissions import can_revoke_api_token
from app.accounts.scopes import ALL_SCOPES, Grant, check_grantable, format_scopes, parse_scopes
from app.dbtypes import row_id, utcnow
from app.errors import Invalid, NotFound
from app.events import emit
from app.extensions import db
from app.moderation.audit import record_audit

TOKEN_PREFIX = "lyc_pat_"
SECRET_BYTES = 32  # token_urlsafe(32): 43 characters
TOKEN_RE = re.compile(r"lyc_pat_[A-Za-z0-9_-]{43}")
PREFIX_CHARS = len(TOKEN_PREFIX) + 4  # "lyc_pat_AbCd": what the list shows
NAME_MAX = 80
EXPIRY_DAYS = (7, 30, 90, 365)
DEFAULT_EXPIRY_DAYS = 30
MAX_LIVE_TOKENS = 50  # live: neither revoked nor expired
TOUCH_EVERY = timedelta(minutes=1)  # last_used_at is written at most this often
SHOW_ENDED_FOR = timedelta(days=30)  # the list keeps revoked and expired tokens this long
PAT_KIND = "pat"


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


# --- making and revoking -------------------------------------------------------------------

def clean_token_name(name: str | None) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise Invalid("Give the token a name, so you can tell it apart later.", field="name")
    if len(name) > NAME_MAX:
        raise Invalid(f"Keep the name to {NAME_MAX} characters or fewer.", field="name")
    return name


def _expiry_days(value) -> int:
    days = row_id(value)
    if days not in EXPIRY_DAYS:
        choices = ", ".join(str(d) for d in EXPIRY_DAYS[:-1])
        raise Invalid(f"Choose how long the token lasts: {choices} or {EXPIRY_DAYS[-1]} days.",
                      field="expires_in_days")
    return days


def _live(now: datetime):
    return sa.and_(ApiToken.revoked_at.is_(None), ApiToken.expires_at > now)


def create_token(user: User, *, name: str, scopes, expires_in_days: int = DEFAULT_EXPIRY_DAYS,
                 now: datetime | None = None, ip: str | None = None) -> tuple[ApiToken, str]:
    """A new token of `user` and its secret. Show the secret once (the row keeps only its
    hash). `scopes`: a list or a space-separated string; an admin scope needs its permission.
    Raises Invalid (on the field it concerns) for a missing or long name, no or unknown
    scopes, an expiry other than 7, 30, 90 or 365 days, or a 51st live token."""
    now = now or utcnow()
    ensure_not_suspended(user, now)
    name = clean_token_name(name)
    wanted = parse_scopes(scopes)
    if not wanted:
        raise Invalid("Choose at least one scope.", field="scopes")
    check_grantable(user, wanted)
    days = _expiry_days(expires_in_days)
    # One creation at a time per user on PostgreSQL, so two at once cannot pass the cap
    # together (SQLite ignores FOR UPDATE: there a writing request holds the write lock).
    db.session.execute(sa.select(User.id).where(User.id == user.id).with_for_update())
    live = db.session.scalar(sa.select(sa.func.count(ApiToken.id))
                             .where(ApiToken.user_id == user.id, _live(now)))
    if live >= MAX_LIVE_TOKENS:
        raise Invalid(f"You already have {MAX_LIVE_TOKENS} active tokens, the most you can hold. "
                      "Revoke one you no longer use, then make a new one.")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(SECRET_BYTES)
    token = ApiToken(user_id=user.id, name=name, token_hash=hash_secret(secret),
                     prefix=secret[:PREFIX_CHARS], scopes=format_scopes(wanted), created_at=now,
                     expires_at=now + timedelta(days=days))
    db.session.add(token)
    db.session.flush()
    record_audit(user, "api_token.created", token, ip=ip,
                 after={"scopes": token.scopes, "expires_at": token.expires_at.isoformat()})
    return token, secret


def revoke_token(user: User, token_id, now: datetime | None = None, *, ip: str | None = None) -> ApiToken:
    """Revoke one of `user`'s tokens; it stops working at once. Revoking it again changes
    nothing. Anyone else's token, or no token, is NotFound (the same answer: it does not say
    whether that id exists)."""
    now = now or utcnow()
    token_id = row_id(token_id)
    token = db.session.get(ApiToken, token_id) if token_id else None
    if not can_revoke_api_token(user, token):
        raise NotFound("That token does not exist.")
    # Conditional, so two revokes at once write one audit row between them.
    result = db.session.execute(
        sa.update(ApiToken).where(ApiToken.id == token.id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=now), execution_options={"synchronize_session": False})
    if result.rowcount:
        set_committed_value(token, "revoked_at", now)
        record_audit(user, "api_token.revoked", token, ip=ip)
        db.session.flush()
        emit(ApiTokenRevoked(user_id=user.id, token_id=token.id))  # its open streams and sockets close
    else:
        db.session.refresh(token, ["revoked_at"])
    return token


# --- the settings list ---------------------------------------------------------------------

@dataclass(frozen=True)
class TokenInfo:
    id: int
    name: str
    prefix: str
    scopes: tuple[str, ...]
    created_at: datetime
    expires_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None
    status: str  # "active", "expired" or "revoked"

    @property
    def live(self) -> bool:
        return self.status == "active"

    @property
    def status_label(self) -> str:
        return {"active": "Active", "expired": "Expired", "revoked": "Revoked"}[self.status]


def _status(token: ApiToken, now: datetime) -> str:
    if token.revoked_at is not None:
        return "revoked"
    return "active" if token.expires_at > now else "expired"


def list_tokens(user: User, *, now: datetime | None = None) -> list[TokenInfo]:
    """`user`'s tokens, newest first: the live ones, and those revoked or expired in the
    last 30 days (labelled so). Never the secrets: only their prefixes."""
    now = now or utcnow()
    shown_since = now - SHOW_ENDED_FOR
    rows = db.session.scalars(
        sa.select(ApiToken).where(
            ApiToken.user_id == user.id,
            sa.or_(ApiToken.revoked_at >= shown_since,
                   sa.and_(ApiToken.revoked_at.is_(None), ApiToken.expires_at >= shown_since)))
        .order_by(ApiToken.created_at.desc(), ApiToken.id.desc()))
    return [TokenInfo(t.id, t.name, t.prefix, tuple(format_scopes(set(t.scopes.split())).split()),
                      t.created_at, t.expires_at, t.last_used_at, t.revoked_at, _status(t, now))
            for t in rows]


# --- the API's side ------------------------------------------------------------------------

def authenticate_token(raw, *, now: datetime | None = None) -> Grant | None:
    """The grant a bearer token carries: None for anything that is not a live token of ours
    (malformed, unknown, revoked, expired). Raises AccountSuspended (403) while its user is
    suspended, so the API can say why instead of "unauthorised".

    The lookup is by the secret's sha256: the database compares digests, which an attacker
    cannot steer byte by byte, so its timing tells nothing about a real secret; the digest is
    compared once more with `hmac.compare_digest`.

    last_used_at is written at most once a minute per token, by a conditional UPDATE that
    skips a row another request is writing (FOR UPDATE SKIP LOCKED on PostgreSQL), so
    concurrent calls with one token neither wait for nor conflict with each other. The UPDATE
    is flushed into the caller's transaction and, like every service, never committed here:
    the API's authentication hook should commit right after this call, while nothing else of
    the request is in the transaction (as session_loader.load_user does for a browser's
    session), so a GET need not commit and the row lock is held for no time. If the
    request's transaction is rolled back instead, the touch is lost, which is harmless: the
    next call within a minute writes it again.
    """
    if not isinstance(raw, str) or not TOKEN_RE.fullmatch(raw):
        return None
    now = now or utcnow()
    digest = hash_secret(raw)
    token = db.session.execute(
        sa.select(ApiToken).where(ApiToken.token_hash == digest)
        .options(joinedload(ApiToken.user).joinedload(User.permission_grants))
    ).unique().scalar_one_or_none()
    if token is None or not hmac.compare_digest(token.token_hash, digest):
        return None
    if token.revoked_at is not None or token.expires_at <= now:
        return None
    ensure_not_suspended(token.user, now)
    if token.last_used_at is None or now - token.last_used_at >= TOUCH_EVERY:
        _touch(token, now)
    scopes = frozenset(token.scopes.split()) & ALL_SCOPES.keys()  # a retired scope grants nothing
    return Grant(user=token.user, scopes=scopes, kind=PAT_KIND, token_id=token.id, expires_at=token.expires_at)


def _touch(token: ApiToken, now: datetime) -> None:
    due = (sa.select(ApiToken.id)
           .where(ApiToken.id == token.id,
                  sa.or_(ApiToken.last_used_at.is_(None), ApiToken.last_used_at <= now - TOUCH_EVERY))
           .with_for_update(skip_locked=True))
    result = db.session.execute(sa.update(ApiToken).where(ApiToken.id.in_(due)).values(last_used_at=now),
                                execution_options={"synchronize_session": False})
    if result.rowcount:
        set_committed_value(token, "last_used_at", now)
