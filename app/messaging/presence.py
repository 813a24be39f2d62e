"""Who is in a course's chat room, kept in Redis so every process sees the same list.

Two sorted sets per room, scored by the last heartbeat: `room_presence(id)` holds user ids
and `room_presence(id):sockets` holds `<user id>:<socket id>`. Each open socket `touch`es
every ~25 s and `leave`s on close; a user is online while any of their sockets is fresh
(within ONLINE_SECONDS), so a process that died without saying goodbye drops out by itself.
Every operation is O(log n) in the room's size except listing, which only the page and the
announcement do. `announce` coalesces joins and leaves: at most one list per room per
PRESENCE_ANNOUNCE_SECONDS goes out, so 2,000 people joining do not send 2,000 lists to
2,000 sockets. Presence is best effort: a Redis error shows nobody online.
"""
from __future__ import annotations

import threading
import time

import redis
import sqlalchemy as sa
from flask import current_app

from app.accounts.models import User
from app.extensions import db, get_redis
from app.messaging import channels

ONLINE_SECONDS = 60
REFRESH_SECONDS = 25
SHOWN_LIMIT = 100  # names listed; the count covers everyone


def _keys(course_id: int) -> tuple[str, str]:
    users = channels.room_presence(course_id)
    return users, f"{users}:sockets"


def touch(course_id: int, user_id: int, socket_id: str, *, now: float | None = None) -> bool:
    """Mark a socket alive; True when its user was not online before (a change to announce)."""
    now = time.time() if now is None else now
    users, sockets = _keys(course_id)
    try:
        pipe = get_redis().pipeline(transaction=False)
        pipe.zremrangebyscore(users, "-inf", now - ONLINE_SECONDS)  # forget users gone silent
        pipe.zadd(users, {str(user_id): now})
        pipe.zadd(sockets, {f"{user_id}:{socket_id}": now})
        pipe.zremrangebyscore(sockets, "-inf", now - ONLINE_SECONDS)
        pipe.expire(users, ONLINE_SECONDS * 2)
        pipe.expire(sockets, ONLINE_SECONDS * 2)
        added = pipe.execute()[1]
    except redis.RedisError:
        return False
    return bool(added)


def leave(course_id: int, user_id: int, socket_id: str, *, now: float | None = None) -> bool:
    """Forget a closed socket; True when its user has no other fresh socket (now offline)."""
    now = time.time() if now is None else now
    users, sockets = _keys(course_id)
    try:
        client = get_redis()
        client.zrem(sockets, f"{user_id}:{socket_id}")
        for _member, score in client.zscan_iter(sockets, match=f"{user_id}:*"):
            if score >= now - ONLINE_SECONDS:
                return False  # another tab or device is still here
        return bool(client.zrem(users, str(user_id)))
    except redis.RedisError:
        return False


def online_user_ids(course_id: int, *, now: float | None = None) -> set[int]:
    now = time.time() if now is None else now
    try:
        raw = get_redis().zrangebyscore(_keys(course_id)[0], now - ONLINE_SECONDS, "+inf")
    except redis.RedisError:
        return set()
    return {int(item) for item in raw}


def online_count(course_id: int, *, now: float | None = None) -> int:
    now = time.time() if now is None else now
    try:
        return get_redis().zcount(_keys(course_id)[0], now - ONLINE_SECONDS, "+inf")
    except redis.RedisError:
        return 0


def online_members(course_id: int, *, now: float | None = None,
                   limit: int = SHOWN_LIMIT) -> list[tuple[int, str]]:
    """(user id, display name) of up to `limit` people online in the room, by name."""
    ids = online_user_ids(course_id, now=now)
    if not ids:
        return []
    rows = db.session.execute(sa.select(User.id, User.display_name).where(User.id.in_(ids))
                              .order_by(User.display_name, User.id).limit(limit))
    return [(row.id, row.display_name) for row in rows]


def announce(course_id: int, publish) -> None:
    """Publish the room's list soon, once for every change in the next moment.

    The first change in a window claims it in Redis (shared by every process) and publishes
    after the delay what the list is then; later changes in the window are covered by it."""
    delay = float(current_app.config.get("PRESENCE_ANNOUNCE_SECONDS", 1.0))
    key = f"{_keys(course_id)[0]}:announce"
    try:
        claimed = get_redis().set(key, "1", nx=True, px=max(int(delay * 900), 1))
    except redis.RedisError:
        return
    if not claimed:
        return
    app = current_app._get_current_object()

    def later() -> None:
        time.sleep(delay)
        with app.app_context():
            try:
                publish(course_id, online_members(course_id), online_count(course_id))
            finally:
                db.session.remove()

    threading.Thread(target=later, daemon=True, name=f"presence-{course_id}").start()
