"""What chat messages and direct messages have in common: the text rules and the
per-user flood limit (one rule each, for rooms, DMs, sockets and forms alike)."""
from __future__ import annotations

import time

import redis
from flask import current_app
from markupsafe import Markup

from app.errors import Invalid, TooFast
from app.extensions import get_redis, redis_key
from app.rendering import render_message

MESSAGE_MAX = 2000


def clean_message(body: str | None, *, limit: int = MESSAGE_MAX) -> str:
    """Trimmed text, not empty and at most `limit` characters (NUL characters removed)."""
    body = (body or "").replace("\x00", "").strip()
    if not body:
        raise Invalid("Write a message first.", field="body")
    if len(body) > limit:
        raise Invalid(f"Keep messages under {limit:,} characters (this one has {len(body):,}).",
                      field="body")
    return body


def message_html(body: str) -> Markup:
    """Markdown-light (links, code, line breaks), sanitised: user HTML is shown inert."""
    return render_message(body)


def check_flood(user_id: int, scope: str = "messages", *, now: float | None = None) -> None:
    """At most MESSAGE_RATE_COUNT messages per MESSAGE_RATE_SECONDS per user (fixed windows
    in Redis, shared by every process); raises TooFast with the wait."""
    count = current_app.config.get("MESSAGE_RATE_COUNT", 10)
    period = current_app.config.get("MESSAGE_RATE_SECONDS", 10)
    if not count:
        return
    now = time.time() if now is None else now
    window = int(now // period)
    key = redis_key("flood", scope, user_id, window)
    try:
        pipe = get_redis().pipeline()
        pipe.incr(key)
        pipe.expire(key, period + 1)
        used = pipe.execute()[0]
    except redis.RedisError:  # the limiter fails open rather than silencing everyone
        return
    if used > count:
        wait = int(period - (now % period)) + 1
        raise TooFast(f"You are sending messages too fast. Wait {wait} s and try again.",
                      field="body", retry_after=wait)
