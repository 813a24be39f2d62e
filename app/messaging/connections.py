"""A user's live connections (room sockets and event streams), on every web process.

Each connection keeps the session it was opened by and listens on its user's
`user_notify` channel, where control events end it, whichever process holds it:

- `session.end` (`session_ids`: a list, or None for every session) when sessions are
  revoked (the contract with accounts: "accounts.sessions.revoked"; a suspension too). A
  connection opened without a session id (before server-side sessions) ends only on None.
- `connection.evicted` (`connection_ids`) when the user opened more than
  `LIVE_CONNECTIONS_PER_USER`: the oldest go.
- `tokens.end` (`token_ids`: a list, or None for every token) when an API token is revoked
  ("accounts.token.revoked") or its user suspended.

A connection opened with an API bearer token (`token_id`) rather than a browser session
belongs to that token, not to any session: tokens outlive log-outs and password changes
(accounts/api_tokens.py), so `session.end` leaves it open unless it names no session at all
and comes from a suspension, which also sends `tokens.end`. It ends on `tokens.end` for its
token, and by itself when the token expires (`expires_at`, checked by the socket's or
stream's own loop, which waits no longer than that).

The count lives in Redis, one sorted set per user (`channels.user_connections`): members are
`<opened ns>-<random>` (so the oldest sorts first), scored by when they expire unless a
heartbeat renews them, so a process that died without saying goodbye frees its slots.
Everything here is best effort: with Redis down, connections open uncounted.
"""
from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass, field

import redis

from app.extensions import get_redis
from app.messaging import bus, channels

log = logging.getLogger(__name__)

SESSION_END = "session.end"
EVICTED = "connection.evicted"
TOKENS_END = "tokens.end"
CONTROL = frozenset((SESSION_END, EVICTED, TOKENS_END))


@dataclass
class LiveConnection:
    """One open socket or stream: whose, opened by which session (or API token, then with
    the token's expiry in epoch seconds), and its slot's id."""
    user_id: int
    session_id: int | None
    id: str = field(default_factory=lambda: f"{time.time_ns()}-{uuid.uuid4().hex[:8]}")
    token_id: int | None = None
    expires_at: float | None = None

    def ended_by(self, event: dict) -> bool:
        """Whether a control event on the user's channel ends this connection (cheap for
        every other event: one lookup and one set test)."""
        kind = event.get("type")
        if kind not in CONTROL:
            return False
        if kind == EVICTED:
            return self.id in (event.get("connection_ids") or ())
        if kind == TOKENS_END:
            ids = event.get("token_ids")
            return self.token_id is not None and (ids is None or self.token_id in ids)
        if self.token_id is not None:  # sessions come and go; a token's connection stays
            return False
        ids = event.get("session_ids")
        return ids is None or (self.session_id is not None and self.session_id in ids)

    def expired(self, now: float) -> bool:
        """Whether the token it was opened with has expired (never, for a session's)."""
        return self.expires_at is not None and now >= self.expires_at

    def wait_at_most(self, seconds: float, now: float) -> float:
        """`seconds`, or less: a loop waiting for events wakes when the token expires."""
        if self.expires_at is None:
            return seconds
        return max(min(seconds, self.expires_at - now), 0.01)


def _opened_at(member: str) -> int:
    head, _, _ = member.partition("-")
    return int(head) if head.isdigit() else 0


def open_connection(user_id: int, session_id: int | None, *, limit: int, ttl: float,
                    now: float, token_id: int | None = None, expires_at: float | None = None) -> LiveConnection:
    """Count a new connection; when the user then has more than `limit`, the oldest are told
    to close (on every process) and their slots are freed at once. `token_id`/`expires_at`:
    opened with an API token, not a session."""
    conn = LiveConnection(user_id, session_id, token_id=token_id, expires_at=expires_at)
    key = channels.user_connections(user_id)
    try:
        pipe = get_redis().pipeline(transaction=True)
        pipe.zremrangebyscore(key, "-inf", now)  # slots whose heartbeat stopped
        pipe.zadd(key, {conn.id: now + ttl})
        pipe.zrange(key, 0, -1)
        pipe.expire(key, int(ttl) + 1)
        members = [m.decode() if isinstance(m, bytes) else m for m in pipe.execute()[2]]
    except redis.RedisError:
        log.warning("could not count the connections of user %s", user_id, exc_info=True)
        return conn
    if limit > 0 and len(members) > limit:
        oldest = sorted(members, key=_opened_at)[:len(members) - limit]
        evict(user_id, oldest)
    return conn


def evict(user_id: int, connection_ids: list[str]) -> None:
    """Free these slots and close their connections wherever they are."""
    if not connection_ids:
        return
    try:
        get_redis().zrem(channels.user_connections(user_id), *connection_ids)
    except redis.RedisError:
        log.warning("could not free connection slots of user %s", user_id, exc_info=True)
    bus.publish_now(channels.user_notify(user_id), {"type": EVICTED, "connection_ids": list(connection_ids)})


def renew(conn: LiveConnection, *, ttl: float, now: float) -> None:
    """A heartbeat: the slot stays counted for another `ttl` seconds (not re-added once
    evicted or freed)."""
    try:
        client = get_redis()
        key = channels.user_connections(conn.user_id)
        client.zadd(key, {conn.id: now + ttl}, xx=True)
        client.expire(key, int(ttl) + 1)
    except redis.RedisError:
        log.warning("could not renew a connection slot", exc_info=True)


def close_connection(conn: LiveConnection) -> None:
    """The connection is gone: free its slot (idempotent)."""
    try:
        get_redis().zrem(channels.user_connections(conn.user_id), conn.id)
    except redis.RedisError:
        log.warning("could not free a connection slot", exc_info=True)


def open_count(user_id: int, *, now: float) -> int:
    """How many live slots the user holds (expired ones excluded)."""
    try:
        return get_redis().zcount(channels.user_connections(user_id), f"({now}", "+inf")
    except redis.RedisError:
        return 0


def end_sessions(user_id: int, session_ids: list[int] | None) -> None:
    """Close the connections opened by these sessions of the user (None: all of them), on
    every process, through the bus."""
    ids = None if session_ids is None else [int(i) for i in session_ids]
    bus.publish_now(channels.user_notify(user_id), {"type": SESSION_END, "session_ids": ids})


def end_tokens(user_id: int, token_ids: list[int] | None) -> None:
    """Close the connections opened with these API tokens of the user (None: every token),
    on every process, through the bus."""
    ids = None if token_ids is None else [int(i) for i in token_ids]
    bus.publish_now(channels.user_notify(user_id), {"type": TOKENS_END, "token_ids": ids})
