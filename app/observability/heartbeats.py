"""Heartbeats of the processes beside the web ones: RQ workers (`python worker.py`) and the
clock (`python worker.py --cron`).

Each writes the time into its role's Redis key (under `CHANNEL_PREFIX`) from its own main
loop, every `HEARTBEAT_SECONDS`: a worker between jobs and while one runs (RQ's own heartbeat,
extended), the clock after each round of enqueuing. A clock or worker that is alive but stuck
stops beating. The key outlives its process by a week, so `/healthz` can tell "not seen for
300s" from "never seen"; one key per role, written by every process of that role, says when
any of them was last seen.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator

import redis

from app.extensions import redis_key
from app.observability.metrics import Metric, Source, gauge

ROLES = ("worker", "clock")
KEEP_SECONDS = 7 * 24 * 3600
INLINE = "inline"  # JOBS_INLINE: jobs run in the web process, no worker or clock is needed
NEVER = "never seen"


def heartbeat_key(role: str) -> str:
    return redis_key("heartbeat", role)


def beat(client: redis.Redis, key: str, *, now: float) -> None:
    """Record that a process of the key's role is alive now (`client` may be a pipeline)."""
    client.set(key, repr(now), ex=KEEP_SECONDS)


def last_seen(client: redis.Redis) -> dict[str, float | None]:
    """When each role last beat (a Unix time), or None if never (or not for a week)."""
    values = client.mget([heartbeat_key(role) for role in ROLES])
    return {role: float(value) if value is not None else None for role, value in zip(ROLES, values, strict=True)}


def describe(seen: float | None, *, now: float, stale_after: float) -> str:
    """`ok`, `not seen for Ns`, or `never seen`."""
    if seen is None:
        return NEVER
    age = now - seen
    return "ok" if age <= stale_after else f"not seen for {int(age)}s"


def process_checks(client: redis.Redis, *, inline: bool, now: float, stale_after: float) -> dict[str, str]:
    """The worker's and the clock's line in `/healthz`."""
    if inline:
        return dict.fromkeys(ROLES, INLINE)
    return {role: describe(seen, now=now, stale_after=stale_after) for role, seen in last_seen(client).items()}


def heartbeat_figures(client: redis.Redis, *, inline: bool, now_fn: Callable[[], float]) -> Source:
    """A scrape-time source: seconds since each role last beat (no series for a role never
    seen, nor with JOBS_INLINE)."""

    def heartbeats() -> Iterator[Metric]:
        if inline:
            return []
        now = now_fn()
        ages = {role: max(0.0, now - seen) for role, seen in last_seen(client).items() if seen is not None}
        return [gauge("lyceum_heartbeat_age_seconds", "Seconds since a worker or the clock last beat",
                      "role", ages)]

    return heartbeats
