"""The `/healthz` verdict: what a load balancer, a container's HEALTHCHECK and an operator read.

- 503 when the database or Redis does not answer: this process cannot serve.
- 200 "degraded" when they answer but no worker or no clock has beaten for
  `HEARTBEAT_STALE_SECONDS` (or ever): pages work, but jobs (webhooks, payouts, mail) and
  periodic work wait. Restarting web processes would not help, so they stay in service.
- 200 "ok" otherwise. With `JOBS_INLINE` jobs run in the web process: worker and clock say
  "inline" and count as fine.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text

from app.extensions import db, get_redis
from app.observability.heartbeats import INLINE, ROLES, process_checks

FINE = frozenset({"ok", INLINE})


@dataclass(frozen=True)
class Health:
    status: str  # ok | degraded
    http_status: int  # 200 | 503
    checks: dict[str, str]


def check_health(*, inline: bool, stale_after: float, now: float) -> Health:
    checks: dict[str, str] = {}
    try:
        db.session.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:  # a health check reports failures instead of raising them
        db.session.rollback()
        checks["database"] = f"error: {type(exc).__name__}"
    client = get_redis()
    try:
        client.ping()
        checks["redis"] = "ok"
        checks.update(process_checks(client, inline=inline, now=now, stale_after=stale_after))
    except Exception as exc:
        checks["redis"] = f"error: {type(exc).__name__}"
        checks.update(dict.fromkeys(ROLES, INLINE if inline else "unknown: Redis does not answer"))
    serving = checks["database"] == "ok" and checks["redis"] == "ok"
    everything = serving and all(checks[role] in FINE for role in ROLES)
    return Health("ok" if everything else "degraded", 200 if serving else 503, checks)
