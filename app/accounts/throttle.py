"""The per-account log-in throttle: after a few wrong passwords for one e-mail address,
each further attempt for it waits twice as long as the last (1, 2, 4 … minutes, up to a
cap), whichever address the attempts come from. The per-IP rate limit cannot stop a guess
spread over many addresses; this does, and it slows only the account being guessed, never
everyone. Unknown addresses are throttled exactly like real ones, so the message reveals
nothing. State lives in Redis (shared by every web process), keyed by a digest of the
normalised address; a successful log-in clears it."""
from __future__ import annotations

import hashlib
import math
from datetime import datetime

from flask import current_app

from app.accounts.errors import LoginThrottled
from app.accounts.queries import normalise_email
from app.extensions import get_redis, redis_key


def _key(email: str) -> str:
    digest = hashlib.sha256(normalise_email(email or "").encode()).hexdigest()[:32]
    return redis_key("login-throttle", digest)


def check_login_allowed(email: str, *, now: datetime) -> None:
    """Raise LoginThrottled while this address must wait."""
    until = get_redis().hget(_key(email), "until")
    wait = float(until) - now.timestamp() if until else 0
    if wait > 0:
        raise LoginThrottled(minutes=math.ceil(wait / 60), retry_after=math.ceil(wait))


def record_login_failure(email: str, *, now: datetime) -> None:
    """Count a wrong password; from the `LOGIN_THROTTLE_FREE_ATTEMPTS`-th on, the address
    waits `LOGIN_THROTTLE_BASE_SECONDS` × 2^(failures past the free ones), at most
    `LOGIN_THROTTLE_MAX_SECONDS`. The count is forgotten a day after the last failure."""
    cfg = current_app.config
    free, base, cap = (cfg["LOGIN_THROTTLE_FREE_ATTEMPTS"], cfg["LOGIN_THROTTLE_BASE_SECONDS"],
                       cfg["LOGIN_THROTTLE_MAX_SECONDS"])
    if free <= 0:  # 0 turns the throttle off
        return
    redis, key = get_redis(), _key(email)
    failures = redis.hincrby(key, "failures", 1)
    if failures >= free:
        delay = min(base * 2 ** min(failures - free, 32), cap)
        redis.hset(key, "until", now.timestamp() + delay)
    redis.expire(key, max(cap, 24 * 60 * 60))


def clear_login_failures(email: str) -> None:
    get_redis().delete(_key(email))
