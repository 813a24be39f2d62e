"""Who is in a course's chat room: a Redis sorted set per room (`channels.room_presence`)
of `<user id>:<socket id>` scored by the socket's last heartbeat. Each open socket
`touch`es its entry every ~25 s and `leave`s on close; a user is online while any of
their sockets is fresh (within ONLINE_SECONDS), so a process that died without saying
goodbye drops out by itself. Presence is best effort: a Redis error shows nobody online.
"""
from __future__ import annotations

import time

import redis
import sqlalchemy as sa

from app.accounts.models import User
from app.extensions import db, get_redis
from app.messaging import channels

ONLINE_SECONDS = 60
REFRESH_SECONDS = 25


def _member(user_id: int, socket_id: str) -> str:
    return f"{user_id}:{socket_id}"


def _fresh_user_ids(key: str, now: float) -> set[int]:
    client = get_redis()
    client.zremrangebyscore(key, "-inf", now - ONLINE_SECONDS)  # forget sockets that went silent
    return {int(raw.split(b":", 1)[0] if isinstance(raw, bytes) else raw.split(":", 1)[0])
            for raw in client.zrangebyscore(key, now - ONLINE_SECONDS, "+inf")}


def touch(course_id: int, user_id: int, socket_id: str, *, now: float | None = None) -> bool:
    """Mark a socket alive; True when its user was not online before (a change to announce)."""
    now = time.time() if now is None else now
    key = channels.room_presence(course_id)
    try:
        was_online = user_id in _fresh_user_ids(key, now)
        client = get_redis()
        client.zadd(key, {_member(user_id, socket_id): now})
        client.expire(key, ONLINE_SECONDS * 2)
    except redis.RedisError:
        return False
    return not was_online


def leave(course_id: int, user_id: int, socket_id: str, *, now: float | None = None) -> bool:
    """Forget a closed socket; True when its user has no other socket left (now offline)."""
    now = time.time() if now is None else now
    key = channels.room_presence(course_id)
    try:
        get_redis().zrem(key, _member(user_id, socket_id))
        return user_id not in _fresh_user_ids(key, now)
    except redis.RedisError:
        return False


def online_user_ids(course_id: int, *, now: float | None = None) -> set[int]:
    try:
        return _fresh_user_ids(channels.room_presence(course_id), time.time() if now is None else now)
    except redis.RedisError:
        return set()


def online_members(course_id: int, *, now: float | None = None) -> list[tuple[int, str]]:
    """(user id, display name) of everyone online in the room, by name."""
    ids = online_user_ids(course_id, now=now)
    if not ids:
        return []
    rows = db.session.execute(sa.select(User.id, User.display_name).where(User.id.in_(ids))
                              .order_by(User.display_name, User.id))
    return [(row.id, row.display_name) for row in rows]
